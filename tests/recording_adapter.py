"""A chat backend for tests (errbot's test backend in spirit): it records what the core posts."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.messages import Reply


class RecordingAdapter:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sent: list[tuple[str, Reply]] = []
        self.threads: list[str | None] = []  # the topic/thread of each reply in `sent`

    async def send(
        self, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> None:
        self.sent.extend((chat_id, reply) for reply in replies)
        self.threads.extend(thread_id for _ in replies)

    def texts(self, chat_id: str) -> list[str]:
        return [r.text for c, r in self.sent if c == chat_id]
