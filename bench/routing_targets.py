"""Issue #28's targets for bench/routing.py's report: met or not, with the figures."""

from __future__ import annotations

BASELINE = "MiniLM cosine (name: description)"


def targets(
    results: dict[str, dict[str, dict[str, float]]],
    languages: dict[str, dict[str, float]],
    p99: float,
) -> list[str]:
    """Issue #28's targets, met or not, with the figures."""
    lines = []
    for title, rows in results.items():
        if "synthetic" in title:
            continue  # training data: shown for the step-share choice, no target
        mine, cos = rows["this router"], rows[BASELINE]
        worse = [m for m in ("r@1", "r@5", "r@8", "r@10", "mrr") if mine[m] < cos[m]]
        lines.append(
            f"- {title}: router >= cosine at every k and MRR: "
            + ("met" if not worse else "NOT met (" + ", ".join(worse) + ")")
            + f"; handed recall {mine['handed']:.3f} vs cosine r@8 {cos['r@8']:.3f}: "
            + ("met" if mine["handed"] >= cos["r@8"] else "NOT met")
        )
    mine, cos = (
        results["realcat fresh (test)"]["this router"],
        results["realcat fresh (test)"][BASELINE],
    )
    other = next(row for lang, row in languages.items() if lang.startswith("other"))
    checks = [
        (f"handed recall {mine['handed']:.3f} >= 0.85", mine["handed"] >= 0.85),
        (
            f"handed recall {mine['handed']:.3f} >= cosine r@8 {cos['r@8']:.3f} + 0.10",
            mine["handed"] >= cos["r@8"] + 0.1,
        ),
        (f"recall@5 {mine['r@5']:.3f} >= 0.80", mine["r@5"] >= 0.80),
        (
            f"recall@5 {mine['r@5']:.3f} >= cosine {cos['r@5']:.3f} + 0.10",
            mine["r@5"] >= cos["r@5"] + 0.1,
        ),
        (f"non-English recall@5 {other['this router']:.3f} >= 0.60", other["this router"] >= 0.6),
        (
            f"non-English recall@5 {other['this router']:.3f} >= cosine "
            f"{other[BASELINE]:.3f} + 0.10",
            other["this router"] >= other[BASELINE] + 0.1,
        ),
    ]
    for title in (
        "MetaTool multi-tool",
        "realcat fresh, multi-step (test)",
        "realcat multi-step (test, 60)",
    ):
        every = results[title]["this router"]["handed_all"]
        checks.append((f"{title}: a tool for every step handed {every:.3f} >= 0.90", every >= 0.9))
    checks.append((f"routing p99 {p99:.3f} ms (CPU time) <= 2 ms for 1,000 tools", p99 <= 2.0))
    lines += [f"- realcat fresh: {text}: {'met' if ok else 'NOT met'}" for text, ok in checks]
    return lines
