"""The routing data sets, each split into train and test by a fixed seed.

- MetaTool: 199 plugin tools; single-tool queries split half/half by seed; the 497 two-tool
  queries are test only.
- LiveMCPBench: 527 real MCP tools, 94 tasks: held out entirely (nothing is trained or
  calibrated on it), so it is reported whole.
- realcat (bench/data/realcat): 17 real MCP servers as they list themselves, 268 group-chat
  requests with a `split` field (`train`; the old `test`, seen while the router was designed,
  is now `dev`), and the fresh, frozen test split of 196 requests (fresh.jsonl, issue #28).

A case is a request and its needs: a list of steps, each a set of tool keys any one of which
serves it (MetaTool and LiveMCPBench label one tool per step).
"""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.directory import server_line

ROOT = Path(__file__).resolve().parents[1]
REALCAT = ROOT / "bench" / "data" / "realcat"
SEED = 20261125


def data_dir() -> Path:
    """The shared data sets: $ROUTING_DATA, or `shared/data` beside (or above) the checkout."""
    if env := os.environ.get("ROUTING_DATA"):
        return Path(env)
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Case:
    text: str
    needs: tuple[frozenset[str], ...]  # steps; each step: tool keys that serve it
    lang: str = "en"


@dataclass
class DataSet:
    name: str
    tools: list[ToolSpec]
    train: list[Case]
    test: list[Case]
    servers: dict[str, str] = field(default_factory=dict)  # server -> what `initialize` said
    dev: list[Case] = field(default_factory=list)  # development data (tuned on: not held out)


def metatool(sample: int = 5000) -> tuple[DataSet, list[Case]]:
    """(single-tool set, two-tool test cases). The test split is a seeded sample of `sample`
    of the held-out half, as the earlier benchmark sampled 5,000 of all queries."""
    base = data_dir() / "metatool-toole"
    descriptions = json.loads((base / "plugin_des.json").read_text())
    tools = [ToolSpec("plugins", name, desc) for name, desc in descriptions.items()]
    with (base / "all_clean_data.csv").open(newline="") as handle:
        rows = [(r["Query"], r["Tool"]) for r in csv.DictReader(handle)]
    random.Random(SEED).shuffle(rows)
    half = len(rows) // 2
    cases = [Case(q, (frozenset({f"plugins/{t}"}),)) for q, t in rows]
    train, test = cases[:half], cases[half:]
    test = random.Random(SEED).sample(test, min(sample, len(test)))
    multi = [
        Case(m["query"], tuple(frozenset({f"plugins/{t}"}) for t in m["tool"]))
        for m in json.loads((base / "multi_tool_query_golden.json").read_text())
    ]
    return DataSet("MetaTool", tools, train, test), multi


def livemcp() -> DataSet:
    """Gold tools are annotated by name only: a step is served by any tool of that name."""
    base = data_dir() / "livemcpbench"
    tools: list[ToolSpec] = []
    servers: dict[str, str] = {}
    for server in json.loads((base / "tools.json").read_text()):
        for key, entry in server["tools"].items():
            servers[key] = str(server.get("description") or "")
            for tool in entry["tools"]:
                schema = tool.get("inputSchema") or {}
                tools.append(ToolSpec(key, tool["name"], tool.get("description") or "", schema))
    keys_by_name: dict[str, set[str]] = {}
    for t in tools:
        keys_by_name.setdefault(t.name, set()).add(t.key)
    cases = []
    for task in json.loads((base / "all_annotations.json").read_text()):
        listed = task["Annotator Metadata"]["Tools"].split("\n")
        names = dict.fromkeys(line.split(".", 1)[-1].strip() for line in listed if line.strip())
        needs = tuple(frozenset(keys_by_name[n]) for n in names if n in keys_by_name)
        if needs:
            cases.append(Case(task["Question"], needs))
    return DataSet("LiveMCPBench", tools, [], cases, servers)


def realcat() -> DataSet:
    tools: list[ToolSpec] = []
    servers: dict[str, str] = {}
    for path in sorted((REALCAT / "servers").glob("*.json")):
        data = json.loads(path.read_text())
        servers[data["server"]] = server_text(data["initialize"])
        for tool in data["tools"]:
            schema = tool.get("inputSchema") or {}
            tools.append(
                ToolSpec(data["server"], tool["name"], tool.get("description") or "", schema)
            )
    train, dev = [], []
    for line in (REALCAT / "requests.jsonl").read_text().splitlines():
        row = json.loads(line)
        (dev if row["split"] == "test" else train).append(_case(row))
    fresh = [_case(json.loads(line)) for line in (REALCAT / "fresh.jsonl").read_text().splitlines()]
    return DataSet("realcat", tools, train, fresh, servers, dev)


def realcat_multi() -> list[Case]:
    """realcat's frozen multi-step test split (multi.jsonl: 60 requests of two or three steps)."""
    rows = (REALCAT / "multi.jsonl").read_text().splitlines()
    return [_case(json.loads(line)) for line in rows]


def unlike_earlier(data: DataSet, cases: list[Case], ratio: float = 0.75) -> list[Case]:
    """`cases` without those that read like an earlier request (train or dev) of `data`: a
    difflib ratio of `ratio` or more (e.g. "who's in our notion workspace" written twice)."""
    import difflib

    earlier = [c.text.lower() for c in data.train + data.dev]

    def close(text: str) -> bool:
        matcher = difflib.SequenceMatcher(None, "", text.lower())
        for other in earlier:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() >= ratio and matcher.ratio() >= ratio:
                return True
        return False

    return [c for c in cases if not close(c.text)]


def _case(row: dict) -> Case:  # type: ignore[type-arg]
    return Case(row["text"], tuple(frozenset(alts) for alts in row["needs"]), row["lang"])


def server_text(initialize: dict) -> str:  # type: ignore[type-arg]
    """A captured `initialize` result as the router's server line (as the hub would give it)."""
    info = initialize.get("server_info") or {}
    return server_line(info.get("name", ""), info.get("title"), initialize.get("instructions"))


# Connectors for synthetic multi-step requests: how a teammate chains two asks in one message.
CONNECTORS = (
    ", then ",
    " and ",
    ". Also ",
    "; after that ",
    " and then ",
    ", and also ",
    ". Then ",
)


def synthetic_multistep(cases: list[Case], count: int, seed: int = SEED) -> list[Case]:
    """`count` two-ask requests built from training requests only: two requests of different
    tools joined by a connector (`CONNECTORS`, in turn), needing the steps of both. The second
    ask's first letter is lower-cased when its first word is an ordinary capitalised word; the
    first ask loses its closing punctuation. For tuning the step shares without touching a
    test set."""
    rng = random.Random(seed)
    out: list[Case] = []
    while len(out) < count:
        first, second = rng.sample(cases, 2)
        if set().union(*first.needs) & set().union(*second.needs):
            continue  # the same tool twice is one step
        join = CONNECTORS[len(out) % len(CONNECTORS)]
        head = first.text.strip().rstrip(".!?")
        tail = second.text.strip()
        word = tail.split(maxsplit=1)[0] if tail else ""
        if len(word) > 1 and word[1:].islower() and not word.startswith("I'"):
            tail = tail[:1].lower() + tail[1:]  # 'Can you' -> 'can you'; not 'I', 'SELECT'
        lang = first.lang if first.lang == second.lang else "mixed"
        out.append(Case(f"{head}{join}{tail}", first.needs + second.needs, lang))
    return out


META_SYNTHETIC, CAT_SYNTHETIC = 600, 300


def synthetic_sets(meta: DataSet, cat: DataSet) -> list[tuple[str, DataSet, list[Case]]]:
    """Synthetic multi-step requests from training data only (`synthetic_multistep`):
    MetaTool's training half, realcat's train and dev splits."""
    return [
        (
            "MetaTool synthetic multi-step (train)",
            meta,
            synthetic_multistep(meta.train, META_SYNTHETIC),
        ),
        (
            "realcat synthetic multi-step (train and dev)",
            cat,
            synthetic_multistep(cat.train + cat.dev, CAT_SYNTHETIC),
        ),
    ]
