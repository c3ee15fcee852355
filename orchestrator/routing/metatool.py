"""The `search_tools` meta-tool: the model loads tools it was not given (deferred loading),
by exact name from the directory, or by describing what it needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.base import RoutedTool, Router

SEARCH_TOOL_NAME = "search_tools"
MAX_LOAD = 20
MAX_NAMES = 50  # caps on what the model can pass in
MAX_NAME_CHARS = 200
MAX_QUERY_CHARS = 500
Allowed = Callable[[ToolSpec], bool] | None


def search_tool_schema(directory: str = "") -> dict[str, Any]:
    """The meta-tool's function schema; `directory` (`Routing.directory(...).text`), when
    given, is carried in its description, so the catalogue's other tools reach the model as
    tool metadata rather than as instructions."""
    description = (
        "Load tools you were not given. Give `names` to load tools by the names in the "
        "tool directory, or `query` to describe the action you need (e.g. 'create a "
        "task in ClickUp'); the tools found become callable in your next step."
    )
    if directory:
        description = f"{description}\n\n{directory}"
    return {
        "type": "function",
        "function": {
            "name": SEARCH_TOOL_NAME,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {
                    "names": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "exact tool names from the directory",
                    },
                    "query": {"type": "string", "description": "the action you need a tool for"},
                    "limit": {
                        "type": "integer",
                        "description": "how many tools a query returns (1-10)",
                        "default": 5,
                    },
                },
            },
        },
    }


@dataclass(frozen=True, slots=True)
class MetaResult:
    """What the meta-tool tells the model, and the tools that become callable."""

    text: str
    tools: list[ToolSpec] = field(default_factory=list)


async def run_search(router: Router, query: str, limit: int, allowed: Allowed) -> list[RoutedTool]:
    """Route the model's query over the whole catalogue (no margin: it asked explicitly)."""
    vector, parts = await router.request_vectors(query)
    return router.ranking(query, vector, limit=limit, allowed=allowed, part_vectors=parts)


def resolve_names(
    tools: Sequence[ToolSpec],
    names: Sequence[str],
    allowed: Allowed = None,
    name_of: Callable[[ToolSpec], str] | None = None,
) -> tuple[list[ToolSpec], list[str]]:
    """(allowed tools named, names matching none). A name may be the tool's MCP name (every
    allowed tool of that name, across servers), its key `server/tool`, or the name the model
    sees (`name_of`, e.g. the core's `server__tool`); case and separators must match."""
    usable = [t for t in tools if allowed is None or allowed(t)]
    by_name: dict[str, list[ToolSpec]] = {}
    for tool in usable:
        for alias in dict.fromkeys([tool.key, tool.name, *([name_of(tool)] if name_of else [])]):
            by_name.setdefault(alias, []).append(tool)
    found: dict[str, ToolSpec] = {}
    unknown: list[str] = []
    for raw in names:
        name = str(raw).strip()
        matches = by_name.get(name, [])
        if not matches:
            unknown.append(name)
        for tool in matches:
            found.setdefault(tool.key, tool)
    return list(found.values())[:MAX_LOAD], unknown


async def run_meta_tool(
    router: Router,
    arguments: dict[str, Any],
    allowed: Allowed = None,
    name_of: Callable[[ToolSpec], str] | None = None,
) -> MetaResult:
    """The meta-tool's whole call: load `names`, search `query`, or both."""
    raw_names = arguments.get("names") or []
    names = [raw_names] if isinstance(raw_names, str) else list(raw_names)
    names = [str(n)[:MAX_NAME_CHARS] for n in names[:MAX_NAMES]]  # the model fills these freely
    query = str(arguments.get("query") or "").strip()[:MAX_QUERY_CHARS]
    if not names and not query:
        return MetaResult("error: give `names` (from the tool directory) or a `query`")
    loaded, unknown = resolve_names(router.tools, names, allowed, name_of) if names else ([], [])
    if query:
        raw_limit = str(arguments.get("limit") or 5)
        limit = min(max(int(raw_limit), 1), 10) if raw_limit.isdigit() else 5
        found = await run_search(router, query, limit, allowed)
        loaded += [r.tool for r in found if r.tool not in loaded]
    label = name_of or (lambda t: t.name)
    lines = [f"{label(t)}: {' '.join(t.description.split())[:150]}" for t in loaded]
    text = "These tools are now available to call:\n" + "\n".join(lines) if loaded else ""
    if unknown:
        missing = "no allowed tool is named: " + ", ".join(unknown)
        text = f"{text}\n{missing}" if text else missing
    return MetaResult(text or "no matching tools", loaded)
