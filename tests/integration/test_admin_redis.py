"""The admin parts that live in Redis, against the real Redis (own key prefix, cleaned up): the
audit trail's stream and `orchestrator audit` reading it back, and the token budget counters
that every process shares."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.admin.audit_sink import install_audit_sink
from orchestrator.admin.budgets import HISTORY_DAYS
from orchestrator.app import build_orchestrator
from orchestrator.cli import main as cli_main
from orchestrator.clock import FakeClock
from orchestrator.config import load_config, parse_config
from orchestrator.messages import ChatMessage, ReplyKind
from tests.conftest import time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, text


def redis_yaml(redis_url: str, key_prefix: str) -> str:
    return (
        "orchestrator:\n  memory_system: {type: none}\n"
        f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{key_prefix}'}}\n"
        "scheduler: {enabled: false}\nadmins: ['console:boss']\n"
    )


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli_main(list(args))
    return code, capsys.readouterr().out


async def test_audit_records_go_to_the_redis_stream_and_the_cli_reads_them_back(
    tmp_path: Path,
    redis_url: str,
    key_prefix: str,
    redis_client: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(redis_yaml(redis_url, key_prefix) + f"mcp_servers:\n{time_server_yaml()}")
    config = load_config(path)
    stream = f"{key_prefix}:audit"
    # A record from two hours ago (a stream id is its millisecond time) that --since must drop.
    old_ms = int((time.time() - 7200) * 1000)
    old = {"ts": old_ms / 1000, "action": "tool_call", "platform": "console", "chat": "team"}
    old |= {"user": "ann", "tool": "old/tool", "arg_keys": [], "outcome": "ok"}
    await redis_client.xadd(stream, {"record": json.dumps(old)}, id=f"{old_ms}-0")
    sink = install_audit_sink(config)
    assert sink is not None
    bot = build_orchestrator(config)
    await bot.start()
    try:
        run = '/run time get_current_time {"timezone": "Europe/London"}'
        await bot.handle(ChatMessage("console", "team", "ann", run))
        await bot.handle(ChatMessage("console", "ops", "boss", "/reload"))
    finally:
        await bot.stop()
        sink.close()  # flushes the listener thread's queue into the stream
    entries = (await redis_client.xrange(stream))[1:]
    records = [json.loads(fields[b"record"]) for _id, fields in entries]
    assert [r["action"] for r in records] == ["tool_call", "reload", "admin_command"]
    call = records[0]
    assert call["tool"] == "time/get_current_time" and call["arg_keys"] == ["timezone"]
    assert (call["chat"], call["user"], call["outcome"]) == ("team", "ann", "ok")
    assert not any(b"Europe/London" in fields[b"record"] for _id, fields in entries)

    code, out = run_cli(capsys, "audit", "--config", str(path), "--since", "1h", "--json")
    assert code == 0
    recent = [json.loads(line)["action"] for line in out.splitlines()]
    assert recent == ["tool_call", "reload", "admin_command"]
    code, out = run_cli(capsys, "audit", "--config", str(path), "--since", "3h")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4 and "old/tool" in lines[0]  # oldest first
    code, out = run_cli(capsys, "audit", "--config", str(path), "--chat", "console:ops")
    assert code == 0 and [line.split()[4] for line in out.splitlines()] == [
        "reload",
        "admin_command",
    ]
    code, out = run_cli(capsys, "audit", "--config", str(path), "--user", "ann", "--json")
    assert code == 0 and {json.loads(line)["tool"] for line in out.splitlines()} == {
        "old/tool",
        "time/get_current_time",
    }


async def test_the_audit_reader_says_so_when_redis_is_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(redis_yaml("redis://127.0.0.1:1/0", "nowhere"))
    capsys.readouterr()
    assert cli_main(["audit", "--config", str(path)]) == 2
    assert "cannot read the audit trail: ConnectionError" in capsys.readouterr().err


async def test_redis_counters_add_to_every_key_at_once(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    import redis.asyncio as aioredis

    from orchestrator.admin.budgets import RedisCounters

    counters = RedisCounters(aioredis.Redis.from_url(redis_url), key_prefix)
    try:
        assert await counters.add(["chat:a", "user:b"], 15, ttl_seconds=60) == [15, 15]
        assert await counters.add(["chat:a", "user:c"], 5, ttl_seconds=60) == [20, 5]
        assert await counters.get("chat:a") == 20 and await counters.get("user:b") == 15
        assert 0 < await redis_client.ttl(f"{key_prefix}:budget:user:c") <= 60
    finally:
        await counters.close()


async def budget_connections(client: Any, key_prefix: str) -> int:
    listed = await client.client_list()
    return sum(1 for c in listed if c.get("name") == f"{key_prefix}:budgets")


async def test_a_budget_in_redis_is_shared_by_every_process_and_resets_the_next_day(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))
    with FakeOpenAI(default=text("ok")) as llm:  # every completion reports 15 tokens
        yaml = redis_yaml(redis_url, key_prefix).replace(
            "orchestrator:\n",
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n",
        )
        config = parse_config(yaml + "limits: {llm_tokens_per_chat_per_day: 30}\n", env={})
        web, worker = (
            build_orchestrator(config, clock=clock),
            build_orchestrator(config, clock=clock),
        )
        try:
            first = await web.handle(ChatMessage("console", "team", "ann", "one"))
            second = await worker.handle(ChatMessage("console", "team", "bob", "two"))
            refused = await web.handle(ChatMessage("console", "team", "cat", "three"))
            elsewhere = await web.handle(ChatMessage("console", "other", "ann", "four"))
            calls_when_refused = len(llm.requests)
            counter = f"{key_prefix}:budget:chat:console:team:2026-11-30"
            used, ttl = await redis_client.get(counter), await redis_client.ttl(counter)
            by_model = {
                k.decode(): int(await redis_client.get(k))
                async for k in redis_client.scan_iter(f"{key_prefix}:budget:model:*")
            }
            clock.set(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))
            next_day = await worker.handle(ChatMessage("console", "team", "ann", "five"))
            open_while_running = await budget_connections(redis_client, key_prefix)
        finally:
            await web.stop()
            await worker.stop()
    assert open_while_running > 0  # the two processes' counters, until stop() closes them
    assert await budget_connections(redis_client, key_prefix) == 0
    assert first[0].text == "ok" and second[0].text == "ok"  # 15 + 15 tokens: at the limit
    assert refused[0].kind is ReplyKind.ERROR and "30 LLM tokens" in refused[0].text
    assert "resets at 00:00 UTC, in 2 h 0 min" in refused[0].text
    assert elsewhere[0].text == "ok"  # another chat has its own budget
    assert calls_when_refused == 3  # the refused request never reached the model
    assert int(used) == 30 and 0 < ttl <= HISTORY_DAYS * 86400  # kept for the console's usage
    # the console's usage by model: the day's tokens of both processes, under the model's name
    model = config.orchestrator.llm_settings.model
    assert by_model == {f"{key_prefix}:budget:model:{model}:2026-11-30": 45}
    assert next_day[0].text == "ok"
