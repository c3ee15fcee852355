"""Admin operations through the real core: run history, audit trail, reload, admin commands,
budgets and the policy layer (admins list, rate limits), with the fake OpenAI server and real
MCP subprocesses at the wire."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.admin.audit_sink import install_audit_sink
from orchestrator.app import build_orchestrator
from orchestrator.cli import main as cli_main
from orchestrator.clock import FakeClock
from orchestrator.config import load_config, parse_config
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, ReplyKind
from tests.conftest import time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, error, text, tool_call
from tests.hubkit import SERVERS, child_processes
from tests.recording_adapter import RecordingAdapter

ADMIN = ChatMessage("console", "team", "boss", "", user_name="Boss")
MEMBER = ChatMessage("console", "team", "ann", "", user_name="Ann")


def say(who: ChatMessage, text_: str) -> ChatMessage:
    return ChatMessage(who.platform, who.chat_id, who.user_id, text_, user_name=who.user_name)


def base_yaml(llm_url: str | None = None, extra: str = "", servers: str = "") -> str:
    llm = (
        f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0, model: m1}}\n"
        if llm_url
        else ""
    )
    return (
        f"orchestrator:\n{llm}  memory_system: {{type: none}}\n"
        f"admins: ['console:boss']\n{extra}" + (f"mcp_servers:\n{servers}" if servers else "")
    )


async def started(bot: Orchestrator) -> Orchestrator:
    await bot.start()
    return bot


# -- run history -------------------------------------------------------------------------------


async def test_run_history_keeps_a_success_a_failure_and_the_pause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))  # a Sunday
    script = [
        tool_call("time__get_current_time", {"timezone": "UTC"}),
        text("It is Monday."),
        error(500, "model overloaded"),
    ]
    with FakeOpenAI(script=script) as llm:
        config = parse_config(
            base_yaml(
                llm.base_url,
                f"scheduler: {{path: '{tmp_path / 's.json'}', max_failures: 1}}\n",
                time_server_yaml(),
            ),
            env={},
        )
        bot = await started(build_orchestrator(config, clock=clock))
        bot.attach(RecordingAdapter("console"))
        assert bot.scheduler is not None
        try:
            created = await bot.handle(say(MEMBER, "/schedule daily at 9 check the time"))
            sid = created[0].text.split()[1].rstrip(":")
            clock.set(datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC))
            assert await bot.scheduler.tick() == 1  # type: ignore[attr-defined]
            clock.set(datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC))
            assert await bot.scheduler.tick() == 1  # type: ignore[attr-defined]
            runs = (await bot.handle(say(MEMBER, f"/runs {sid}")))[0].text
            listing = (await bot.handle(say(MEMBER, "/schedules")))[0].text
            other = await bot.handle(ChatMessage("console", "elsewhere", "ann", f"/runs {sid}"))
        finally:
            await bot.stop()
    lines = runs.splitlines()
    assert lines[0].startswith(f"Recent runs of {sid}")
    assert "Tue 01 Dec 09:00 failed:" in lines[1] and "(paused after this)" in lines[1]
    assert "Mon 30 Nov 09:00 ok" in lines[2] and "tools: time/get_current_time" in lines[2]
    assert f"{sid} is paused" in lines[-1]
    assert f"{sid}: every day at 09:00 (UTC), paused, last run Tue 01 Dec 09:00 failed" in listing
    assert other[0].kind is ReplyKind.ERROR  # another chat cannot read this chat's runs

    cli_config = _write(tmp_path, f"scheduler: {{path: '{tmp_path / 's.json'}'}}\n")
    capsys.readouterr()
    code = await asyncio.to_thread(cli_main, ["schedule", "runs", sid, "--config", str(cli_config)])
    assert code == 0 and capsys.readouterr().out.strip() == runs
    missing = await asyncio.to_thread(
        cli_main, ["schedule", "runs", "zzzzz", "--config", str(cli_config)]
    )
    assert missing == 2


def _write(tmp_path: Path, config_text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(config_text)
    return path


# -- audit trail -------------------------------------------------------------------------------


@pytest.fixture
def audit_file(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "audit.jsonl"
    config = parse_config(f"audit: {{path: '{path}'}}\n", env={})
    sink = install_audit_sink(config)
    assert sink is not None
    yield path
    sink.close()


async def test_audit_lines_for_a_tool_call_an_approval_and_a_reload(
    tmp_path: Path, audit_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = _write(tmp_path, base_yaml(servers=time_server_yaml()))
    bot = await started(build_orchestrator(load_config(config_path)))
    try:
        await bot.handle(say(MEMBER, '/run time get_current_time {"timezone": "Europe/London"}'))
        await bot.handle(say(MEMBER, "/cancel abc123"))
        await bot.handle(say(ADMIN, "/reload"))
    finally:
        await bot.stop()
    # An hour-old record the --since filter must drop.
    old = {
        "ts": time.time() - 7200,
        "action": "tool_call",
        "platform": "console",
        "chat": "team",
        "user": "ann",
        "tool": "old/tool",
        "outcome": "ok",
    }
    with audit_file.open("a") as handle:
        handle.write(json.dumps(old) + "\n")
    deadline = time.monotonic() + 5
    records: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        records = [json.loads(line) for line in audit_file.read_text().splitlines()]
        if any(r["action"] == "reload" for r in records):
            break
        time.sleep(0.02)  # the sink writes from its listener thread
    actions = {r["action"]: r for r in records if r["tool"] != "old/tool"}
    call = actions["tool_call"]
    assert call["tool"] == "time/get_current_time" and call["arg_keys"] == ["timezone"]
    assert call["user"] == "ann" and call["chat"] == "team" and call["outcome"] == "ok"
    assert "Europe/London" not in audit_file.read_text()  # keys only, never values
    assert actions["approval"]["outcome"] == "error" and actions["approval"]["user"] == "ann"
    assert actions["reload"]["user"] == "boss" and actions["reload"]["outcome"] == "ok"

    audit_config = _write(tmp_path, f"audit: {{path: '{audit_file}'}}\n", "a.yaml")
    capsys.readouterr()
    assert cli_main(["audit", "--config", str(audit_config), "--since", "1h", "--json"]) == 0
    recent = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "old/tool" not in {r["tool"] for r in recent}
    assert {"tool_call", "approval", "reload"} <= {r["action"] for r in recent}
    assert cli_main(["audit", "--config", str(audit_config), "--since", "3h"]) == 0
    assert "old/tool" in capsys.readouterr().out
    assert cli_main(["audit", "--config", str(audit_config), "--user", "nobody"]) == 0
    assert capsys.readouterr().out == ""


# -- reload ------------------------------------------------------------------------------------


async def test_reload_applies_the_llm_model_and_restarts_only_the_changed_server(
    tmp_path: Path,
) -> None:
    with FakeOpenAI(default=text("hi")) as llm:
        servers = time_server_yaml("alpha") + time_server_yaml("beta")
        path = _write(tmp_path, base_yaml(llm.base_url, servers=servers))
        bot = await started(build_orchestrator(load_config(path)))
        try:
            before = {p for p, _, cmd in child_processes("mcp_server_time")}
            assert len(before) == 2
            await bot.handle(say(MEMBER, "hello"))
            assert llm.requests[-1]["body"]["model"] == "m1"

            changed = base_yaml(llm.base_url, servers=servers).replace("model: m1", "model: m2")
            changed = changed.replace(
                "  beta:\n    type: custom\n", "  beta:\n    type: custom\n    timeout_seconds: 9\n"
            )
            path.write_text(changed)
            reply = (await bot.handle(say(ADMIN, "/reload")))[0].text
            await bot.handle(say(MEMBER, "hello again"))
            model_after_reload = llm.requests[-1]["body"]["model"]
            after = {p for p, _, cmd in child_processes("mcp_server_time")}
            status = {s.name: s.state for s in bot.services.hub.status()}

            path.write_text("orchestrator:\n  llm_settings: [not, a, mapping]\n")
            rejected = (await bot.handle(say(ADMIN, "/reload")))[0].text
            await bot.handle(say(MEMBER, "still there?"))
            model_after_rejection = llm.requests[-1]["body"]["model"]
        finally:
            await bot.stop()
    assert model_after_reload == "m2"
    assert "orchestrator.llm_settings.model" in reply
    assert "Servers restarted: beta" in reply and "alpha" not in reply.split("restarted:")[1]
    assert len(before & after) == 1  # alpha kept its process, beta got a new one
    assert len(after) == 2 and status == {"alpha": "up", "beta": "up"}
    assert rejected.startswith("The new config is invalid; still running the old one")
    assert model_after_rejection == "m2"


async def test_reload_names_settings_that_need_a_restart(tmp_path: Path) -> None:
    path = _write(tmp_path, base_yaml())
    bot = build_orchestrator(load_config(path))
    path.write_text(
        base_yaml(extra="limits: {messages_per_minute_per_user: 3}\n")
        + "bots:\n  telegram: {token: '123:abc'}\n"
    )
    reply = (await bot.handle(say(ADMIN, "/reload")))[0].text
    assert "Applied: limits.messages_per_minute_per_user" in reply
    assert "Needs a restart to take effect: bots.telegram.token" in reply
    assert "123:abc" not in reply
    assert bot.rate_limits.per_minute == 3


async def test_sighup_reloads_like_the_command(tmp_path: Path) -> None:
    import signal

    path = _write(tmp_path, base_yaml())
    bot = await started(build_orchestrator(load_config(path)))
    try:
        path.write_text(base_yaml(extra="limits: {messages_per_minute_per_user: 7}\n"))
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            if bot.config.limits.messages_per_minute_per_user == 7:
                break
            await asyncio.sleep(0.01)
    finally:
        await bot.stop()
    assert bot.config.limits.messages_per_minute_per_user == 7


async def test_sighup_logs_its_outcome_and_a_rejected_reload_is_audited_with_its_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import signal

    from orchestrator.audit import AUDIT_LOGGER

    records: list[dict[str, object]] = []

    class Trail(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.audit)  # type: ignore[attr-defined]

    trail = Trail()
    logging.getLogger(AUDIT_LOGGER).addHandler(trail)
    caplog.set_level(logging.INFO, logger="orchestrator.reload")
    path = _write(tmp_path, base_yaml())
    bot = await started(build_orchestrator(load_config(path)))
    try:
        path.write_text(base_yaml(extra="limits: {messages_per_minute_per_user: 7}\n"))
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(500):
            if any("outcome=applied" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.01)
        path.write_text(base_yaml(extra="limits: {messages_per_minute_per_user: lots}\n"))
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(500):
            if any(r.get("outcome") == "rejected" for r in records):
                break
            await asyncio.sleep(0.01)
        reply = (await bot.handle(say(ADMIN, "/reload")))[0]
    finally:
        await bot.stop()
        logging.getLogger(AUDIT_LOGGER).removeHandler(trail)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("config_reload")]
    applied = [line for line in lines if "trigger=sighup outcome=applied" in line]
    assert applied and "limits.messages_per_minute_per_user" in applied[0], lines
    rejected = [line for line in lines if "trigger=sighup outcome=rejected" in line]
    assert rejected and "messages_per_minute_per_user" in rejected[0], lines
    reloads = [r for r in records if r["action"] == "reload"]
    assert [r["outcome"] for r in reloads] == ["ok", "rejected", "rejected"], reloads
    assert "messages_per_minute_per_user" in str(reloads[1]["detail"])
    assert reply.kind is ReplyKind.ERROR and reply.text.startswith("The new config is invalid")
    command = [r for r in records if r["action"] == "admin_command" and r["tool"] == "/reload"]
    assert command and command[-1]["outcome"] == "error"
    assert bot.config.limits.messages_per_minute_per_user == 7  # the old config kept


# -- admin commands ----------------------------------------------------------------------------


async def test_non_admins_are_refused_and_config_holds_no_secret(tmp_path: Path) -> None:
    env = {"CLICKUP_API_TOKEN": "pk_live_supersecret_123", "TG": "999:tg-secret-token"}
    config = parse_config(
        base_yaml(servers=time_server_yaml()) + "bots:\n  telegram: {token: '${TG}'}\n",
        env=env,
    )
    config = config.model_copy(
        update={
            "mcp_servers": {
                **config.mcp_servers,
                "time": config.mcp_servers["time"].model_copy(
                    update={"env": {"CLICKUP_API_TOKEN": "pk_live_supersecret_123"}}
                ),
            }
        }
    )
    bot = build_orchestrator(config)
    for command in ("/doctor", "/config", "/allow time", "/deny time"):
        reply = (await bot.handle(say(MEMBER, command)))[0]
        assert reply.kind is ReplyKind.ERROR and "for admins only" in reply.text, command
    shown = (await bot.handle(say(ADMIN, "/config")))[0].text
    assert "tool_routing" in shown and "CLICKUP_API_TOKEN: '***'" in shown
    assert "supersecret" not in shown and "tg-secret-token" not in shown and "999:" not in shown


async def test_allow_and_deny_change_this_chats_tools_only(tmp_path: Path) -> None:
    config = parse_config(base_yaml(servers=time_server_yaml()), env={})
    bot = await started(build_orchestrator(config))
    try:
        denied = (await bot.handle(say(ADMIN, "/deny time/convert_time")))[0].text
        tools_here = (await bot.handle(say(MEMBER, "/tools")))[0].text
        run = (await bot.handle(say(MEMBER, "/run time convert_time {}")))[0]
        tools_elsewhere = (await bot.handle(ChatMessage("console", "other", "ann", "/tools")))[
            0
        ].text
        allowed = (await bot.handle(say(ADMIN, "/allow time/convert_time")))[0].text
        tools_again = (await bot.handle(say(MEMBER, "/tools")))[0].text
    finally:
        await bot.stop()
    assert "time/convert_time" in denied
    assert "convert_time" not in tools_here and "get_current_time" in tools_here
    assert "not allowed in this chat" in run.text
    assert "convert_time" in tools_elsewhere
    assert "time/convert_time" in allowed and "convert_time" in tools_again


# -- budgets -----------------------------------------------------------------------------------


async def test_a_token_budget_trips_at_its_number_and_resets_the_next_day() -> None:
    clock = FakeClock(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))
    with FakeOpenAI(default=text("ok")) as llm:  # every completion reports 15 tokens
        config = parse_config(
            base_yaml(
                llm.base_url,
                "limits: {llm_tokens_per_chat_per_day: 30}\nscheduler: {enabled: false}\n",
            ),
            env={},
        )
        bot = build_orchestrator(config, clock=clock)
        first = await bot.handle(say(MEMBER, "one"))
        second = await bot.handle(say(ADMIN, "two"))
        refused = await bot.handle(say(MEMBER, "three"))
        calls_when_refused = len(llm.requests)
        clock.set(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))
        next_day = await bot.handle(say(MEMBER, "four"))
    assert first[0].text == "ok" and second[0].text == "ok"
    assert refused[0].kind is ReplyKind.ERROR
    assert "30 LLM tokens" in refused[0].text and "llm_tokens_per_chat_per_day" in refused[0].text
    assert "resets at 00:00 UTC, in 2 h 0 min" in refused[0].text
    assert calls_when_refused == 2  # the refused request never reached the model
    assert next_day[0].text == "ok"


async def test_a_per_user_budget_refuses_only_that_user() -> None:
    clock = FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    with FakeOpenAI(default=text("ok")) as llm:
        config = parse_config(
            base_yaml(
                llm.base_url,
                "limits: {llm_tokens_per_user_per_day: 15}\nscheduler: {enabled: false}\n",
            ),
            env={},
        )
        bot = build_orchestrator(config, clock=clock)
        await bot.handle(say(MEMBER, "one"))
        refused = await bot.handle(say(MEMBER, "two"))
        other = await bot.handle(say(ADMIN, "three"))
    assert refused[0].kind is ReplyKind.ERROR and "You have used today's 15" in refused[0].text
    assert other[0].text == "ok"


# -- policy layer ------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["console", "telegram", "discord"])
async def test_the_admins_list_grants_admin_commands_on_each_platform(platform: str) -> None:
    config = parse_config(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        f"admins: ['{platform}:42']\n"
        "chats:\n  'discord:9': {admins: ['7']}\n",
        env={},
    )
    bot = build_orchestrator(config)
    listed = await bot.handle(ChatMessage(platform, "9", "42", "/config"))
    other_platform = "discord" if platform != "discord" else "telegram"
    elsewhere = await bot.handle(ChatMessage(other_platform, "9", "42", "/config"))
    stranger = await bot.handle(ChatMessage(platform, "9", "43", "/config"))
    assert listed[0].kind is not ReplyKind.ERROR and "admins:" in listed[0].text
    assert "for admins only" in elsewhere[0].text  # `telegram:42` is not `discord:42`
    assert "for admins only" in stranger[0].text
    chat_admin = await bot.handle(ChatMessage("discord", "9", "7", "/config"))
    assert chat_admin[0].kind is not ReplyKind.ERROR  # a chat-level admin


async def test_messages_per_minute_per_user_trips_at_its_number() -> None:
    config = parse_config(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        "limits: {messages_per_minute_per_user: 3}\n",
        env={},
    )
    bot = build_orchestrator(config)
    replies = [await bot.handle(say(MEMBER, "/help")) for _ in range(4)]
    assert all(r[0].kind is not ReplyKind.ERROR for r in replies[:3])
    assert "too fast" in replies[3][0].text
    assert (await bot.handle(say(ADMIN, "/help")))[0].kind is not ReplyKind.ERROR  # per user


def gate_server_yaml(rate: float | None) -> str:
    """Our gate server (tests/servers): it reports how many calls it had in flight at once."""
    limit = f"    rate_limit_per_second: {rate:g}\n" if rate else ""
    return (
        f"  gate:\n    type: custom\n    command: {sys.executable}\n"
        f"    args: ['{SERVERS}', 'gate']\n{limit}"
    )


async def calls_in_flight_together(rate: float | None, hold: float) -> list[str]:
    """Three people in one chat `/run` the gate tool at once; what the server saw, per call."""
    config = parse_config(base_yaml(servers=gate_server_yaml(rate)), env={})
    bot = await started(build_orchestrator(config))
    # Each call waits until all three are in flight on the server, or `hold` seconds.
    run = f'/run gate arrive {{"expect": 3, "hold": {hold:g}}}'
    try:
        replies = await asyncio.gather(
            *(bot.handle(ChatMessage("console", "team", user, run)) for user in ("a", "b", "c"))
        )
    finally:
        await bot.stop()
    return sorted(re.findall(r"arrival \d+ saw \d+ in flight", r[0].text)[0] for r in replies)


async def test_a_servers_rate_limit_per_second_spaces_the_calls_the_server_sees() -> None:
    # One call per 2 s: a call gives up waiting alone after 0.5 s, 1.5 s before the next may
    # start, a margin no loaded machine eats; unlimited, the calls wait for each other (up to 60 s)
    limited = await calls_in_flight_together(rate=0.5, hold=0.5)
    unlimited = await calls_in_flight_together(rate=None, hold=60)
    assert limited == [f"arrival {n} saw 1 in flight" for n in (1, 2, 3)]
    assert unlimited == [f"arrival {n} saw 3 in flight" for n in (1, 2, 3)]  # the control
