"""The admin console (issue 33): server-rendered pages over the stores the bot uses.

`auth` signs the one-time sign-in links and keeps the session cookie and CSRF token; `host`
names what the console needs of the running app; one module per page under `views/`; the
`/dashboard` chat command in `command`; `routes.console_app` joins them under `/dashboard`.
"""
