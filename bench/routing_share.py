"""Multi-step requests: a step's BM25 weight and how its handed share is measured, chosen on
TRAINING data only.

    python -m bench.routing_share    # prints the grid; writes bench/results/routing-share.md

Error analysis on the training sets (see the results file) found most missed steps of
synthetic two-ask requests where the needed tool ranks 2nd-8th in its own step's scores while
another step takes the places: the step share (`orchestrator.routing.router._by_gap`) gives a
step whose best stands out over the catalogue fewer places, and on a short step the best often
stands out only because BM25 (normalised to the best document) puts one word's match at full
weight. The settings: `STEP_LEXICAL_WEIGHT` (a step's BM25 weight; the message keeps
`LEXICAL_WEIGHT`), `STEP_PULL` (a step whose best is weaker than the strongest step's starts
that far behind, in z: fragments of an over-split request yield) and `STEP_SPREAD` (a step's
scale: its spread over the catalogue, or its best minus its `STEP_HEAD`-th best).

Sets: synthetic multi-step requests (two training requests joined,
`bench.routing_data.synthetic_sets`), MetaTool's training half (a sample) and realcat's train
and dev splits. No test split is read.

Rule fixed before the grid was run: a setting is kept only if "handed all" rises by at least
0.01 on both synthetic multi-step sets and no other column of any set falls by more than 0.005.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from bench.routing import RouterMethod, evaluate
from bench.routing_embed import FusedCachedEmbedder, requests
from bench.routing_steps import training_sets
from orchestrator.routing import router as router_module

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "routing-share.md"
Setting = tuple[float, float, str]  # STEP_LEXICAL_WEIGHT, STEP_PULL, STEP_SPREAD
SETTINGS: dict[str, Setting] = {
    "before: step BM25 0.15 (as the message), z-gap": (0.15, 0.0, "catalogue"),
    "step BM25 0": (0.0, 0.0, "catalogue"),
    "step BM25 0.05": (0.05, 0.0, "catalogue"),
    "step BM25 0.075": (0.075, 0.0, "catalogue"),
    "step BM25 0.1": (0.1, 0.0, "catalogue"),
    "step BM25 0.125": (0.125, 0.0, "catalogue"),
    "pull 0.25": (0.15, 0.25, "catalogue"),
    "pull 0.5": (0.15, 0.5, "catalogue"),
    "pull 1": (0.15, 1.0, "catalogue"),
    "head gap": (0.15, 0.0, "head"),
    "step BM25 0.1, pull 0.25": (0.1, 0.25, "catalogue"),
    "step BM25 0.1, head gap": (0.1, 0.0, "head"),
}

# The error analysis behind the settings (the router before them, training sets only): each
# missed step (not handed; single requests: not in the top 5) by how the request was split and
# where the needed tool ranked in the best of its request's steps' own scores.
ANALYSIS = [
    "Missed steps before this change (router as it was; training sets only):",
    "",
    "| set | requests | split into more parts than asks | missed | own step #2-8 | "
    "own step >8 | same-server sibling handed instead |",
    "|---|---|---|---|---|---|---|",
    "| MetaTool synthetic multi-step | 600 | 514 | 243 steps | 126 (118 over-split) | "
    "114 (95 over-split) | n/a (one server) |",
    "| realcat synthetic multi-step | 300 | 62 | 112 steps | 51 | 61 | 79 |",
    "| MetaTool single (top 5) | 1500 | 997 | 212 | 56 (over-split; 3 more: own step's "
    "best) | 77 (over-split); 76 unsplit | n/a |",
    "| realcat train and dev single (top 5) | 268 | 30 | 40 | 3 | 3; 34 unsplit | 21 |",
    "",
    "Only 3 missed steps (MetaTool) and 0 (realcat) were their own step's best: what loses a "
    "step is its 2nd-8th tools losing places to another step, or a step that does not find "
    "its tool at all. Over-splitting (commas, 'and' between nouns, a sentence of context) is "
    "the commonest pattern on MetaTool's long requests; on realcat the needed tool mostly "
    "loses to another tool of the same server.",
    "",
    "Kept: step BM25 0.1 (the only setting alone to pass the rule: handed all +0.020 "
    "MetaTool, +0.023 realcat; nothing else down by more than 0.002). Step BM25 0.05 and "
    "0.075 cost realcat synthetic r@5 (-0.011, -0.004); 0.125 gains MetaTool only +0.009. "
    "The pull alone lowers realcat's (a real step with a weak best yields too); on top of "
    "step BM25 0.1 it adds +0.015 MetaTool but +0.004 realcat (one request), under the rule's "
    "0.01, so it stays off; the head gap costs realcat single handed all (-0.008).",
    "Also tried by hand, same sets, with step BM25 0.1: the steps' weight in the ranking "
    "(`PART_WEIGHT`) at 0.5, 0.75 and 1.25 instead of 1: handed all within 0.005 of 1's "
    "everywhere, r@5 no better on both synthetic sets at once; left at 1.",
]


@contextlib.contextmanager
def setting(values: Setting) -> Iterator[None]:
    names = ("STEP_LEXICAL_WEIGHT", "STEP_PULL", "STEP_SPREAD")
    old = [getattr(router_module, n) for n in names]
    for name, value in zip(names, values, strict=True):
        setattr(router_module, name, value)
    try:
        yield
    finally:
        for name, value in zip(names, old, strict=True):
            setattr(router_module, name, value)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    embedder = FusedCachedEmbedder()
    lines = [
        "# Step BM25 weight and step share on training data (bench/routing_share.py)",
        "",
        "Training data only. Columns: recall@1, recall@5, MRR@10, handed recall, a tool for "
        "every step handed, mean schemas sent (top_k 8). Rule fixed before the run: keep a "
        "setting only if handed all rises by at least 0.01 on both synthetic multi-step sets "
        "and no other column of any set falls by more than 0.005. The step BM25 weights "
        "0.075, 0.1 and 0.125 were added to the grid after a first run of 0, 0.05 and 0.3 "
        "(training data both times; no test split was read before the choice).",
        "",
        *ANALYSIS,
        "",
        "| set | setting | r@1 | r@5 | MRR@10 | handed | handed all | sent |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for title, data, cases in training_sets():
        reqs = requests(embedder, [c.text for c in cases])
        method = RouterMethod(data, embedder)
        for name, values in SETTINGS.items():
            with setting(values):
                m = evaluate(method, data, cases, reqs, 1)
            lines.append(
                f"| {title} ({len(cases)}) | {name} | {m['r@1']:.3f} | {m['r@5']:.3f} | "
                f"{m['mrr']:.3f} | {m['handed']:.3f} | {m['handed_all']:.3f} | {m['sent']:.1f} |"
            )
            print(lines[-1], flush=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
