"""Config files that are hostile or broken (issues 27 and 29): alias bombs, recursive aliases,
deep nesting, bytes that are not UTF-8, unknown time zones and settings start-up would refuse.
Each is one FILE:LINE message and exit 2 from `orchestrator check-config`, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.yamlsource import MAX_ALIAS_EXPANSIONS


def alias_bomb(levels: int) -> str:
    """The billion-laughs shape: each level lists the one above nine times."""
    lines = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"x-a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    # 9 levels: 9^9 values; the loader used to take gigabytes then end in MemoryError
    "alias_bomb": (alias_bomb(9).encode(), "2: (yaml): x-a3[0][0]", "aliases expand more than"),
    "recursive_alias": (
        b"x-loop: &loop\n  again: *loop\n",
        "2: (yaml): x-loop.again",
        "refers to itself",
    ),
    "deep_nesting": (b"x-deep: " + b"[" * 5000 + b"]" * 5000 + b"\n", "(yaml)", "levels deep"),
    "not_utf8": (b"# config\nadmins: ['caf\xe9']\n", "2: (file)", "not UTF-8"),
    "mars_time": (
        b"scheduler:\n  default_timezone: Mars/Olympus\n",
        "2: scheduler.default_timezone",
        "unknown time zone 'Mars/Olympus'",
    ),
    "redis_without_url": (b"sessions: {backend: redis}\n", "1: sessions", "needs a `url`"),
    "distributed_local_chroma": (
        b"scale: {mode: distributed}\nsessions: {backend: redis, url: 'redis://x/0'}\n"
        b"scheduler: {store: redis}\n",
        "1: (root)",
        "memory_system.url",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_config_is_one_file_line_message_and_exit_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, where, what = HOSTILE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(data)
    assert main(["check-config", str(path)]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:"), out
    assert where in out and what in out, out
    assert "Traceback" not in out and len(out.splitlines()) == 1, out


def test_a_few_reused_blocks_still_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    servers = "".join(
        f"  s{i}:\n    type: custom\n    command: x\n    env: *env\n" for i in range(20)
    )
    path = tmp_path / "reuse.yaml"
    path.write_text(
        "mcp_servers:\n  s:\n    type: custom\n    command: x\n"
        f"    env: &env\n      - {{name: A, value: b}}\n{servers}"
    )
    assert main(["check-config", str(path)]) == 0, capsys.readouterr().out
    assert MAX_ALIAS_EXPANSIONS >= 20
