"""A newcomer's first commands, with real MCP servers as subprocesses: `tools` (one server,
its error once, a non-zero exit), its JSON read back by `route --catalogue`, and the example
config's script paths started from another working directory."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from orchestrator.admin.doctor.checks import hub_findings
from orchestrator.cli import main as cli_main
from orchestrator.config import load_config
from orchestrator.mcp.hub import McpHub
from orchestrator.routing.catalogue import load_catalogue_file
from tests.conftest import REPO, time_server_yaml
from tests.hubkit import SERVERS


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        f"mcp_servers:\n{time_server_yaml()}"
        "  broken:\n    type: custom\n"
        f"    command: {sys.executable}\n    args: ['{SERVERS}', 'start_crash']\n"
        "    startup_timeout_seconds: 10\n"
    )
    return path


def test_tools_with_a_server_down_exits_1_and_prints_its_error_once(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(["tools", "--config", str(_config(tmp_path))])
    out, err = capfd.readouterr()
    assert code == 1, out + err
    assert (out + err).count("missing API key") == 1, out + err
    assert "time: up" in out and "get_current_time" in out


async def test_doctor_fix_line_names_a_command_that_shows_the_server_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    hub = McpHub.from_config(load_config(config))
    await hub.start()
    try:
        statuses = hub.status()
    finally:
        await hub.stop()
    fix = next(f.fix for f in hub_findings(statuses) if f.check == "mcp broken")
    command = fix.split("`")[1].split()  # e.g. orchestrator tools --server broken
    assert command[0] == "orchestrator", fix
    capfd.readouterr()
    code = await asyncio.to_thread(cli_main, [*command[1:], "--config", str(config)])
    out, err = capfd.readouterr()
    assert code == 1 and "missing API key" in out, out + err
    assert "get_current_time" not in out  # only the named server was started


async def test_route_reads_the_catalogue_that_tools_json_prints(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        f"mcp_servers:\n{time_server_yaml()}"
    )
    code = await asyncio.to_thread(cli_main, ["tools", "--config", str(config), "--json"])
    out, _ = capfd.readouterr()
    assert code == 0
    catalogue = tmp_path / "tools.json"
    catalogue.write_text(out)
    specs = load_catalogue_file(catalogue)
    assert {s.key for s in specs} >= {"time/get_current_time", "time/convert_time"}
    now = next(s for s in specs if s.name == "get_current_time")
    assert "timezone" in now.input_schema["properties"]  # the schema travels too


def test_example_clickup_path_starts_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = REPO / "config" / "orchestrator.example.yaml"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    env = {"OPENAI_API_KEY": "k", "CLICKUP_API_TOKEN": "c", "TELEGRAM_BOT_TOKEN": "1:t"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clickup = load_config(example).mcp_servers["clickup"]
    script = Path(clickup.args[0])
    assert script.is_absolute() and script.is_file(), clickup.args
    assert script == REPO / "custom_servers" / "clickup_mcp_server.py"


def test_a_script_beside_the_config_file_is_found_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "my_server.py").write_text(
        (REPO / "tests" / "servers" / "annotated_tools.py").read_text()
    )
    config = deploy / "c.yaml"
    config.write_text(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        "mcp_servers:\n  mine:\n    type: custom\n    command: python3\n"
        "    args: ['./my_server.py', './calls.log']\n"
    )
    monkeypatch.chdir(tmp_path)
    code = cli_main(["tools", "--config", str(config)])
    out, err = capfd.readouterr()
    assert code == 0 and "mine: up" in out, out + err


async def test_schedule_list_prints_every_schedule_of_every_chat(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import add_schedule

    schedules = tmp_path / "s.json"
    await add_schedule(schedules, "aaaaa", "telegram:-555")
    await add_schedule(schedules, "bbbbb", "console:team")
    config = tmp_path / "c.yaml"
    config.write_text(f"scheduler: {{path: '{schedules}'}}\n")
    code = await asyncio.to_thread(cli_main, ["schedule", "list", "--config", str(config)])
    lines = capfd.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 2, lines
    assert lines[0].startswith("console:team aaaaa: every day at 09:00 (UTC), next ")
    assert "-> telegram:-555" in lines[0] and lines[0].endswith("by Ann: post the stats")
    assert lines[1].startswith("console:team bbbbb: ") and "->" not in lines[1]
    empty = tmp_path / "e.yaml"
    empty.write_text(f"scheduler: {{path: '{tmp_path / 'none.json'}'}}\n")
    assert await asyncio.to_thread(cli_main, ["schedule", "list", "--config", str(empty)]) == 0
    assert capfd.readouterr().out.startswith("No schedules.")
