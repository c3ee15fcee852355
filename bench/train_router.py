"""Train the router's query adapter and calibrate its margin, on training splits only.

    python -m bench.train_router             # writes orchestrator/routing/adapter.npy and
                                             # orchestrator/routing/calibration.json
    python -m bench.train_router --validate  # cross-fitted figures only, writes nothing

Data: the training halves of MetaTool and realcat (bench/routing_data.py). LiveMCPBench and
every test split are never read here.

The adapter: W = I + D (384 x 384) maps a message vector; trained so that each training request
scores its needed tools above the rest of its own catalogue (softmax over the catalogue's
centred tool vectors, as the router ranks; several tools may serve a step), with D pulled
towards 0 so that W stays close to plain MiniLM. Each step draws the same number of requests
from each data set, so the large one does not decide alone.

The margin: cross-fitted, so it is measured on requests the adapter did not see: each of
`FOLDS` folds of the training requests is scored by an adapter trained on the other folds,
through the whole router; the margin is the `COVERAGE` quantile of "best score minus the score
of the best-ranked tool of the step ranked worst" (the gap a request needs to get every step's
tool as a full schema).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from bench.routing_data import Case, DataSet, metatool, realcat
from bench.routing_embed import CachedEmbedder
from orchestrator.routing.adapter import ADAPTER_FILE, CALIBRATION_FILE, Calibration, QueryAdapter
from orchestrator.routing.router import ToolRouter

log = logging.getLogger("train_router")
SEED = 20261129
STEPS = 400
BATCH = 256
SCALE = 20.0  # softmax temperature 1/20 on cosines
DECAY = float(os.environ.get("ADAPTER_DECAY", "0.2"))  # weight of |D|^2
LR = 2e-3
FOLDS = 4
COVERAGE = 0.97
TOP_K = 8  # the most full schemas a message gets (tool_routing.top_k default)
META_TRAIN = 6000  # MetaTool training requests drawn (of ~10k), to keep training quick


class Prepared:
    """A data set's tools as the router ranks them, and its requests as vectors + gold masks."""

    def __init__(self, data: DataSet, cases: Sequence[Case], embedder: CachedEmbedder) -> None:
        router = ToolRouter(embedder, adapter=QueryAdapter(), calibration=Calibration())
        asyncio.run(router.refresh(data.tools))
        self.data, self.cases = data, list(cases)
        (block,) = router.index.blocks  # the adapter is trained in MiniLM's space alone
        self.tools_t = torch.from_numpy(np.ascontiguousarray(block.ranked_t))
        position = router.index.position
        self.queries = torch.from_numpy(embedder.encode([c.text for c in self.cases]))
        gold = np.zeros((len(self.cases), len(data.tools)), dtype=bool)
        for n, case in enumerate(self.cases):
            for step in case.needs:
                gold[n, [position[k] for k in step if k in position]] = True
        self.gold = torch.from_numpy(gold)


def train(sets: Sequence[Prepared], steps: int = STEPS, seed: int = SEED) -> np.ndarray:
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    dim = sets[0].queries.shape[1]
    delta = torch.zeros(dim, dim, requires_grad=True)
    optimiser = torch.optim.Adam([delta], lr=LR)
    eye = torch.eye(dim)
    for _ in range(steps):
        loss = DECAY * (delta**2).sum()
        for prepared in sets:
            pick = torch.randint(0, len(prepared.cases), (min(BATCH, len(prepared.cases)),))
            mapped = prepared.queries[pick] @ (eye + delta).T
            mapped = mapped / mapped.norm(dim=1, keepdim=True).clamp_min(1e-6)
            logits = SCALE * mapped @ prepared.tools_t
            gold = prepared.gold[pick]
            positive = torch.logsumexp(logits.masked_fill(~gold, -1e9), dim=1)
            loss = loss + (torch.logsumexp(logits, dim=1) - positive).mean() / len(sets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    log.info("trained steps=%d loss=%.4f", steps, loss.item())
    return (eye + delta).detach().numpy().astype(np.float32)


def gaps(data: DataSet, cases: Sequence[Case], matrix: np.ndarray, embedder: CachedEmbedder):  # type: ignore[no-untyped-def]
    """Per request: (best score - the score the worst-served step needs, needed tools' ranks)."""
    from bench.routing_embed import requests

    router = ToolRouter(embedder, adapter=QueryAdapter(matrix), calibration=Calibration())
    asyncio.run(router.refresh(data.tools))
    out, ranks = [], []
    for case, (query, vector, parts) in zip(
        cases, requests(embedder, [c.text for c in cases]), strict=True
    ):
        ranked = router.ranking(query, vector, part_vectors=parts, limit=len(data.tools))
        keys = [r.tool.key for r in ranked]
        scores = [r.score for r in ranked]
        step_ranks = [min(keys.index(k) for k in step if k in keys) for step in case.needs]
        worst = max(step_ranks)
        out.append(scores[0] - scores[worst])
        ranks.append(worst)
    return np.array(out), np.array(ranks)


def folds(cases: Sequence[Case], k: int) -> list[list[int]]:
    order = list(range(len(cases)))
    random.Random(SEED).shuffle(order)
    return [order[i::k] for i in range(k)]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser()
    parser.add_argument("--validate", action="store_true")
    ns = parser.parse_args()
    embedder = CachedEmbedder()
    meta, _ = metatool()
    cat = realcat()
    meta_train = random.Random(SEED).sample(meta.train, META_TRAIN)
    sources = [(meta, meta_train), (cat, cat.train)]
    embedder.encode([c.text for _, cases in sources for c in cases])  # one batch, cached

    # Cross-fitting: every training request is scored by an adapter that did not see it.
    all_gaps, all_ranks = [], []
    parts = [folds(cases, FOLDS) for _, cases in sources]
    for f in range(FOLDS):
        fitted = [
            Prepared(d, [c for i, c in enumerate(cases) if i not in set(p[f])], embedder)
            for (d, cases), p in zip(sources, parts, strict=True)
        ]
        matrix = train(fitted)
        for (d, cases), p in zip(sources, parts, strict=True):
            held = [cases[i] for i in p[f]]
            if d is meta:
                held = held[:300]  # enough to calibrate; realcat is what the margin is for
            g, r = gaps(d, held, matrix, embedder)
            all_gaps.append((d.name, g))
            all_ranks.append((d.name, r))
            log.info(
                "fold=%d set=%s n=%d r@1=%.3f r@5=%.3f r@10=%.3f",
                f,
                d.name,
                len(held),
                (r < 1).mean(),
                (r < 5).mean(),
                (r < 10).mean(),
            )
    # The margin only matters for requests whose tools are within top_k at all: calibrate on
    # those, so that it keeps `COVERAGE` of what top_k could hand over.
    by_set: dict[str, np.ndarray] = {}
    for (name, g), (_, r) in zip(all_gaps, all_ranks, strict=True):
        by_set[name] = np.concatenate([by_set.get(name, np.zeros(0)), g[r < TOP_K]])
    # Each data set counts equally in the quantile.
    weights = np.concatenate([np.full(len(g), 1 / len(g)) for g in by_set.values()])
    pooled = np.concatenate(list(by_set.values()))
    order = np.argsort(pooled)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    margin = float(pooled[order][np.searchsorted(cumulative, COVERAGE)])
    for name, r in _pool(all_ranks).items():
        log.info(
            "cross-fitted set=%s r@1=%.3f r@5=%.3f r@10=%.3f",
            name,
            (r < 1).mean(),
            (r < 5).mean(),
            (r < 10).mean(),
        )
    log.info("margin=%.4f coverage=%.2f", margin, COVERAGE)
    if ns.validate:
        return
    matrix = train([Prepared(d, cases, embedder) for d, cases in sources])
    np.save(ADAPTER_FILE, matrix.astype(np.float16))
    CALIBRATION_FILE.write_text(
        json.dumps(
            {
                "margin": round(margin, 4),
                "coverage": COVERAGE,
                "source": "bench/train_router.py: cross-fitted on the training splits of "
                f"MetaTool ({len(meta_train)} requests) and realcat ({len(cat.train)})",
            },
            indent=1,
        )
        + "\n"
    )
    log.info(
        "wrote %s (%d bytes) and %s",
        ADAPTER_FILE,
        Path(ADAPTER_FILE).stat().st_size,
        CALIBRATION_FILE,
    )


def _pool(pairs: list[tuple[str, np.ndarray]]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, values in pairs:
        out[name] = np.concatenate([out.get(name, np.zeros(0, dtype=int)), values])
    return out


if __name__ == "__main__":
    main()
