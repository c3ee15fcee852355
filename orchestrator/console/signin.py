"""The sign-in page (explains how to get a link), redeeming a link, and logout."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from orchestrator.audit import audit
from orchestrator.console.auth import LinkRefused, new_csrf, role_of, same_token
from orchestrator.console.pages import console_of, templates, who

log = logging.getLogger(__name__)


async def signin_page(request: Request) -> Response:
    token = request.query_params.get("token")
    if token:
        return await _redeem(request, token)
    if who(request) is not None:
        return RedirectResponse("/dashboard/", status_code=303)
    return _signin_html(request, "")


def _signin_html(request: Request, problem: str, status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "signin.html", {"problem": problem, "page": "signin"}, status_code=status
    )


async def _redeem(request: Request, token: str) -> Response:
    console = console_of(request)
    try:
        grant = await console.signer.redeem(token)
    except LinkRefused as exc:
        log.warning("dashboard_signin_refused reason=%s", exc)
        audit("dashboard_signin", outcome=f"refused_{exc}", chat_id="dashboard")
        return _signin_html(request, f"This sign-in link is {exc}. Ask the bot for a new one.", 403)
    role = role_of(console.host.config, grant.user)
    if role is None:
        return _signin_html(request, "This account may not use the console.", 403)
    request.session.clear()
    request.session.update({"user": grant.user, "csrf": new_csrf()})
    platform, _, user = grant.user.partition(":")
    audit("dashboard_signin", platform=platform, chat_id="dashboard", user_id=user, detail=role)
    log.info("dashboard_signin user=%s role=%s", grant.user, role)
    return RedirectResponse("/dashboard/", status_code=303)


async def logout(request: Request) -> Response:
    person = who(request)
    form = await request.form()
    if person is not None and not same_token(str(form.get("csrf") or ""), person.csrf):
        return HTMLResponse("missing or wrong CSRF token", status_code=403)
    request.session.clear()
    return RedirectResponse("/dashboard/signin", status_code=303)
