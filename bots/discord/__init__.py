"""The Discord backend (discord.py 2.x), one module per concern.

`client` is the bot (set-up, the command tree) built from layers: `base` (who is asking, is
the bot addressed), `slash` (slash commands and follow-ups), `sending` (each part posted once,
into the right thread), `events` (a message answered once, a dead process's request resumed).
Beside them: `threads`, `files`, `reactions`, `confirm` (the approval buttons), `resume` (what
a request's record holds), `parts` (rendering, typing), `sender` (a queue worker's posts),
`doctor` (`orchestrator doctor`) and `run` (`orchestrator run discord`).

Nothing is imported here, so a worker's `sender` does not load the gateway client.
"""
