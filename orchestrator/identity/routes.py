"""`/oauth/callback`: where the authorization server sends the person's browser back."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from orchestrator.identity.signins import SignInBook

CALLBACK_PATH = "/oauth/callback"

PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Sign-in</title></head>"
    "<body><p>{text}</p></body></html>"
)


def callback_url(base_url: str) -> str:
    return base_url.rstrip("/") + CALLBACK_PATH


def oauth_routes(signins: SignInBook) -> list[BaseRoute]:
    async def callback(request: Request) -> HTMLResponse:
        params = request.query_params
        outcome = await signins.complete(
            params.get("state", ""),
            params.get("code", ""),
            params.get("iss"),
            params.get("error", ""),
        )
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        return HTMLResponse(PAGE.format(text=escape(outcome.text)), outcome.status, headers=headers)

    return [Route(CALLBACK_PATH, callback, methods=["GET"])]


def identity_routes(services: object) -> list[BaseRoute]:
    """The callback route when the running app has OAuth servers (`process_routes` adds these),
    else none."""
    gate = getattr(services, "oauth", None)
    return oauth_routes(gate.signins) if gate is not None else []
