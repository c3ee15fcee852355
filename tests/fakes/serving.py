"""The serving loop of the fakes that run a stdlib HTTP server in a thread.

`serve_forever` looks for a shutdown request every 0.5 s by default, so each such fake cost a test
up to half a second at exit; it looks every 20 ms here."""

from __future__ import annotations

import socketserver

POLL_SECONDS = 0.02


def serve(server: socketserver.BaseServer) -> None:
    server.serve_forever(poll_interval=POLL_SECONDS)
