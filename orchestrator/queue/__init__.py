"""Scale-out: front ends enqueue messages on Redis Streams; `orchestrator worker` processes answer.

Chats are hashed onto partitions (one stream each); a partition is read by one worker at a time
under a lease, so one chat's messages are answered in arrival order while other partitions run
in parallel. A dead worker's unacknowledged entries are claimed (`XAUTOCLAIM`) by the worker that
takes its partitions over; per-part "sent" markers (`outbox`) stop a retried job from posting twice.
"""
