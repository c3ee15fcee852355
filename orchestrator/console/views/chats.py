"""Chats: each chat's policy, its /allow and /deny rules (editable here), turns kept, waiting
plans and today's tokens; forgetting a chat's long-term memory is guarded by typing its key."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.admin.chat_rules import ALLOW_KEY, DENY_KEY
from orchestrator.console.pages import acting, audited, back, console_of, render, signed_in

PATTERN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/*.")


def _list(raw: str | None) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except json.JSONDecodeError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


async def chats(request: Request) -> Response:
    person = signed_in(request)
    host = console_of(request).host
    sessions, budgets = host.services.sessions, host.services.budgets
    keys = getattr(sessions, "keys", None)
    known = set(await keys()) if keys is not None else set()
    known |= set(host.config.chats)
    rows: list[dict[str, Any]] = []
    for key in sorted(known):
        session = await sessions.load(key)
        policy = host.config.policy_for(key)
        tokens = 0
        if budgets is not None:
            tokens = await budgets.counters.get(f"chat:{key}:{budgets.clock.now().date()}")
        rows.append(
            {
                "key": key,
                "policy": policy,
                "allow": _list(session.settings.get(ALLOW_KEY)),
                "deny": _list(session.settings.get(DENY_KEY)),
                "turns": len(session.turns),
                "pending": len(session.pending),
                "tokens": tokens,
            }
        )
    memory = host.services.memory is not None
    return render(request, "chats", person, rows=rows, memory=memory)


async def chat_action(request: Request) -> Response:
    person, form = await acting(request)
    action = request.path_params["action"]
    key = str(form.get("chat", ""))
    host = console_of(request).host
    if action in ("allow", "deny"):
        pattern = str(form.get("pattern", "")).strip()
        if not pattern or len(pattern) > 100 or not set(pattern) <= PATTERN_CHARS:
            return back(
                request, "/dashboard/chats", "Give a pattern: server/tool, server/* or server."
            )
        listed = await host.chat_rules.change(key, pattern, allow=action == "allow")
        audited(person, f"chat_{action}", f"{key} {pattern}")
        return back(request, "/dashboard/chats", f"{key}: {action}ed {', '.join(listed)}")
    if action == "forget":
        if str(form.get("confirm", "")).strip() != key:
            return back(
                request, "/dashboard/chats", f"Type {key} to confirm forgetting its memory."
            )
        memory = host.services.memory
        if memory is None:
            return back(request, "/dashboard/chats", "Long-term memory is off.")
        removed = await memory.forget_chat(key)
        audited(person, "chat_forget", f"{key} memories={removed}")
        return back(request, "/dashboard/chats", f"Forgot {removed} memories of {key}.")
    raise HTTPException(404)
