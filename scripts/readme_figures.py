"""Write the README's benchmark figures from the results files they come from.

Each figure region of README.md is marked

    <!-- figures:NAME -->
    ...generated text...
    <!-- /figures -->

and NAME is one of `REGIONS` below: a function that reads `bench/results/*.md` and returns the
region's text, naming the file (and the run's date when the file records one). Run

    .venv/bin/python scripts/readme_figures.py          # rewrite the regions in place
    .venv/bin/python scripts/readme_figures.py --check  # exit 1 when the README is stale

after a benchmark rewrites its results file. `tests/unit/test_readme.py` fails when a region
differs from what this script generates. To add a figure: write a function taking the results
directory, add it to `REGIONS`, and put the markers in the README.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
README = REPO / "README.md"

REGION = re.compile(r"(<!-- figures:([a-z0-9-]+) -->\n)(.*?)(<!-- /figures -->)", re.S)


class FigureNotFound(LookupError):
    """A results file no longer holds the figure a region reads (its format changed)."""


def find(pattern: str, text: str, source: str) -> re.Match[str]:
    match = re.search(pattern, text, re.M)
    if match is None:
        raise FigureNotFound(f"{source}: no match for {pattern!r}")
    return match


def run_date(text: str) -> str:
    """The `- Date: ...` line of a results file, or '' when it records none."""
    match = re.search(r"^- Date: (.+)$", text, re.M)
    return match.group(1).strip() if match else ""


def table_row(text: str, label: str, source: str, note: bool = False) -> list[str]:
    """The cells after the first of the Markdown table row whose first cell is `label` (with
    `note`: `label` and a parenthesised note after it)."""
    after = r"(?: \([^|]*\))?" if note else ""
    match = find(rf"^\| {re.escape(label)}{after} \|(.*)\|$", text, source)
    return [cell.strip() for cell in match.group(1).split("|")]


def paragraph(text: str, indent: str = "") -> str:
    """`text` wrapped at 100 columns as the README is (list items indented after the first line)."""
    wrapped = textwrap.fill(
        text, width=100, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )
    return wrapped + "\n"


def row_where(text: str, label: str, ceiling: str, source: str) -> list[str]:
    """Cells of the table row with first cell `label` whose ceiling's note matches `ceiling`
    (a regular expression, matched at its start)."""
    for match in re.finditer(rf"^\| {re.escape(label)} \|(.*)\|$", text, re.M):
        cells = [cell.strip() for cell in match.group(1).split("|")]
        if re.match(ceiling, cells[1].split(" (")[-1]):
            return cells
    raise FigureNotFound(f"{source}: no row {label!r} with a ceiling starting {ceiling!r}")


def number(cell: str) -> str:
    return cell.split()[0].rstrip("x%")


def overhead(results: Path) -> str:
    source = "bench/results/overhead.md"
    text = (results / "overhead.md").read_text(encoding="utf-8")
    p50 = row_where(text, "one chat at a time, p50 per message", "encode of the same", source)
    p99 = row_where(text, "one chat at a time, p99 per message", "p99 of the same", source)
    again = row_where(text, "one chat at a time, p50 per message", "the same encodes again", source)
    rate = row_where(text, "100 concurrent chats, messages/s", r"batch \d+, ", source)
    recall = table_row(text, "memory recall alone, p50", source)[0]
    rss = table_row(text, "RSS after warm-up", source)[0]
    ready = table_row(text, "start to ready, embedded config", source, note=True)[0]
    return paragraph(
        f"In the last run (`{source}`, {run_date(text)}) the embedded config was ready to answer "
        f"{ready} after start and RSS after warm-up was {rss}. The request path (no LLM, no tool "
        f"time; 10,000 memories in the chat, 500 tools) took {p50[0]} p50 and {p99[0]} p99 per "
        f"message, {p50[2]} and {p99[2]} the encode those messages need ({number(p50[1])} ms p50 "
        f"for each with its steps; the same encodes timed again later in the run: "
        f"{number(again[1])} ms, on a shared machine); with 100 chats at once it answered "
        f"{rate[0]} messages/s, {rate[2]} of the best-batch encode of those messages. Of the time "
        f"beside the encode, the memory recall (a Chroma query) took {recall} a message."
        + both_encoders(text, source)
    )


def both_encoders(text: str, source: str) -> str:
    """The gates against both encoders' encode (MiniLM and USE-multilingual), when the run
    measured it."""
    try:
        p50 = row_where(text, "one chat at a time, p50 per message", "both encoders", source)
        rate = row_where(text, "100 concurrent chats, messages/s", "both encoders", source)
    except FigureNotFound:
        return ""
    return (
        f" Against the encode the app really does, both encoders over each message and its "
        f"steps ({number(p50[1])} ms p50), a message took {p50[2]}, and 100 chats at once ran "
        f"at {rate[2]} of both encoders' best-batch rate."
    )


def memory_writes(results: Path) -> str:
    source = "bench/results/memory.md"
    text = (results / "memory.md").read_text(encoding="utf-8")
    default = table_row(text, "1,000 writes", source)
    ours = table_row(text, "10 writes", source)
    return paragraph(
        f"- In the benchmark, with Chroma's default (persist every 1,000 writes) 200 small chats "
        f"made a write cost {default[1]} ms of CPU after 25 memories each and growing; persisting "
        f"every 10 writes, {ours[1]} ms, flat (`{source}`, second table).",
        indent="  ",
    )


def routing_speed(results: Path) -> str:
    source = "bench/results/routing.md"
    text = (results / "routing.md").read_text(encoding="utf-8")
    line = find(
        r"^- `route` after embedding \(message and step vectors\), ([\d,]+)-tool catalogue.*"
        r"CPU time of the routing thread p50 ([\d.]+) ms, p99 ([\d.]+) ms",
        text,
        source,
    )
    return paragraph(
        f"Routing takes {line.group(2)} ms p50 / {line.group(3)} ms p99 of CPU after embedding "
        f"for {line.group(1)} tools (`{source}`, Latency)."
    )


def section(text: str, title: str, source: str) -> str:
    """The body of the `## title` section of a results file."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise FigureNotFound(f"{source}: no section {title!r}")
    return match.group(1)


def routing_quality(results: Path) -> str:
    """The test splits' table (router, router MiniLM only, MiniLM cosine) and the multi-step
    and non-English figures, from bench/results/routing.md."""
    source = "bench/results/routing.md"
    text = (results / "routing.md").read_text(encoding="utf-8")
    heads = ["r@1", "r@5", "r@8", "r@10", "MRR@10", "all@10", "handed", "handed all", "sent"]
    lines = [
        "| set | method | r@1 | r@5 | r@10 | handed | schemas sent |",
        "|---|---|---|---|---|---|---|",
    ]
    sets = (
        ("MetaTool (5,000)", "MetaTool (single tool, test)", False),
        ("LiveMCPBench (94)", "LiveMCPBench (held out)", False),
        ("realcat fresh (196)", "realcat fresh (test)", True),
    )
    for label, title, minilm in sets:
        body = section(text, title, source)
        methods = ["this router"]
        methods += ["this router, MiniLM only (no multilingual encoder)"] if minilm else []
        methods += ["MiniLM cosine (name: description)"]
        for n, method in enumerate(methods):
            cells = dict(zip(heads, table_row(body, method, source), strict=False))
            name = method.split(" (")[0].replace("(no multilingual encoder)", "").strip()
            handed = cells["handed"] + (" (top 8)" if "cosine" in method else "")
            sent = "8" if "cosine" in method else cells["sent"]
            lines.append(
                ("| " + label + " |" if n == 0 else "| |")
                + f" {name} | {cells['r@1']} | {cells['r@5']} | "
                f"{cells['r@10']} | {handed} | {sent} |"
            )
    languages = section(text, "realcat fresh by language (test, recall@5)", source)
    other = find(r"^\| other \(n=(\d+)\) \| ([\d.]+) \| ([\d.]+) \|$", languages, source)
    meta = router_row(text, "MetaTool multi-tool", heads, source)
    steps = router_row(text, "realcat fresh, multi-step (test)", heads, source)
    multi = router_row(text, "realcat multi-step (test, 60)", heads, source)
    sentence = paragraph(
        f"On the fresh split's {other.group(1)} requests not in English, the router finds the "
        f"tool in the top 5 for {other.group(2)} of them (MiniLM cosine: {other.group(3)}). "
        f"A tool for every step is handed over for {meta['handed all']} of MetaTool's two-tool "
        f"queries, {steps['handed all']} of the fresh split's 18 multi-step requests and "
        f"{multi['handed all']} of the 60 of realcat's multi-step split (targets 0.90)."
    )
    return "\n".join(lines) + "\n\n" + sentence


def router_row(text: str, title: str, heads: list[str], source: str) -> dict[str, str]:
    """The `this router` row of a section's table, by column."""
    cells = table_row(section(text, title, source), "this router", source)
    return dict(zip(heads, cells, strict=False))


REGIONS: dict[str, Callable[[Path], str]] = {
    "routing-quality": routing_quality,
    "overhead": overhead,
    "memory-writes": memory_writes,
    "routing-speed": routing_speed,
}


def render(readme: str, results: Path = RESULTS) -> str:
    """`readme` with every figure region regenerated; an unknown region name is an error."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in REGIONS:
            raise KeyError(f"README region figures:{name} has no generator in {__file__}")
        return match.group(1) + REGIONS[name](results) + match.group(4)

    return REGION.sub(fill, readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the README is stale")
    ns = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if ns.check:
        if fresh != current:
            sys.stderr.write("README.md figures are stale: run scripts/readme_figures.py\n")
            return 1
        return 0
    if fresh != current:
        README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
