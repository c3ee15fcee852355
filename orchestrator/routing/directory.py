"""The tool directory: every allowed tool the model did not get a full schema for, by server.

One line per server: the server's name, a one-line description and its tool names, e.g.

    Tools you can load with search_tools(names=[...]) or find with search_tools(query=...):
    - xero (Xero MCP Server; 45 more): list-invoices, create-invoice, ...

Names are written as the model calls them (the qualified, LLM-safe name is `server__tool`
where the core's name map says so; the meta-tool accepts either). A catalogue too large for the
token budget keeps its best-ranked servers' names and shortens the rest to a count, so every
server stays visible and `search_tools(query=...)` reaches the tools not named.
"""

from __future__ import annotations

import functools
import logging
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.text import STOPWORDS, words
from orchestrator.sessions.model import estimate_tokens

log = logging.getLogger(__name__)

HEADER = (
    "More tools you may use (not loaded yet): load any by name with "
    "search_tools(names=[...]), or describe what you need with search_tools(query=...)."
)
DEFAULT_BUDGET = 4000  # tokens (LiveMCPBench: 527 tools of 70 servers fit in about 3,800)
SUMMARY_WORDS = 6
SUMMARY_CHARS = 60


@dataclass(frozen=True, slots=True)
class Directory:
    text: str
    tokens: int
    servers: int
    named: int  # tools listed by name (the rest are counted per server)


@dataclass(frozen=True, slots=True)
class ServerGroup:
    """One server's tools with their MCP names (`raw`) and the names the model calls them."""

    tools: tuple[ToolSpec, ...]
    raw: tuple[str, ...]
    names: tuple[str, ...]

    def without(self, keys: AbstractSet[str]) -> ServerGroup:
        kept = [i for i, t in enumerate(self.tools) if t.key not in keys]
        return ServerGroup(
            tuple(self.tools[i] for i in kept),
            tuple(self.raw[i] for i in kept),
            tuple(self.names[i] for i in kept),
        )


@dataclass(frozen=True, slots=True)
class ToolGroups:
    """A catalogue by server, in catalogue order. Built once per catalogue and chat policy
    (the core keeps them), so a message's directory is a pass over servers, not over every
    tool (500 tools: about 1 ms a message otherwise)."""

    servers: Mapping[str, ServerGroup]

    @classmethod
    def of(cls, tools: Sequence[ToolSpec], name_of: Callable[[ToolSpec], str]) -> ToolGroups:
        by_server: dict[str, list[ToolSpec]] = {}
        for tool in tools:
            by_server.setdefault(tool.server, []).append(tool)
        return cls(
            {
                server: ServerGroup(
                    tuple(group), tuple(t.name for t in group), tuple(name_of(t) for t in group)
                )
                for server, group in by_server.items()
            }
        )


def server_line(name: str = "", title: str | None = None, instructions: str | None = None) -> str:
    """What a server says about itself in `initialize`, as one line: its serverInfo title (or
    name) and the first line of its instructions."""
    first = next(
        (ln.strip("# ").strip() for ln in (instructions or "").splitlines() if ln.strip()), ""
    )
    head = (title or name or "").strip()
    return f"{head}. {first}".strip(". ") if first else head


def server_summary(server: str, tools: Sequence[ToolSpec], described: str = "") -> str:
    """A server's one-line description: what it says about itself (`initialize`), else the
    words its tools' names share most (e.g. 'invoice, contact, timesheet')."""
    return _summary(server, tuple(t.name for t in tools), described)


@functools.lru_cache(maxsize=1024)
def _summary(server: str, names: tuple[str, ...], described: str) -> str:
    if described.strip():
        return textwrap.shorten(described, SUMMARY_CHARS, placeholder="...")
    server_words = set(words(server).lower().split())
    counts: Counter[str] = Counter()
    for name in names:
        for word in set(words(name).lower().split()):
            if word not in STOPWORDS and word not in server_words and len(word) > 2:
                counts[word] += 1
    common = sorted(counts, key=lambda w: (-counts[w], w))[:SUMMARY_WORDS]
    return ", ".join(common)


@functools.lru_cache(maxsize=1024)
def _server_lines(
    server: str, raw: tuple[str, ...], names: tuple[str, ...], described: str
) -> tuple[str, str, int, int]:
    """A server's directory line with its tool names (`names`, as the model calls them) and
    with a count, and their prompt tokens; `raw` are the MCP names the summary reads."""
    summary = _summary(server, raw, described)
    head = f"- {server}" + (f" ({summary})" if summary else "")
    full, short = f"{head}: {', '.join(names)}", f"{head}: {len(names)} tools, find them by query"
    return full, short, estimate_tokens(full) + 1, estimate_tokens(short) + 1


def build_directory(
    tools: Sequence[ToolSpec] | ToolGroups,
    offered: Sequence[ToolSpec] = (),
    *,
    descriptions: Mapping[str, str] | None = None,
    name_of: Callable[[ToolSpec], str] | None = None,
    budget: int = DEFAULT_BUDGET,
    order: Sequence[str] = (),
) -> Directory:
    """The directory of `tools` minus `offered` (those already sent as full schemas).

    `tools`: the allowed tools, or their `ToolGroups` (then `name_of` is not used: the groups
    hold the names); `descriptions`: server -> what the server says about itself; `name_of` how
    a tool is named to the model (default: its MCP name); `order`: servers best-ranked first for
    this message (those keep their names when the budget is short; default: catalogue order)."""
    if not isinstance(tools, ToolGroups):
        tools = ToolGroups.of(tools, name_of or (lambda t: t.name))
    sent = {t.key for t in offered}
    touched = {t.server for t in offered}
    by_server: dict[str, ServerGroup] = {}
    for server, group in tools.servers.items():
        kept = group.without(sent) if server in touched else group
        if kept.tools:
            by_server[server] = kept
    if not by_server:
        return Directory("", 0, 0, 0)
    describe = descriptions or {}
    rank = {s: i for i, s in enumerate(order)}
    servers = sorted(by_server, key=lambda s: rank.get(s, len(rank)))
    lines: dict[str, tuple[str, str]] = {}  # server -> (line with names, line with a count)
    cost: dict[str, tuple[int, int]] = {}  # their prompt tokens
    for server in servers:
        group = by_server[server]
        with_names, with_count, names_cost, count_cost = _server_lines(
            server, group.raw, group.names, describe.get(server, "")
        )
        lines[server], cost[server] = (with_names, with_count), (names_cost, count_cost)
    tokens = estimate_tokens(HEADER) + sum(full for full, _ in cost.values())
    short: set[str] = set()
    for server in reversed(servers):  # shorten the servers ranked last until the text fits
        if tokens <= budget:
            break
        short.add(server)
        tokens += cost[server][1] - cost[server][0]
    text = "\n".join([HEADER, *(lines[s][1] if s in short else lines[s][0] for s in servers)])
    named = sum(len(by_server[s].tools) for s in servers if s not in short)
    log.debug("tool_directory servers=%d named=%d tokens=%d", len(servers), named, tokens)
    return Directory(text, tokens, len(servers), named)
