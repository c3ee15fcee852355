"""What every page shares: who is signed in, the templates, the CSRF check, the audit line."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from orchestrator.audit import audit
from orchestrator.console.auth import ADMIN, LinkSigner, role_of, same_token
from orchestrator.console.host import ConsoleHost

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
# Autoescape on for every template: chat titles, tool output and audit lines may hold HTML.
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _when(ts: Any) -> str:
    """An epoch time (audit records) as local date and time."""
    try:
        return datetime.fromtimestamp(float(ts)).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError):
        return ""


_env.filters["when"] = _when
templates = Jinja2Templates(env=_env)

NAV = (
    ("overview", "Overview", "/dashboard/"),
    ("schedules", "Schedules", "/dashboard/schedules"),
    ("approvals", "Approvals", "/dashboard/approvals"),
    ("chats", "Chats", "/dashboard/chats"),
    ("audit", "Audit", "/dashboard/audit"),
    ("config", "Config", "/dashboard/config"),
    ("delivery", "Delivery", "/dashboard/delivery"),
    ("usage", "Usage", "/dashboard/usage"),
    ("servers", "Servers", "/dashboard/servers"),
    ("doctor", "Doctor", "/dashboard/doctor"),
)


@dataclass
class Console:
    """The console's state, shared by its endpoints (`request.app.state.console`)."""

    host: ConsoleHost
    signer: LinkSigner
    base_url: str = ""


@dataclass(frozen=True, slots=True)
class Who:
    user: str
    role: str
    csrf: str

    @property
    def can_act(self) -> bool:
        return self.role == ADMIN

    @property
    def bare_id(self) -> str:
        return self.user.split(":", 1)[-1]


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def who(request: Request) -> Who | None:
    """The signed-in person under the running config's roles; None when not signed in."""
    user = request.session.get("user")
    if not user:
        return None
    role = role_of(console_of(request).host.config, str(user))
    if role is None:
        request.session.clear()
        return None
    return Who(str(user), role, str(request.session.get("csrf", "")))


def signed_in(request: Request) -> Who:
    found = who(request)
    if found is None:
        raise HTTPException(303, headers={"Location": "/dashboard/signin"})
    return found


async def acting(request: Request) -> tuple[Who, FormData]:
    """A form post by an admin with its CSRF token; 403 otherwise."""
    person = signed_in(request)
    form = await request.form()
    if not same_token(str(form.get("csrf") or ""), person.csrf):
        log.warning("dashboard_csrf_refused user=%s path=%s", person.user, request.url.path)
        raise HTTPException(403, "missing or wrong CSRF token")
    if not person.can_act:
        log.warning("dashboard_viewer_refused user=%s path=%s", person.user, request.url.path)
        raise HTTPException(403, "viewers cannot act")
    return person, form


def audited(person: Who, action: str, detail: str = "", outcome: str = "ok") -> None:
    """Every console action goes to the audit trail with who did it."""
    platform, _, user = person.user.partition(":")
    audit(
        "dashboard",
        tool=action,
        outcome=outcome,
        detail=detail,
        platform=platform,
        chat_id="dashboard",
        user_id=user,
    )
    log.info("dashboard_action user=%s action=%s outcome=%s", person.user, action, outcome)


def render(request: Request, page: str, person: Who, **context: Any) -> HTMLResponse:
    flash = request.session.pop("flash", "")
    return templates.TemplateResponse(
        request,
        f"{page}.html",
        {"page": page, "nav": NAV, "who": person, "flash": flash, **context},
    )


def back(request: Request, to: str, flash: str = "") -> Response:
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(to, status_code=303)
