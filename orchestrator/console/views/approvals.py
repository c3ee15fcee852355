"""Approvals: the plans waiting for a Run all / Cancel press in any chat, which an admin can
run or cancel here (through the same `/confirm` / `/cancel` command, so a plan runs once
whoever presses first), and the history of who decided."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.admin.audit_read import AuditFilter, read_audit
from orchestrator.console.pages import Who, acting, audited, back, console_of, render, signed_in
from orchestrator.messages import ChatMessage


async def waiting(request: Request) -> list[dict[str, Any]]:
    sessions = console_of(request).host.services.sessions
    keys = getattr(sessions, "keys", None)
    rows: list[dict[str, Any]] = []
    if keys is None:
        return rows
    now = time.time()
    for key in sorted(await keys()):
        session = await sessions.load(key)
        for pid, plan in session.pending.items():
            if plan.expires_at < now:
                continue
            rows.append(
                {
                    "conversation": key,
                    "id": pid,
                    "user": plan.user_id,
                    "request": plan.request,
                    "calls": [c.label for c in plan.calls],
                    "expires": datetime.fromtimestamp(plan.expires_at).astimezone(),
                }
            )
    return rows


def _history(request: Request) -> list[dict[str, Any]]:
    config = console_of(request).host.config
    records = read_audit(config, AuditFilter(since=time.time() - 7 * 86400))
    decided = [
        r
        for r in records
        if r.get("action") == "approval"
        or (r.get("action") == "dashboard" and str(r.get("tool", "")).startswith("approval_"))
    ]
    return list(reversed(decided[-50:]))


async def approvals(request: Request) -> Response:
    person = signed_in(request)
    history = await asyncio.to_thread(_history, request)
    return render(request, "approvals", person, rows=await waiting(request), history=history)


def _message(conversation: str, person: Who, text: str) -> ChatMessage:
    platform, _, rest = conversation.partition(":")
    chat_id, _, thread = rest.partition(":")
    return ChatMessage(
        platform,
        chat_id,
        person.bare_id,
        text,
        user_name=f"{person.user} (console)",
        is_admin=True,  # the console's admins decide for anyone, as admins can in the chat
        thread_id=thread or None,
    )


async def approval_action(request: Request) -> Response:
    person, form = await acting(request)
    action = request.path_params["action"]
    if action not in ("run", "cancel"):
        raise HTTPException(404)
    conversation, pid = str(form.get("conversation", "")), str(form.get("id", ""))
    if not conversation or not pid.isalnum():
        raise HTTPException(400, "conversation and id are required")
    host = console_of(request).host
    command = "confirm" if action == "run" else "cancel"
    message = _message(conversation, person, f"/{command} {pid}")
    replies = await host.handle(message)
    failed = any(r.kind == "error" for r in replies)
    if not failed:  # the chat sees what was decided and the plan's answer
        await host.post(message.platform, message.chat_id, replies, message.thread_id)
    audited(person, f"approval_{action}", f"{conversation} {pid}", "error" if failed else "ok")
    summary = replies[0].text if replies else "done"
    return back(request, "/dashboard/approvals", summary[:300])
