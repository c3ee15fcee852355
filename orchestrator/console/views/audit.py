"""Audit: the trail with filters (since, chat, user, action) and a JSON export of the same."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from orchestrator.admin.audit_read import AuditFilter, parse_since, read_audit
from orchestrator.console.pages import console_of, render, signed_in

SHOWN = 500


def _filtered(request: Request) -> tuple[dict[str, str], list[dict[str, Any]], str]:
    params = {
        k: request.query_params.get(k, "").strip() for k in ("since", "chat", "user", "action")
    }
    problem = ""
    since = None
    try:
        since = parse_since(params["since"] or "1d", time.time())
    except ValueError as exc:
        problem = str(exc)
    keep = AuditFilter(since=since, chat=params["chat"] or None, user=params["user"] or None)
    records = read_audit(console_of(request).host.config, keep)
    if params["action"]:
        records = [r for r in records if r.get("action") == params["action"]]
    return params, list(reversed(records[-SHOWN:])), problem


async def audit_page(request: Request) -> Response:
    person = signed_in(request)
    params, records, problem = await asyncio.to_thread(_filtered, request)
    for r in records:
        r["when"] = datetime.fromtimestamp(float(r.get("ts", 0))).astimezone()
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return render(
        request, "audit", person, params=params, records=records, problem=problem, query=query
    )


async def audit_json(request: Request) -> Response:
    signed_in(request)
    _params, records, problem = await asyncio.to_thread(_filtered, request)
    if problem:
        return JSONResponse({"error": problem}, status_code=400)
    return JSONResponse(
        records, headers={"Content-Disposition": 'attachment; filename="audit.json"'}
    )
