"""Prometheus metrics (prefix `orchestrator_`): one registry per process, served on `/metrics`.

The parts call the small functions below; labels are bounded values only (platform, outcome,
server and tool names from the config's catalogue, model names from the config), never a chat,
a user, their text or a secret. Live values (MCP server state) are read when scraped, through
`watch_servers`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: a slash command answers in milliseconds, a model call in seconds, a tool in between.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

MESSAGES = Counter(
    "orchestrator_messages",
    "Messages handled, by platform and outcome (ok, error, refused)",
    ["platform", "outcome"],
    registry=REGISTRY,
)
HANDLE_SECONDS = Histogram(
    "orchestrator_handle_seconds",
    "Time to answer one message",
    ["platform"],
    buckets=_FAST,
    registry=REGISTRY,
)
MODEL_CALL_SECONDS = Histogram(
    "orchestrator_model_call_seconds",
    "Time of one LLM call",
    ["model"],
    buckets=_FAST,
    registry=REGISTRY,
)
TOKENS = Counter(
    "orchestrator_llm_tokens",
    "LLM tokens as the API reported them, by model",
    ["model"],
    registry=REGISTRY,
)
TOOL_CALLS = Counter(
    "orchestrator_tool_calls",
    "MCP tool calls by server, tool and outcome",
    ["server", "tool", "outcome"],
    registry=REGISTRY,
)
TOOL_CALL_SECONDS = Histogram(
    "orchestrator_tool_call_seconds",
    "Time of one MCP tool call",
    ["server"],
    buckets=_FAST,
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "orchestrator_duplicates_dropped",
    "Platform events dropped as duplicates",
    ["platform"],
    registry=REGISTRY,
)
RESUMES = Counter(
    "orchestrator_requests_resumed",
    "Requests resumed after their process died",
    ["platform"],
    registry=REGISTRY,
)
UNCONFIRMED = Counter(
    "orchestrator_unconfirmed_sends",
    "Reply parts whose delivery no one can confirm (a worker died mid-send)",
    ["action"],
    registry=REGISTRY,
)
SCHEDULE_RUNS = Counter(
    "orchestrator_schedule_runs",
    "Scheduled runs by outcome (ok, failed)",
    ["outcome"],
    registry=REGISTRY,
)
BUDGET_REFUSALS = Counter(
    "orchestrator_budget_refusals",
    "Requests refused because a token budget was spent",
    ["platform"],
    registry=REGISTRY,
)
QUEUE_LAG_SECONDS = Histogram(
    "orchestrator_queue_lag_seconds",
    "Time a queued job waited before a worker took it, by partition",
    ["partition"],
    buckets=_FAST,
    registry=REGISTRY,
)


def message_handled(platform: str, outcome: str, seconds: float) -> None:
    MESSAGES.labels(platform, outcome).inc()
    HANDLE_SECONDS.labels(platform).observe(seconds)


def model_called(model: str, seconds: float, tokens: int) -> None:
    MODEL_CALL_SECONDS.labels(model or "unknown").observe(seconds)
    if tokens:
        TOKENS.labels(model or "unknown").inc(tokens)


def tool_called(server: str, tool: str, outcome: str, seconds: float) -> None:
    TOOL_CALLS.labels(server, tool, outcome).inc()
    TOOL_CALL_SECONDS.labels(server).observe(seconds)


def duplicate_dropped(platform: str) -> None:
    DUPLICATES.labels(platform).inc()


def request_resumed(platform: str) -> None:
    RESUMES.labels(platform).inc()


def unconfirmed_send(action: str) -> None:
    UNCONFIRMED.labels(action).inc()


def schedule_ran(outcome: str) -> None:
    SCHEDULE_RUNS.labels(outcome).inc()


def budget_refused(platform: str) -> None:
    BUDGET_REFUSALS.labels(platform).inc()


def queue_lag(partition: int, seconds: float) -> None:
    QUEUE_LAG_SECONDS.labels(str(partition)).observe(max(seconds, 0.0))


@contextmanager
def timed() -> Iterator[Callable[[], float]]:
    """`with timed() as elapsed:` ... `elapsed()` seconds since the block began."""
    started = time.monotonic()
    yield lambda: time.monotonic() - started


class _ServerCollector(Collector):
    """`orchestrator_mcp_server_up` and `_restarts`, read from the hub when scraped."""

    def __init__(self, statuses: Callable[[], Iterable[Any]]) -> None:
        self.statuses = statuses

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "orchestrator_mcp_server_up", "1 when the MCP server is up", labels=["server"]
        )
        restarts = GaugeMetricFamily(
            "orchestrator_mcp_server_restarts",
            "Restarts of the MCP server since this process started",
            labels=["server"],
        )
        for status in self.statuses():
            up.add_metric([status.name], 1.0 if status.state == "up" else 0.0)
            restarts.add_metric([status.name], float(status.restarts))
        yield up
        yield restarts

    def describe(self) -> Iterator[Metric]:
        return iter(())


_watched: list[_ServerCollector] = []


def watch_servers(statuses: Callable[[], Iterable[Any]]) -> None:
    """Report these MCP servers' state on every scrape (the latest hub replaces an earlier)."""
    for old in _watched:
        REGISTRY.unregister(old)
    _watched.clear()
    collector = _ServerCollector(statuses)
    REGISTRY.register(collector)
    _watched.append(collector)


def exposition() -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(REGISTRY)


def totals(counter: Counter) -> dict[str, float]:
    """This process's totals of a counter, by its first label (for the console)."""
    found: dict[str, float] = {}
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                label = next(iter(sample.labels.values()), "")
                found[label] = found.get(label, 0.0) + sample.value
    return found
