"""The multilingual encoder's weight on English requests, chosen on TRAINING data.

    python -m bench.routing_language    # prints the grid; writes bench/results/routing-language.md

The router sums MiniLM's and USE-multilingual's z-scored similarities. Each training set is
routed with the second encoder's weight on requests `orchestrator.routing.language.english`
calls English set to each value of `WEIGHTS` (other requests keep weight 1), and the detector's
agreement with the labelled languages of the training data is shown. No test split is read.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bench.routing import RouterMethod, evaluate
from bench.routing_data import Case, metatool, realcat, synthetic_sets
from bench.routing_embed import FusedCachedEmbedder, requests
from orchestrator.routing import router as router_module
from orchestrator.routing.language import english

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "routing-language.md"
WEIGHTS = (1.0, 0.75, 0.5, 0.25, 0.0)
META_SINGLE = 1500


def agreement(cases: list[Case]) -> tuple[int, int, int, int]:
    """(English labelled, of those called English, other labelled, of those called other)."""
    en = [c for c in cases if c.lang == "en"]
    other = [c for c in cases if c.lang not in ("en", "mixed")]
    return (
        len(en),
        sum(english(c.text) for c in en),
        len(other),
        sum(not english(c.text) for c in other),
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    embedder = FusedCachedEmbedder()
    meta, _ = metatool()
    cat = realcat()
    sets = [
        *synthetic_sets(meta, cat),
        ("MetaTool single (train sample)", meta, meta.train[:META_SINGLE]),
        ("realcat train and dev", cat, cat.train + cat.dev),
        (
            "realcat train and dev, other languages",
            cat,
            [c for c in cat.train + cat.dev if c.lang != "en"],
        ),
    ]
    lines = [
        "# The multilingual encoder's weight on English requests (bench/routing_language.py)",
        "",
        "Training data only. Weight = how much USE-multilingual's z-scores count against "
        "MiniLM's on a request the detector calls English (1 = the router before); requests "
        "in another language keep 1. Columns: recall@1, recall@5, MRR@10, handed recall, a "
        "tool for every step handed, mean schemas sent (top_k 8).",
        "",
        "| set | English weight | r@1 | r@5 | MRR@10 | handed | handed all | sent |",
        "|---|---|---|---|---|---|---|---|",
    ]
    old = router_module.ENGLISH_SECOND_WEIGHT
    try:
        for title, data, cases in sets:
            reqs = requests(embedder, [c.text for c in cases])
            method = RouterMethod(data, embedder)
            for weight in WEIGHTS:
                router_module.ENGLISH_SECOND_WEIGHT = weight
                m = evaluate(method, data, cases, reqs, 1)
                lines.append(
                    f"| {title} ({len(cases)}) | {weight} | {m['r@1']:.3f} | {m['r@5']:.3f} | "
                    f"{m['mrr']:.3f} | {m['handed']:.3f} | {m['handed_all']:.3f} | "
                    f"{m['sent']:.1f} |"
                )
                print(lines[-1], flush=True)
    finally:
        router_module.ENGLISH_SECOND_WEIGHT = old
    lines += ["", "Detector against the labelled languages (training data):", ""]
    for title, cases in (
        ("realcat train and dev", cat.train + cat.dev),
        ("MetaTool train (all English)", meta.train),
    ):
        en, en_ok, other, other_ok = agreement(cases)
        lines.append(
            f"- {title}: English {en_ok} of {en} called English"
            + (f"; other languages {other_ok} of {other} called other" if other else "")
        )
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-3:]))


if __name__ == "__main__":
    main()
