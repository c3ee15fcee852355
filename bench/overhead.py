"""The core's own cost per message against the one thing it must compute: the embedding.

`python -m bench.overhead` (`make bench-overhead`, Redis at 127.0.0.1:6379) writes
bench/results/overhead.md and prints it. One child process measures, in one run:

- the bare ceiling: the ONNX MiniLM's `encode` of one message (p50 over MetaTool queries) and
  its best throughput over batch sizes 1..64; and the encode a message really needs, the
  message with its steps (`request_parts`, what the router embeds: 3.2 texts a MetaTool query
  on average), against which the proposed gates are measured, for the very messages the
  request path is timed on; and, as a diagnostic, those encodes timed again, each right after
  another message's handling (untimed): the state the app's own encode meets, and how far the
  ceiling itself moves within one run on a shared machine; and the memory recall alone (the
  app's store, Chroma in its worker thread) for the same messages;
- the full request path, `Orchestrator.handle` as `build_orchestrator` wires it: real Redis
  sessions and token counters (own key prefix, deleted afterwards), real Chroma memory
  persisted in a temp dir (10,000 memories in the measured chat), the real embedder and router
  over a 500-tool LiveMCPBench catalogue. Only the LLM and the tools are stand-ins that answer
  at once (the LLM calls the first offered tool, then answers: one tool round trip a message).
  One chat at a time: per-message latency p50/p99; 100 chats at once: messages per second,
  after one message in each chat (the cold pass, reported apart: it opens every chat's Chroma
  collection, about 60 ms each, once per process);
- the same gate with its ceiling interleaved: each message's encode timed right before its
  handling;
- RSS after the warm-up and after the runs;
- with the process's HTTP server on (`http:`: the console and /metrics) throughout, and
  one scrape of /metrics at the end.

Two more children time the start: interpreter start to `Orchestrator.start()` returned (MCP
servers up, model loaded: the first message is answerable) and to that first reply, with the
embedded config and with a 5-server config (all real stdio MCP servers).

Memory vectors: 1,000 distinct MetaTool queries are embedded; the 10,000 memories are those
vectors with small noise (cosine ~0.95 to their source), so Chroma holds 10,000 distinct points
without a two-minute encode. Each concurrent chat holds 100 such memories (100 x 10,000 would be
a million vectors on disk; recall cost grows with log(size) in HNSW, but Chroma keeps every
touched chat's index resident, ~4.6 MB per 1,000 memories, and the start-up retention pass
touches every chat).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

from bench.machine import machine_lines, rss_mb

ROOT = Path(__file__).resolve().parents[1]
DATA = next(
    (p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
    ROOT.parent / "shared" / "data",
)
RESULTS = ROOT / "bench" / "results" / "overhead.md"
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or os.environ.get(
    "REDIS_URL", "redis://127.0.0.1:6379/0"
)
SEED = 20261130
CATALOGUE = 500
MEMORIES = 10_000
DISTINCT = 1_000  # embedded texts behind the memories
CHAT_MEMORIES = 100  # per chat in the concurrent run
SINGLE = int(os.environ.get("BENCH_SINGLE", "300"))  # sequential messages (after warm-up)
CHATS = 100
PER_CHAT = int(os.environ.get("BENCH_PER_CHAT", "5"))
BATCHES = (1, 2, 4, 8, 16, 32, 64)
NOISE = 0.018  # per-dimension sigma: cosine ~0.95 between a memory and its source vector


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# -- stand-ins --------------------------------------------------------------------------------
class InstantHub:
    """A ToolHub over a fixed catalogue whose every call returns at once."""

    version = 1

    def __init__(self, tools: list[Any]) -> None:
        self._tools = tools

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def catalogue(self) -> list[Any]:
        return list(self._tools)

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> Any:
        from orchestrator.mcp.tools import ToolResult

        return ToolResult(f"{server}/{tool}: ok")

    def status(self) -> list[Any]:
        from orchestrator.mcp.base import ServerStatus

        return [ServerStatus("bench", "up", len(self._tools))]


class InstantLLM:
    """An LLM that calls the first offered tool, then answers; no time passes."""

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        from orchestrator.llm.base import LLMTurn, ToolCall

        usage = {"prompt_tokens": 200, "completion_tokens": 10, "total_tokens": 210}
        if messages[-1].get("role") != "tool" and tools:
            name = tools[0]["function"]["name"]
            return LLMTurn(None, (ToolCall("call_1", name, {}, "{}"),), usage, "tool_calls")
        return LLMTurn("Done: here is what the tool said.", (), usage)


# -- data -------------------------------------------------------------------------------------
def catalogue() -> list[Any]:
    from orchestrator.mcp.tools import ToolSpec

    tools, seen = [], set()
    for server in json.loads((DATA / "livemcpbench" / "tools.json").read_text()):
        for key, entry in server["tools"].items():
            for tool in entry["tools"]:
                spec = ToolSpec(
                    key, tool["name"], tool.get("description") or "", tool.get("inputSchema") or {}
                )
                if spec.key not in seen:
                    seen.add(spec.key)
                    tools.append(spec)
    return tools[:CATALOGUE]


def queries() -> list[str]:
    with (DATA / "metatool-toole" / "all_clean_data.csv").open(newline="") as handle:
        rows = [r["Query"] for r in csv.DictReader(handle)]
    random.Random(SEED).shuffle(rows)
    return rows


def write_config(path: Path, memory_dir: Path, prefix: str) -> Path:
    path.write_text(
        f"""
orchestrator:
  name: bench
  llm_settings: {{provider: openai, base_url: "http://127.0.0.1:9/v1", api_key: bench,
                  model: bench}}
  memory_system: {{type: chromadb, persist_directory: "{memory_dir}", max_items_per_chat: 20000}}
  tool_routing: {{strategy: semantic, confidence_threshold: 0.3, top_k: 8}}
mcp_servers: {{}}
sessions: {{backend: redis, url: "{REDIS_URL}", key_prefix: "{prefix}"}}
scheduler: {{enabled: false}}
limits: {{messages_per_minute_per_user: 1000000}}
audit: {{backend: redis}}
http: {{host: 127.0.0.1, port: 0}}
"""
    )
    return path


async def http_paired(
    orchestrator: Any, message: Any, blocks: int = 8, per_block: int = 25
) -> tuple[list[float], list[float]]:
    """The HTTP server's own cost, paired: blocks of messages alternately with the process's
    server (console, /metrics) listening and scraped once a block, and with it stopped, so the
    machine's drift falls on both sides alike. Per-message seconds (on, off)."""
    from orchestrator.web.server import WebServer

    web = orchestrator.web
    app = web.server.app
    on: list[float] = []
    off: list[float] = []
    for block in range(blocks):
        serving = block % 2 == 0
        if serving and web.server is None:
            web.server = WebServer(app, web.settings)
            await web.server.start()
        elif not serving and web.server is not None:
            await web.server.stop()
            web.server = None
        for n in range(per_block):
            started = time.perf_counter()
            await orchestrator.handle(message("main", 6000 + block * per_block + n))
            (on if serving else off).append(time.perf_counter() - started)
        if serving:
            await scrape_metrics(orchestrator)
    if web.server is None:
        web.server = WebServer(app, web.settings)
        await web.server.start()
    return on, off


def http_rows(run: dict[str, Any]) -> list[str]:
    """The console's cost (issue 33: the overhead gates hold with it on), paired blocks."""
    on, off = run.get("http_on_ms"), run.get("http_off_ms")
    if not on or not off:
        return []
    p50_on, p50_off = statistics.median(on), statistics.median(off)
    return [
        f"| one chat at a time, p50 per message, HTTP server on and scraped (paired blocks) | "
        f"{p50_on:.1f} ms | {p50_off:.1f} ms (the same, server stopped; {len(on)} messages "
        f"each, alternating blocks) | {p50_on / p50_off:.2f}x | (the console's own cost) | |",
    ]


async def scrape_metrics(orchestrator: Any) -> dict[str, float]:
    """One Prometheus scrape of the process's own HTTP server (`http:` above, as shipped): the
    console and /metrics ran through every measurement; the counters show they saw the work."""
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{orchestrator.web.server.port}/metrics"
    text = await asyncio.to_thread(lambda: urlopen(url, timeout=10).read().decode())
    # (tool calls go to the stand-in hub here, which the tool-call metrics do not see)
    wanted = {"orchestrator_messages_total", "orchestrator_handle_seconds_count"}
    totals = dict.fromkeys(wanted, 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted:
                totals[sample.name] += sample.value
    return totals


def fill_memory(store: Any, chat_key: str, base: Any, texts: list[str], count: int) -> None:
    """`count` memories in the chat's collection: jittered copies of the embedded texts."""
    import numpy as np

    from orchestrator.memory.base import Memory
    from orchestrator.memory.chroma_store import _metadata

    rng = np.random.default_rng(zlib.crc32(chat_key.encode()))
    collection = store._collection(chat_key)
    now = time.time()
    for start in range(0, count, 2000):
        rows = range(start, min(count, start + 2000))
        source = [i % len(base) for i in rows]
        vectors = base[source] + rng.normal(0, NOISE, (len(source), base.shape[1]))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        items = [
            Memory(
                id="",
                chat_key=chat_key,
                user_id=f"u{i % 7}",
                request=texts[s],
                summary="Done: here is what the tool said.",
                tools_used=("bench/tool",),
                success=True,
                timestamp=now - i,
            )
            for i, s in zip(rows, source, strict=True)
        ]
        collection.add(
            ids=[f"m{i}" for i in rows],
            embeddings=vectors.astype(np.float32),
            documents=[m.request for m in items],
            metadatas=[_metadata(m) for m in items],
        )


# -- child: the memories (a process of their own: the measured one opens them from disk) ----
def fill(memory_dir: Path) -> dict[str, Any]:
    from orchestrator.config import MemorySettings
    from orchestrator.embedding.onnx_minilm import get_onnx_embedder
    from orchestrator.memory.chroma_store import ChromaMemoryStore

    texts = queries()[:DISTINCT]
    started = time.perf_counter()
    base = get_onnx_embedder().encode(texts)
    store = ChromaMemoryStore(MemorySettings(type="chromadb", persist_directory=str(memory_dir)))
    fill_memory(store, "bench:main", base, texts, MEMORIES)
    for n in range(CHATS):
        fill_memory(store, f"bench:c{n:03d}", base, texts, CHAT_MEMORIES)
    return {"fill_s": time.perf_counter() - started}


# -- child: the measurement -------------------------------------------------------------------
async def measure(memory_dir: Path) -> dict[str, Any]:
    import redis.asyncio as aioredis

    from orchestrator.admin.budgets import MeteredLLM
    from orchestrator.app import build_orchestrator
    from orchestrator.config import load_config
    from orchestrator.embedding.onnx_minilm import get_onnx_embedder
    from orchestrator.messages import ChatMessage

    texts = queries()
    messages = texts[DISTINCT:]
    embedder = await asyncio.to_thread(get_onnx_embedder)

    # The bare ceiling.
    for text in messages[:20]:
        embedder.encode([text])
    from orchestrator.routing.text import request_parts

    single, texts_per_message = [], []
    for text in messages[20:220]:
        started = time.perf_counter()
        embedder.encode([text])
        single.append(time.perf_counter() - started)
        texts_per_message.append(1 + len(request_parts(text)))  # what the router embeds
    throughput = {}
    # The model's best, not the app's setting: no cap on token slots a run (the app caps them
    # to bound ONNX Runtime's resident arena, see MAX_BATCH_TOKENS).
    capped, embedder.max_batch_tokens = embedder.max_batch_tokens, 64 * 256
    for batch in BATCHES:
        sample = messages[:256] if batch < 64 else messages[:512]
        embedder.encode(sample[:batch], batch_size=batch)
        started = time.perf_counter()
        embedder.encode(sample, batch_size=batch)
        throughput[batch] = len(sample) / (time.perf_counter() - started)
    embedder.max_batch_tokens = capped

    prefix = f"bench-overhead-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        config = load_config(write_config(tmp / "bench.yaml", memory_dir, prefix))
        orchestrator = build_orchestrator(config)
        services = orchestrator.services
        services.hub = InstantHub(catalogue())
        services.llm = MeteredLLM(InstantLLM())
        chats = [f"c{n:03d}" for n in range(CHATS)]
        await orchestrator.start()

        def message(chat: str, n: int, user: str = "u1") -> ChatMessage:
            return ChatMessage("bench", chat, user, messages[n % len(messages)], "Ann")

        # Warm-up: the catalogue's index is built by the first message.
        started = time.perf_counter()
        await orchestrator.handle(message("main", 0))
        index_s = time.perf_counter() - started
        for n in range(1, 30):
            replies = await orchestrator.handle(message("main", n))
        sample_reply = replies[0].text
        rss_warm, _ = rss_mb()
        rss_parts = rss_kinds()

        # Both encoders as the app runs them (the fused embedder's blocking encode): the same
        # messages with their steps, and the best batch's throughput.
        fused = getattr(services.embedder, "_inner", None)
        both_ms: list[float] = []
        both_rate = 0.0
        if fused is not None and hasattr(fused, "second"):
            for n in range(SINGLE):
                text = message("main", 1000 + n).text
                started = time.perf_counter()
                fused.encode([text, *request_parts(text)])
                both_ms.append((time.perf_counter() - started) * 1000)
            sample = messages[:256]
            for batch in (16, 32):
                started = time.perf_counter()
                for at in range(0, len(sample), batch):
                    fused.encode(sample[at : at + batch])
                both_rate = max(both_rate, len(sample) / (time.perf_counter() - started))

        # The encode each measured message needs (it and its steps), for its own ceiling.
        needed_same = []
        for n in range(SINGLE):
            text = message("main", 1000 + n).text
            started = time.perf_counter()
            embedder.encode([text, *request_parts(text)])
            needed_same.append(time.perf_counter() - started)
        latencies = []
        for n in range(SINGLE):
            started = time.perf_counter()
            await orchestrator.handle(message("main", 1000 + n))
            latencies.append(time.perf_counter() - started)

        # Interleaved: each message's encode (it and its steps) timed right before its handling,
        # so the machine's drift during the run falls on the ceiling and the path alike.
        paired_encode, paired_handle = [], []
        for n in range(SINGLE):
            measured = message("main", 3000 + n)
            started = time.perf_counter()
            embedder.encode([measured.text, *request_parts(measured.text)])
            paired_encode.append(time.perf_counter() - started)
            started = time.perf_counter()
            await orchestrator.handle(measured)
            paired_handle.append(time.perf_counter() - started)

        http_on, http_off = await http_paired(orchestrator, message)

        # The same encodes again, each right after another message's handling: the state (CPU
        # caches, the writer thread) the app's own encode meets. The handling is not timed.
        after_work = []
        for n in range(SINGLE):
            await orchestrator.handle(message("main", 2000 + n))
            text = message("main", 1000 + n).text
            started = time.perf_counter()
            embedder.encode([text, *request_parts(text)])
            after_work.append(time.perf_counter() - started)

        # The memory recall alone, as the app calls it (the store in its worker thread), for
        # the same messages: Chroma's query, a cost of its own beside the encode.
        recall_k, memory = config.orchestrator.memory_system.recall_k, services.memory
        assert memory is not None
        recall = []
        for n in range(SINGLE):
            measured = message("main", 1000 + n)
            vector = embedder.encode([measured.text])[0]
            started = time.perf_counter()
            await memory.recall(measured.chat_key, vector, recall_k)
            recall.append(time.perf_counter() - started)

        async def chat_loop(i: int, chat: str) -> None:
            for n in range(PER_CHAT):
                await orchestrator.handle(message(chat, 5000 + i * PER_CHAT + n, f"u{i}"))

        # Cold: each chat's first message opens its Chroma collection (about 60 ms, 3 MB).
        started = time.perf_counter()
        await asyncio.gather(
            *(orchestrator.handle(message(c, 4000 + i, f"u{i}")) for i, c in enumerate(chats))
        )
        cold_rate = CHATS / (time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(chat_loop(i, c) for i, c in enumerate(chats)))
        concurrent_s = time.perf_counter() - started
        rss_after, peak = rss_mb()
        scraped = await scrape_metrics(orchestrator)
        await orchestrator.stop()
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "single_ms": [s * 1000 for s in single],
        "needed_same_ms": [s * 1000 for s in needed_same],
        "after_work_ms": [s * 1000 for s in after_work],
        "recall_ms": [s * 1000 for s in recall],
        "texts_per_message": statistics.mean(texts_per_message),
        "throughput": throughput,
        "latencies_ms": [s * 1000 for s in latencies],
        "concurrent_rate": CHATS * PER_CHAT / concurrent_s,
        "cold_rate": cold_rate,
        "rss_warm": rss_warm,
        "rss_parts": rss_parts,
        "both_ms": both_ms,
        "both_rate": both_rate,
        "rss_after": rss_after,
        "peak": peak,
        "index_s": index_s,
        "reply": sample_reply[:80],
        "metrics": scraped,
        "paired_encode_ms": [x * 1000 for x in paired_encode],
        "paired_handle_ms": [x * 1000 for x in paired_handle],
        "http_on_ms": [x * 1000 for x in http_on],
        "http_off_ms": [x * 1000 for x in http_off],
        "threads": int(embedder.session.get_session_options().intra_op_num_threads),
    }


# -- child: start to ready --------------------------------------------------------------------
FIVE_SERVERS = """
  time:
    type: custom
    command: python3
    args: ["-m", "mcp_server_time", "--local-timezone", "UTC"]
  clickup:
    type: custom
    command: python3
    args: ["{root}/custom_servers/clickup_mcp_server.py"]
    env: [{{name: CLICKUP_API_TOKEN, value: "bench"}}]
  telegram:
    type: custom
    command: python3
    args: ["-m", "custom_servers.telegram_mcp_server"]
    env: [{{name: TELEGRAM_BOT_TOKEN, value: "123:bench"}}]
  discord:
    type: custom
    command: python3
    args: ["-m", "custom_servers.discord_mcp_server"]
    env: [{{name: DISCORD_BOT_TOKEN, value: "bench"}}]
  youtube:
    type: custom
    command: python3
    args: ["-m", "custom_servers.youtube_mcp_server"]
"""


def ready(kind: str, spawned: float) -> dict[str, Any]:
    """Interpreter start to ready (start() returned) and to the first reply."""
    from orchestrator.app import build_orchestrator
    from orchestrator.config import load_config
    from orchestrator.messages import ChatMessage

    imported = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ready-"))
    os.environ.setdefault("MEMORY_DIR", str(tmp / "memory"))
    os.environ.setdefault("SCHEDULES_FILE", str(tmp / "schedules.json"))
    path = None
    if kind == "five":
        text = (ROOT / "config" / "orchestrator.yaml").read_text()
        head, _, rest = text.partition("mcp_servers:\n")
        _, _, tail = rest.partition("\nbots:")
        path = tmp / "five.yaml"
        path.write_text(head + "mcp_servers:" + FIVE_SERVERS.format(root=ROOT) + "\nbots:" + tail)
    marks: dict[str, float] = {}

    async def main() -> tuple[int, int]:
        config = load_config(path)
        orchestrator = build_orchestrator(config)
        await orchestrator.start()
        marks["ready"] = time.time()
        try:
            await orchestrator.handle(ChatMessage("console", "bench", "u1", "what time is it?"))
            marks["answered"] = time.time()
            statuses = orchestrator.services.hub.status()
            return len(statuses), sum(s.state == "up" for s in statuses)
        finally:
            await orchestrator.stop()

    servers, up = asyncio.run(main())
    shutil.rmtree(tmp, ignore_errors=True)
    rss, _ = rss_mb()
    return {
        "imports": imported - spawned,
        "ready": marks["ready"] - spawned,
        "answered": marks["answered"] - spawned,
        "servers": servers,
        "up": up,
        "rss": rss,
    }


# -- parent -----------------------------------------------------------------------------------
STARTS = 3  # starts timed per config; the median run is reported (one start is one sample)


def median_start(kind: str) -> dict[str, Any]:
    runs = sorted((child("--child", kind) for _ in range(STARTS)), key=lambda r: r["ready"])
    return runs[len(runs) // 2] | {"all_ready": [r["ready"] for r in runs]}


def child(*args: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)  # the embedded config runs without an LLM
    spawned = time.time()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.overhead",
            *args,
            "--spawned",
            repr(spawned),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.overhead {args} failed:\n{done.stderr[-3000:]}")
    result = json.loads(out.read_text())
    out.unlink()
    return result


def machine() -> list[str]:
    return machine_lines(
        ("onnxruntime", "tokenizers", "numpy", "chromadb", "redis", "bm25s", "mcp", "openai")
    )


def load_line(before: tuple[float, ...], after: tuple[float, ...]) -> str:
    fmt = " / ".join
    return (
        "- Load average (1/5/15 min): "
        f"{fmt(f'{x:.1f}' for x in before)} at the start, {fmt(f'{x:.1f}' for x in after)} at "
        f"the end, on {os.cpu_count()} cores (the machine is shared with other jobs: above "
        f"{os.cpu_count()} the timings carry their noise; RSS does not)"
    )


def rss_kinds() -> dict[str, float]:
    """This process's resident memory by kind (MB): anonymous (heaps, arrays) and file-backed
    (mapped libraries and model files, shared with other processes and the page cache)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile", "RssShmem"):
            out[key] = int(value.split()[0]) / 1024
    return out


def interleaved_rows(run: dict[str, Any]) -> list[str]:
    """The p50 gate with its ceiling timed interleaved, message by message (see `measure`)."""
    handle, encode = run.get("paired_handle_ms"), run.get("paired_encode_ms")
    if not handle or not encode:
        return []
    p50, ceiling = statistics.median(handle), statistics.median(encode)
    return [
        f"| one chat at a time, p50 per message, interleaved | {p50:.1f} ms | {ceiling:.1f} ms "
        f"(each message's own encode with its steps, timed right before its handling) | "
        f"{p50 / ceiling:.2f}x | <= 2x (proposed) | "
        f"{'met' if p50 / ceiling <= 2 else '**not met**'} |",
    ]


def both_rows(run: dict[str, Any], p50: float, rate: float, per_message: float) -> list[str]:
    """The gates against the encode the app really does with two encoders (MiniLM and
    USE-multilingual, each over the message and its steps)."""
    if not run.get("both_ms"):
        return []
    both = statistics.median(run["both_ms"])
    both_messages = run["both_rate"] / per_message
    return [
        f"| one chat at a time, p50 per message | {p50:.1f} ms | {both:.1f} ms (both "
        f"encoders over the same messages and their steps, p50) | {p50 / both:.2f}x | "
        f"<= 2x (proposed) | {'met' if p50 / both <= 2 else '**not met**'} |",
        f"| {CHATS} concurrent chats, messages/s | {rate:.1f} | {both_messages:.1f} messages/s "
        f"(both encoders, best of batch 16 and 32, {per_message:.2f} texts each) | "
        f"{rate / both_messages:.0%} | >= 70% (proposed) | "
        f"{'met' if rate / both_messages >= 0.7 else '**not met**'} |",
    ]


def report(run: dict[str, Any], starts: dict[str, dict[str, Any]], load: str) -> str:
    bare = statistics.median(run["single_ms"])
    bare_p99 = pct(run["single_ms"], 0.99)
    best_batch, best = max(run["throughput"].items(), key=lambda kv: kv[1])
    p50 = statistics.median(run["latencies_ms"])
    p99 = pct(run["latencies_ms"], 0.99)
    rate = run["concurrent_rate"]
    embedded, five = starts["embedded"], starts["five"]
    needed = statistics.median(run["needed_same_ms"])  # the measured messages' own encode
    needed_p99 = pct(run["needed_same_ms"], 0.99)
    after_work = statistics.median(run["after_work_ms"])
    recall = statistics.median(run["recall_ms"])
    per_message = run["texts_per_message"]
    best_messages = best / per_message  # best-batch throughput in messages (all their texts)

    def ok(good: bool) -> str:
        return "met" if good else "**not met**"

    lines = [
        "# Request-path overhead (issue #21)",
        "",
        "Generated by `python -m bench.overhead` (`make bench-overhead`): see its docstring for "
        "what runs. The LLM and the tools are instant stand-ins; everything else is the real "
        "request path (`Orchestrator.handle` from `build_orchestrator`): Redis sessions and "
        f"token counters, Chroma memory ({MEMORIES:,} memories in the measured chat, "
        f"{CHAT_MEMORIES:,} in each concurrent chat), MiniLM on ONNX Runtime "
        f"({run['threads']} threads) and USE-multilingual (numpy), routing over {CATALOGUE} "
        "LiveMCPBench tools, one tool "
        "call per message. The process's HTTP server runs as `http:` configures it (the admin "
        "console and Prometheus /metrics, issue 33); one scrape after the runs counted "
        + ", ".join(f"{k} {v:,.0f}" for k, v in run.get("metrics", {}).items())
        + ".",
        "",
        *machine(),
        load,
        "",
        "## Overhead table",
        "",
        "| figure | value | bare ceiling | ratio | target | |",
        "|---|---|---|---|---|---|",
        f"| one chat at a time, p50 per message | {p50:.1f} ms | {bare:.1f} ms (encode of one "
        f"message, p50) | {p50 / bare:.2f}x | <= 1.5x | {ok(p50 / bare <= 1.5)} |",
        f"| one chat at a time, p99 per message | {p99:.1f} ms | {bare:.1f} ms (encode p99: "
        f"{bare_p99:.1f} ms) | {p99 / bare:.2f}x | <= 4x | {ok(p99 / bare <= 4)} |",
        f"| {CHATS} concurrent chats, messages/s | {rate:.1f} | {best:.1f} texts/s (batch "
        f"{best_batch}) | {rate / best:.0%} | >= 70% | {ok(rate / best >= 0.7)} |",
        f"| one chat at a time, p50 per message | {p50:.1f} ms | {needed:.1f} ms (encode of "
        f"the same messages and their steps, p50: {per_message:.2f} texts a message) | "
        f"{p50 / needed:.2f}x | "
        f"<= 2x (proposed) | {ok(p50 / needed <= 2)} |",
        f"| one chat at a time, p99 per message | {p99:.1f} ms | {needed_p99:.1f} ms (p99 of "
        f"the same messages' encode with their steps) | {p99 / needed_p99:.2f}x | <= 4x "
        f"(proposed) | {ok(p99 / needed_p99 <= 4)} |",
        f"| one chat at a time, p50 per message | {p50:.1f} ms | {after_work:.1f} ms (the same "
        f"encodes again, each right after another message's handling) | "
        f"{p50 / after_work:.2f}x | (the ceiling's own spread within one run) | |",
        f"| memory recall alone, p50 | {recall:.1f} ms | {needed:.1f} ms (as above) | "
        f"{recall / needed:.2f}x | (Chroma's query in its worker thread, for the same "
        "messages: part of every message's time) | |",
        f"| {CHATS} concurrent chats, messages/s | {rate:.1f} | {best_messages:.1f} messages/s "
        f"(batch {best_batch}, {per_message:.2f} texts each) | {rate / best_messages:.0%} | "
        f">= 70% (proposed) | {ok(rate / best_messages >= 0.7)} |",
        *both_rows(run, p50, rate, per_message),
        *interleaved_rows(run),
        f"| RSS after warm-up | {run['rss_warm']:.0f} MB | | | <= 500 MB | "
        f"{ok(run['rss_warm'] <= 500)} |",
        f"| start to ready, embedded config (median of {STARTS} starts: "
        f"{', '.join(f'{r:.2f}' for r in embedded['all_ready'])} s) | {embedded['ready']:.2f} s "
        "| | | <= 5 s | "
        f"{ok(embedded['ready'] <= 5)} |",
        f"| start to ready, 5-server config (median of {STARTS} starts: "
        f"{', '.join(f'{r:.2f}' for r in five['all_ready'])} s) | {five['ready']:.2f} s | | | | |",
        *http_rows(run),
        "",
        f"Why the proposed p50 gate is 2x, not the issue's 1.5x: 1.5x leaves {needed / 2:.1f} ms "
        "a message for everything beside the encode, and the memory recall alone takes "
        f"{recall:.1f} ms of it, before the session and budget round trips to Redis, the "
        "routing and the agent loop.",
        "",
        "RSS after warm-up by kind: "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in run.get("rss_parts", {}).items())
        + " (file-backed pages are shared with other processes and the page cache; the "
        "USE-multilingual table is read from its cache file, not mapped: see "
        "orchestrator/embedding/use_cache.py).",
        "",
        f"RSS after all runs {run['rss_after']:.0f} MB (peak {run['peak']:.0f} MB). "
        f"{SINGLE} sequential messages, then one message in each of {CHATS} chats at once "
        f"(their first: {run['cold_rate']:.1f} messages/s, each opening its chat's Chroma "
        f"collection), then {CHATS} chats x {PER_CHAT} messages at once (the figure above). "
        f"Filling Chroma took {run['fill_s']:.1f} s; the first message (indexing the catalogue: "
        f"{2 * CATALOGUE} texts embedded) {run['index_s']:.1f} s. A reply: "
        f'"{run["reply"]}".',
        "",
        "Bare encode throughput by batch size, texts/s: "
        + ", ".join(f"{b}: {v:.0f}" for b, v in run["throughput"].items()),
        "",
        "## Start to ready",
        "",
        "From spawning the interpreter to `Orchestrator.start()` returned (MCP servers up, model "
        "loaded and warm) and to the reply to a first free-text message (no LLM configured: "
        "the embedded config answers with routed tools).",
        "",
        "| config | imports s | ready s | first reply s | servers up | RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for name, start in (("embedded (1 server: time)", embedded), ("5 servers", five)):
        lines.append(
            f"| {name} | {start['imports']:.2f} | {start['ready']:.2f} | "
            f"{start['answered']:.2f} | {start['up']}/{start['servers']} | {start['rss']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["fill", "measure", "embedded", "five"])
    parser.add_argument("--memory-dir", type=Path)
    parser.add_argument("--spawned", type=float, default=0.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        if args.child == "fill":
            result = fill(args.memory_dir)
        elif args.child == "measure":
            result = asyncio.run(measure(args.memory_dir))
        else:
            result = ready(args.child, args.spawned)
        args.out.write_text(json.dumps(result))
        return
    from orchestrator.embedding.onnx_minilm import ensure_model

    ensure_model()  # a one-off export is not part of any figure
    before = os.getloadavg()
    starts = {kind: median_start(kind) for kind in ("embedded", "five")}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as memory_dir:
        filled = child("--child", "fill", "--memory-dir", memory_dir)
        run = child("--child", "measure", "--memory-dir", memory_dir) | filled
    text = report(run, starts, load_line(before, os.getloadavg()))
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
