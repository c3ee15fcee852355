"""Secrets by what they are (issues 27, 29): a credential is masked wherever it appears, as a
whole or inside a larger string; a value that merely came from the environment is shown as is,
and tool output is never altered but for secret substrings."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.admin.audit_sink import install_audit_sink
from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.conftest import time_server_yaml

TOKEN = "tok-4f9c2a7e1b"
ENV = {
    "LLM_MODEL": "llama3.1",
    "TZ_NAME": "Europe/London",
    "OPENAI_API_KEY": "sk-live-a1b2c3d4",
    "TOKEN": TOKEN,
}


def config_yaml(tmp_path: Path) -> str:
    return (
        "orchestrator:\n"
        "  llm_settings:\n"
        "    model: ${LLM_MODEL}\n    api_key: ${OPENAI_API_KEY}\n"
        "    base_url: http://127.0.0.1:9/v1\n    max_retries: 0\n"
        "  memory_system: {type: none}\n"
        f"scheduler: {{default_timezone: '${{TZ_NAME}}', path: '{tmp_path}/s.json'}}\n"
        f"audit: {{path: '{tmp_path}/audit.jsonl'}}\n"
        "admins: ['test:boss']\n"
        f"mcp_servers:\n{time_server_yaml()}"
        "    env:\n      - name: AUTHORIZATION\n        value: 'Bearer ${TOKEN}'\n"
    )


def say(text: str) -> ChatMessage:
    return ChatMessage(platform="test", chat_id="c1", user_id="boss", text=text, user_name="b")


async def test_environment_values_that_are_not_secrets_are_shown(tmp_path: Path) -> None:
    bot = build_orchestrator(parse_config(config_yaml(tmp_path), env=ENV))
    await bot.start()
    try:
        status = (await bot.handle(say("/status")))[0].text
        zone = (await bot.handle(say("/timezone")))[0].text
        run = await bot.handle(say('/run time get_current_time {"timezone":"Europe/London"}'))
        shown = (await bot.handle(say("/config")))[0].text
    finally:
        await bot.stop()
    assert "LLM: llama3.1 via openai" in status
    assert "Europe/London" in zone and "***" not in zone
    result = run[0].text
    assert '"timezone": "Europe/London"' in result and "***" not in result
    assert "max_tokens: 1024" in shown and "model: llama3.1" in shown
    assert "default_timezone: Europe/London" in shown
    assert "sk-live-a1b2c3d4" not in shown and TOKEN not in shown and "api_key: '***'" in shown


async def test_a_token_inside_a_bearer_header_never_reaches_a_reply(tmp_path: Path) -> None:
    """The server's error quotes the bare token, not the whole "Bearer ..." value."""
    bot = build_orchestrator(parse_config(config_yaml(tmp_path), env=ENV))
    await bot.start()
    try:
        replies = await bot.handle(say(f'/run time get_current_time {{"timezone": "{TOKEN}"}}'))
    finally:
        await bot.stop()
    text = replies[0].text
    assert TOKEN not in text and "***" in text, text


async def test_audit_records_hold_no_secret(tmp_path: Path) -> None:
    config = parse_config(config_yaml(tmp_path), env=ENV)
    sink = install_audit_sink(config)
    bot = build_orchestrator(config)
    await bot.start()
    try:
        await bot.handle(say(f'/run time get_current_time {{"timezone": "{TOKEN}"}}'))
    finally:
        await bot.stop()
        if sink is not None:
            sink.close()
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert any(r.get("tool") == "time/get_current_time" for r in records), records
    assert TOKEN not in "\n".join(lines)


async def test_a_secret_added_by_a_reload_is_masked_in_the_log_from_then_on(
    tmp_path: Path,
) -> None:
    import io
    import logging

    from orchestrator.config import load_config
    from orchestrator.logsetup import make_formatter
    from orchestrator.redact import RedactingFormatter, Redactor

    fresh = "tok-added-by-reload-9d8e7f"
    path = tmp_path / "bot.yaml"
    base = "orchestrator:\n  memory_system: {type: none}\nadmins: ['test:boss']\n"
    path.write_text(base)
    config = load_config(path)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        RedactingFormatter(make_formatter(config.logging), Redactor(config.secrets))
    )
    logging.getLogger().addHandler(handler)
    bot = build_orchestrator(config)
    await bot.start()
    try:
        path.write_text(base + f"bots:\n  telegram: {{token: '{fresh}'}}\n")
        assert (await bot.handle(say("/reload")))[0].text
        logging.getLogger("probe").warning("upstream said: invalid token %s", fresh)
    finally:
        await bot.stop()
        logging.getLogger().removeHandler(handler)
    assert "upstream said: invalid token ***" in stream.getvalue()
    assert fresh not in stream.getvalue()
