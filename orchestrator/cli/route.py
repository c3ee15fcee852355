"""`orchestrator route [--config FILE | --catalogue FILE.json] [--top-k K] [--json] [QUERY ...]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from orchestrator.cli.common import SubParsers, load_or_report
from orchestrator.errors import ConfigError
from orchestrator.mcp.tools import ToolSpec


def add_route_parser(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("route", help="show which tools the router picks for requests")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", "-c", help="connect the servers of this config")
    source.add_argument("--catalogue", help="JSON file: {server: [MCP tool objects]}")
    parser.add_argument("--top-k", type=int, default=None, help="tools per request")
    parser.add_argument("--json", action="store_true", help="one JSON line per request")
    parser.add_argument(
        "--directory", action="store_true", help="also show the directory of the other tools"
    )
    parser.add_argument("query", nargs="*", help="requests (default: one per line on stdin)")
    parser.set_defaults(func=cmd_route)


def _catalogue(ns: argparse.Namespace) -> tuple[list[ToolSpec], int, float | None] | None:
    if ns.catalogue:
        from orchestrator.routing.catalogue import load_catalogue_file

        try:
            return load_catalogue_file(ns.catalogue), 8, None
        except ConfigError as exc:
            print("\n".join(exc.problems), file=sys.stderr)
            return None
    config = load_or_report(ns.config)
    if config is None:
        return None
    from orchestrator.mcp.hub import connect_catalogue

    routing = config.orchestrator.tool_routing
    # The schema count is decided by the router's calibrated margin; `confidence_threshold`
    # (optional, legacy) adds a plain-cosine floor, as in the running bot.
    return asyncio.run(connect_catalogue(config)), routing.top_k, routing.confidence_threshold


def cmd_route(ns: argparse.Namespace) -> int:
    loaded = _catalogue(ns)
    if loaded is None:
        return 2
    tools, top_k, threshold = loaded
    queries = ns.query or [line.strip() for line in sys.stdin if line.strip()]
    routed = _route_all(tools, queries, ns.top_k or top_k, threshold, ns.json, ns.directory)
    for line in asyncio.run(routed):
        print(line)
    return 0


async def _route_all(
    tools: list[ToolSpec],
    queries: list[str],
    top_k: int,
    threshold: float | None,
    as_json: bool,
    with_directory: bool = False,
) -> list[str]:
    # The bot's own routing embedder (MiniLM on ONNX Runtime and USE-multilingual, no torch),
    # loaded only by this command; each request is routed as the core routes it, steps too.
    from orchestrator.embedding.lazy import LazyEmbedder
    from orchestrator.routing.router import ToolRouter

    router = ToolRouter(LazyEmbedder(multilingual=True), top_k=top_k, threshold=threshold)
    await router.refresh(tools)
    out = []
    for query in queries:
        vector, steps = await router.request_vectors(query)
        routed = router.route(query, vector, part_vectors=steps)
        directory = routed.directory(tools)
        if as_json:
            line = {
                "query": query,
                "tools": [
                    {"server": r.tool.server, "tool": r.tool.name, "score": round(r.score, 4)}
                    for r in routed
                ],
                "directory_tokens": directory.tokens,
            }
            if with_directory:
                line["directory"] = directory.text
            out.append(json.dumps(line))
        else:
            out.append(query)
            out.extend(f"  {r.score:.3f}  {r.tool.key}" for r in routed)
            out.append(f"  + directory of {directory.named} more tools ({directory.tokens} tokens)")
            if with_directory:
                out.extend(f"    {row}" for row in directory.text.splitlines())
    return out
