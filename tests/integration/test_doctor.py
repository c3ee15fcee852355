"""`orchestrator doctor` against the fake Bot API, a real dead MCP server, a closed Redis port,
the fake OpenAI server and a real schedule file: each finding and its fix, and the exit code."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from orchestrator.admin.doctor.base import Level, exit_code, format_report
from orchestrator.cli import main as cli_main
from orchestrator.cli.doctor import run_doctor
from tests.conftest import time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, text
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import add_schedule
from tests.hubkit import SERVERS

HOOK_URL = "https://bot.example.com/telegram"


async def test_doctor_names_every_cause_of_silence_with_its_fix(tmp_path: Path) -> None:
    schedules = tmp_path / "s.json"
    await add_schedule(schedules, "aaaaa", "telegram:-555")
    await add_schedule(schedules, "bbbbb", "discord:123")
    async with FakeTelegram() as fake:
        fake.can_read_all_group_messages = False  # privacy mode on (BotFather's default)
        fake.webhook = {
            "url": HOOK_URL,
            "pending_update_count": 3,
            "last_error_date": int(time.time()) - 60,
            "last_error_message": "Connection timed out",
        }
        config = tmp_path / "c.yaml"
        config.write_text(
            "orchestrator:\n  memory_system: {type: none}\n"
            f"bots:\n  telegram:\n    token: '{fake.token}'\n    base_url: '{fake.base_url}'\n"
            f"    respond_to: all\n    webhook: {{url: '{HOOK_URL}'}}\n"
            "sessions: {backend: redis, url: 'redis://127.0.0.1:1/0'}\n"
            f"scheduler: {{path: '{schedules}'}}\n"
            "mcp_servers:\n  broken:\n    type: custom\n"
            f"    command: {sys.executable}\n    args: ['{SERVERS}', 'start_crash']\n"
            "    startup_timeout_seconds: 10\n"
        )
        findings = await run_doctor(str(config))
        code = await asyncio.to_thread(cli_main, ["doctor", "--config", str(config)])
    report = format_report(findings)
    by_check = {(f.check, f.level) for f in findings}
    assert exit_code(findings) == 2 and code == 2, report

    privacy = next(f for f in findings if f.check == "telegram privacy")
    assert privacy.level is Level.FAIL and "respond_to is all" in privacy.detail
    assert "/setprivacy" in privacy.fix

    webhook = [f for f in findings if f.check == "telegram webhook"]
    assert any(
        f.level is Level.FAIL and "Connection timed out" in f.detail and "/healthz" in f.fix
        for f in webhook
    ), report

    broken = next(f for f in findings if f.check == "mcp broken")
    assert broken.level is Level.FAIL and "missing API key" in broken.detail
    assert "mcp_servers.broken" in broken.fix

    redis = next(f for f in findings if f.check == "redis")
    assert redis.level is Level.FAIL and "REDIS_URL" in redis.fix

    unreachable = next(f for f in findings if f.check == "telegram chat -555")
    assert unreachable.level is Level.FAIL and "Chat not found" in unreachable.detail
    discord = next(f for f in findings if f.check == "schedules")
    assert "bbbbb" in discord.detail and "bots.discord.token" in discord.fix

    assert ("telegram", Level.OK) in by_check  # the token itself is fine
    assert ("llm", Level.WARN) in by_check
    assert "fix: @BotFather: /setprivacy" in report
    assert fake.token not in report


async def test_doctor_exit_code_is_1_for_warnings_only(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n")
    findings = await run_doctor(str(config))
    assert exit_code(findings) == 1, format_report(findings)
    llm = next(f for f in findings if f.check == "llm")
    assert llm.level is Level.WARN and "OPENAI_API_KEY" in llm.fix


async def test_doctor_exit_code_is_0_when_everything_answers(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        fake.can_read_all_group_messages = True
        with FakeOpenAI(default=text("OK")) as llm:
            config = tmp_path / "c.yaml"
            config.write_text(
                f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
                f"  memory_system: {{persist_directory: '{tmp_path / 'mem'}'}}\n"
                f"bots:\n  telegram: {{token: '{fake.token}', base_url: '{fake.base_url}', "
                "respond_to: all}\n"
                f"scheduler: {{path: '{tmp_path / 's.json'}'}}\n"
                f"mcp_servers:\n{time_server_yaml()}"
            )
            findings = await run_doctor(str(config))
            offered = llm.requests[-1]["body"]["tools"]
    assert exit_code(findings) == 0, format_report(findings)
    assert offered[0]["function"]["name"] == "doctor_ping"  # the model was asked with a tool
    assert any(f.check == "mcp time" and "tools" in f.detail for f in findings)


async def test_in_chat_doctor_reports_the_running_servers(tmp_path: Path) -> None:
    from orchestrator.app import build_orchestrator
    from orchestrator.config import load_config
    from orchestrator.messages import ChatMessage

    config = tmp_path / "c.yaml"
    config.write_text(
        "orchestrator:\n  memory_system: {type: none}\nadmins: ['console:boss']\n"
        f"scheduler: {{path: '{tmp_path / 's.json'}'}}\n"
        f"mcp_servers:\n{time_server_yaml()}"
    )
    bot = build_orchestrator(load_config(config))
    await bot.start()
    try:
        reply = await bot.handle(ChatMessage("console", "team", "boss", "/doctor"))
    finally:
        await bot.stop()
    assert reply[0].text.startswith("Warnings found.")  # no LLM configured
    assert "OK   mcp time: up," in reply[0].text


async def test_first_webhook_deploy_release_passes_before_the_webhook_is_set(
    tmp_path: Path,
) -> None:
    """The Procfile's `release: orchestrator doctor; test $? -lt 2` runs before the web process
    that sets the webhook has ever started: "not set yet" warns, the release goes on."""
    async with FakeTelegram() as fake:
        fake.can_read_all_group_messages = True
        assert not fake.webhook.get("url")  # a bot that has never had a webhook
        config = tmp_path / "c.yaml"
        config.write_text(
            "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
            f"bots:\n  telegram:\n    token: '{fake.token}'\n    base_url: '{fake.base_url}'\n"
            f"    webhook: {{url: '{HOOK_URL}'}}\n"
        )
        findings = await run_doctor(str(config))
        code = await asyncio.to_thread(cli_main, ["doctor", "--config", str(config)])
    hook = next(f for f in findings if f.check == "telegram webhook")
    assert hook.level is Level.WARN and "no webhook is set yet" in hook.detail, format_report(
        findings
    )
    assert "orchestrator run telegram" in hook.fix
    assert code == 1  # `test $? -lt 2` passes


async def test_a_console_schedule_does_not_fail_the_doctor(tmp_path: Path) -> None:
    schedules = tmp_path / "s.json"
    await add_schedule(schedules, "ccccc", "console:team")
    config = tmp_path / "c.yaml"
    config.write_text(
        f"orchestrator:\n  memory_system: {{type: none}}\nscheduler: {{path: '{schedules}'}}\n"
    )
    findings = await run_doctor(str(config))
    found = next(f for f in findings if f.check == "schedules")
    assert found.level is Level.OK and "console" in found.detail, format_report(findings)
    assert "bots.console" not in format_report(findings)
    assert exit_code(findings) == 1  # only the missing LLM warns


async def test_redis_round_trip_is_measured_on_an_open_connection_while_other_checks_block(
    redis_url: str,
) -> None:
    """Doctor runs its checks at once and some hold the event loop (the openai import takes
    about a second): the Redis figure must not count that, nor the connection set-up."""
    from orchestrator.admin.doctor.base import ok, run_checks
    from orchestrator.admin.doctor.checks import check_redis
    from orchestrator.config import parse_config

    config = parse_config(f"sessions: {{backend: redis, url: '{redis_url}'}}\n", env={})

    async def blocks_the_loop() -> list:  # type: ignore[type-arg]
        await asyncio.sleep(0)
        time.sleep(0.3)  # stands for a slow synchronous import in another check
        return [ok("other", "done")]

    async def redis() -> list:  # type: ignore[type-arg]
        return await check_redis(config)

    findings = await run_checks([("other", blocks_the_loop), ("redis", redis)])
    found = next(f for f in findings if f.check == "redis")
    assert found.level is Level.OK, found


async def test_doctor_says_privacy_mode_hides_the_conversation_context(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        fake.can_read_all_group_messages = False  # privacy mode on, respond_to: mentions
        found = {}
        for name, context in (("on", ""), ("off", "context: {enabled: false}\n")):
            config = tmp_path / f"{name}.yaml"
            config.write_text(
                "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
                f"bots:\n  telegram: {{token: '{fake.token}', base_url: '{fake.base_url}'}}\n"
                + context
            )
            findings = await run_doctor(str(config))
            found[name] = next(f for f in findings if f.check == "telegram privacy")
    assert found["on"].level is Level.WARN and "conversation context" in found["on"].detail
    assert "/setprivacy" in found["on"].fix and "context.enabled: false" in found["on"].fix
    assert found["off"].level is Level.OK
