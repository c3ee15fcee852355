"""The process's one HTTP server: an ASGI app (Starlette) served by uvicorn.

Each part contributes its routes (`/healthz`, `/metrics`, the console under `/dashboard`, the
OAuth callback under `/oauth`); `build_app` joins them and `WebServer` serves the result on the
`http:` section's address, inside the process's own event loop.
"""

from orchestrator.web.server import WebServer, build_app

__all__ = ["WebServer", "build_app"]
