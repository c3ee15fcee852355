"""The Telegram backend (python-telegram-bot 22), one module per concern.

`app` builds the Application and runs it (polling or webhook); `adapter` takes updates in
(exactly once, in each person's order) on top of `working` (a request answered once, typing and
the "Working on it" notice) and `outbound` (each reply part posted once, into its topic).
Beside them: `intake` (updates recorded before they are acknowledged), `topics`, `media` (files
and voice), `reactions`, `render` (Markdown to entities), `sender` (a queue worker's posts),
`webhook`, `doctor` (`orchestrator doctor`) and `network_log`.

Nothing is imported here, so a worker's `sender` does not load the Application.
"""
