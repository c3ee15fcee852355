"""Config: the running config with every secret masked, the file validated as it is now, a
diff of what a reload would change, and the reload itself."""

from __future__ import annotations

import difflib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from orchestrator.admin.config_view import redacted_config
from orchestrator.config import load_config
from orchestrator.console.pages import acting, audited, back, console_of, render, signed_in
from orchestrator.errors import ConfigError
from orchestrator.reload import changed_paths, needs_restart


def pending_change(running: Any) -> dict[str, Any]:
    """What reloading the file now would do: problems, or the changed keys and a masked diff."""
    if not running.source:
        return {"problems": [], "paths": [], "diff": [], "source": "(embedded default)"}
    try:
        fresh = load_config(running.source)
    except ConfigError as exc:
        return {"problems": list(exc.problems), "paths": [], "diff": [], "source": running.source}
    paths = [p for p in changed_paths(running.model_dump(), fresh.model_dump()) if p]
    diff = difflib.unified_diff(
        redacted_config(running).splitlines(),
        redacted_config(fresh).splitlines(),
        "running",
        "file",
        lineterm="",
    )
    return {
        "problems": [],
        "paths": [{"path": p, "restart": needs_restart(p)} for p in paths],
        "diff": list(diff)[2:],
        "source": running.source,
    }


async def config_page(request: Request) -> Response:
    person = signed_in(request)
    running = console_of(request).host.config
    return render(
        request,
        "config",
        person,
        yaml=redacted_config(running),
        change=pending_change(running),
    )


async def config_reload(request: Request) -> Response:
    person, _form = await acting(request)
    outcome = await console_of(request).host.reload_config()
    audited(person, "config_reload", outcome.text[:200], "ok" if outcome.applied else "rejected")
    return back(request, "/dashboard/config", outcome.text)
