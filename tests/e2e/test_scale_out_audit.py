"""Distributed mode: the worker that runs a tool writes the audit record, so `orchestrator
audit` shows tool calls whichever process made them (a real front end and a real worker as
subprocesses, the fake Bot API as Telegram, a real Redis)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main as cli_main
from tests.fakes.telegram_api import FakeTelegram
from tests.scalekit import Procs, replies_by_message, wait_until, write_config

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


async def test_a_tool_call_made_by_a_worker_reaches_the_audit_trail(
    tmp_path: Path,
    redis_url: str,
    key_prefix: str,
    redis_client: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with FakeTelegram() as fake:
        config = write_config(tmp_path / "scale.yaml", fake, redis_url, key_prefix)
        procs = Procs(config, tmp_path)
        try:
            procs.frontend()
            procs.worker("w1")
            fake.message_update(
                '/run time get_current_time {"timezone": "UTC"}', chat_id=-42, user_id=7
            )
            asked = fake.updates[-1]["message"]["message_id"]
            answered = await wait_until(lambda: asked in replies_by_message(fake), 90)
            assert answered, procs.log_text("w1")[-3000:]

            def trail() -> str:
                capsys.readouterr()
                cli_main(["audit", "--config", str(config), "--json"])
                return capsys.readouterr().out

            # The sink writes from a listener thread: wait for the record, not a fixed time.
            seen = await wait_until(lambda: "time/get_current_time" in trail(), 30)
            assert seen, procs.log_text("w1")[-3000:]
        finally:
            await procs.close()
    out = trail()
    assert '"action": "tool_call"' in out and '"chat": "-42"' in out, out
