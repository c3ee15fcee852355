"""The README is true (issue 29): its offline shell blocks run as written, every `orchestrator`
command and flag it names exists, and its figures are what `scripts/readme_figures.py` writes
from the results files."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import build_parser
from scripts.readme_figures import render
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(
    r"(?:<!-- not-run: (?P<why>[^>]+?) -->\n)?```(?:sh|bash|console)\n(?P<body>.*?)```", re.S
)
BLOCKS = [(m.group("why"), m.group("body")) for m in BLOCK.finditer(README)]
RUNNABLE = [body for why, body in BLOCKS if why is None]


def test_every_shell_block_is_run_or_says_why_not() -> None:
    assert len(BLOCKS) == README.count("```sh\n") + README.count("```bash\n")
    assert RUNNABLE, "the README should show at least one command a newcomer can run offline"
    assert all(why.strip() for why, _ in BLOCKS if why is not None)


@pytest.mark.parametrize("body", RUNNABLE, ids=[b.splitlines()[0][:40] for b in RUNNABLE])
def test_offline_shell_block_runs_as_written(body: str, tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("ORCHESTRATOR_CONFIG", None)
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", body],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{body}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert "Traceback" not in done.stderr


def _sub_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    subs: dict[str, argparse.ArgumentParser] = {}

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    subs[f"{prefix}{name}"] = child
                    walk(child, f"{prefix}{name} ")

    walk(parser, "")
    return subs


def _mentions() -> list[str]:
    """Every `orchestrator ...` command line the README shows, in code spans or blocks."""
    spans = re.findall(r"`(orchestrator [^`]+)`", README)
    lines = [
        line.strip()
        for _, body in BLOCKS
        for line in body.splitlines()
        if line.strip().startswith("orchestrator ") or "| orchestrator " in line
    ]
    return spans + [re.sub(r"^.*\| (orchestrator )", r"\1", line) for line in lines]


def test_every_command_and_flag_the_readme_names_exists() -> None:
    subs = _sub_parsers()
    help_of = {name: p.format_help() for name, p in subs.items()}
    top_help = build_parser().format_help()
    checked = 0
    for mention in _mentions():
        words = mention.split("#")[0].split()[1:]
        if not words or words[0].startswith("-"):
            assert all(f in top_help for f in words if f.startswith("--")), mention
            continue
        name = words[0]
        if name.startswith("<"):  # `orchestrator <sub-command>`: a placeholder
            continue
        if len(words) > 1 and f"{name} {words[1]}" in subs:
            name = f"{name} {words[1]}"
        assert name in subs, f"README names `orchestrator {name}`, which does not exist"
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", " ".join(words)):
            assert flag in help_of[name], f"`orchestrator {name}` has no {flag} ({mention})"
        checked += 1
    assert checked >= 10  # the README names many; the pattern must keep finding them


def test_readme_figures_are_generated_from_the_results_files() -> None:
    assert "<!-- figures:" in README
    assert render(README) == README, "run: .venv/bin/python scripts/readme_figures.py"
