"""The webhook web process: updates on the webhook path, `GET /healthz` on the same port, and
`orchestrator health` reading it; with an `http:` section, the webhook, `/healthz`, `/metrics`
and the console on that one port. python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram.error import BadRequest

from bots.telegram.app import create_application, telegram_process
from bots.telegram.webhook import webhook_server
from orchestrator.cli import main as cli_main
from orchestrator.cli.health import webhook_health_url
from orchestrator.config import Config, TelegramSettings, WebhookSettings, parse_config
from scripts.with_redis import free_port
from tests.conftest import REPO
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import chat_orchestrator, eventually


async def test_webhook_process_serves_updates_and_healthz_on_one_port() -> None:
    orchestrator = chat_orchestrator(with_time_server=False)
    async with FakeTelegram() as fake:
        hook = WebhookSettings(
            url="https://bot.example.com/hook",
            listen="127.0.0.1",
            secret_token="s3cret",
            path="hook",
        )
        settings = TelegramSettings(token=fake.token, base_url=fake.base_url, webhook=hook)
        app = create_application(settings, orchestrator)
        up = {"value": True}

        def health() -> tuple[bool, dict[str, Any]]:
            return up["value"], {"servers_up": 0, "servers": 0}

        await orchestrator.start()
        try:
            async with (
                webhook_server(app, hook, health, port=0) as port,
                aiohttp.ClientSession() as http,
            ):
                base = f"http://127.0.0.1:{port}"
                async with http.get(f"{base}/healthz") as response:
                    assert response.status == 200
                    assert (await response.json())["status"] == "ok"
                code = await asyncio.to_thread(cli_main, ["health", "--url", f"{base}/healthz"])
                assert code == 0
                update = {
                    "update_id": 77,
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "text": "/help",
                        "chat": {"id": 5, "type": "private"},
                        "from": fake.user(5),
                        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                    },
                }
                wrong = await http.post(  # refused from its headers: the body is never read
                    f"{base}/hook",
                    data=json.dumps(update),
                    headers={"X-Telegram-Bot-Api-Secret-Token": "x"},
                    expect100=True,
                )
                assert wrong.status == 403
                good = await http.post(
                    f"{base}/hook",
                    data=json.dumps(update),
                    headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
                )
                assert good.status == 200
                assert await eventually(
                    lambda: any("Commands:" in str(m.get("text")) for m in fake.sent())
                )
                up["value"] = False
                async with http.get(f"{base}/healthz") as response:
                    assert response.status == 503
                code = await asyncio.to_thread(cli_main, ["health", "--url", f"{base}/healthz"])
                assert code == 2
        finally:
            await orchestrator.stop()
    assert fake.sent("setWebhook")[0]["url"] == "https://bot.example.com/hook"
    assert fake.sent("setWebhook")[0]["secret_token"] == "s3cret"


def help_update(fake: FakeTelegram, update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": "/help",
            "chat": {"id": 5, "type": "private"},
            "from": fake.user(5),
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


def one_port_config(fake: FakeTelegram, webhook_port: int) -> Config:
    return parse_config(
        "orchestrator:\n  memory_system: {type: none}\n"
        "scheduler: {enabled: false}\n"
        "http: {host: 127.0.0.1, port: 0}\n"
        "bots:\n  telegram:\n"
        f"    token: '{fake.token}'\n    base_url: '{fake.base_url}'\n"
        "    webhook: {url: 'https://bot.example.com/hook', listen: 127.0.0.1, "
        f"port: {webhook_port}, secret_token: s3cret, path: hook}}\n",
        env={},
    )


async def test_with_http_the_webhook_health_metrics_and_console_share_one_port(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`orchestrator run telegram` in webhook mode with `http:`: one uvicorn server, one port;
    the webhook's own `port` is not listened on (and a start-up line says so)."""
    unused = free_port()
    async with FakeTelegram() as fake:
        config = one_port_config(fake, unused)
        hook = config.bots.telegram.webhook
        assert hook is not None
        app, orchestrator, health = telegram_process(config)
        async with (
            webhook_server(app, hook, health, web=orchestrator.web) as port,
            aiohttp.ClientSession() as http,
        ):
            base = f"http://127.0.0.1:{port}"
            posted = await http.post(
                f"{base}/hook",
                data=json.dumps(help_update(fake, 31)),
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            )
            assert posted.status == 200
            assert await eventually(
                lambda: any("Commands:" in str(m.get("text")) for m in fake.sent())
            )
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
                body = await response.json()
                assert body["status"] == "ok" and body["ok"] is True and "servers" in body
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                assert "orchestrator_" in await response.text()
            async with http.get(f"{base}/dashboard", allow_redirects=False) as response:
                assert response.headers["Location"] == "/dashboard/"
            async with http.get(f"{base}/dashboard/", allow_redirects=False) as response:
                assert response.status == 303
                assert response.headers["Location"] == "/dashboard/signin"
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection("127.0.0.1", unused)
        assert not app.running and orchestrator.web.server is None  # stopped with the core
    assert fake.sent("setWebhook")[0]["url"] == "https://bot.example.com/hook"
    unused_line = [r.getMessage() for r in caplog.records if "address_unused" in r.getMessage()]
    assert len(unused_line) == 1 and f"port={unused}" in unused_line[0]


def test_orchestrator_health_probes_the_port_the_webhook_is_served_on() -> None:
    hook = "bots: {telegram: {token: t, webhook: {url: 'https://b.example.com/t', port: 9443}}}\n"
    assert webhook_health_url(parse_config(hook, env={})) == "http://127.0.0.1:9443/healthz"
    one_port = parse_config(hook + "http: {host: 0.0.0.0, port: 8700}\n", env={})
    assert webhook_health_url(one_port) == "http://127.0.0.1:8700/healthz"


async def test_a_refused_set_webhook_stops_the_core_and_its_http_server() -> None:
    async with FakeTelegram() as fake:
        fake.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")
        config = one_port_config(fake, free_port())
        assert config.bots.telegram.webhook is not None
        app, orchestrator, health = telegram_process(config)
        with pytest.raises(BadRequest):
            async with webhook_server(
                app, config.bots.telegram.webhook, health, web=orchestrator.web
            ):
                raise AssertionError("served although setWebhook was refused")
        assert orchestrator.web.server is None  # the core stopped it on the way out


async def test_orchestrator_run_telegram_serves_one_port_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """The real command: webhook mode with `http:`, the webhook and /healthz on http's port,
    nothing on the webhook's own port, and SIGTERM ends it cleanly (setWebhook was sent)."""
    web_port, hook_port = free_port(), free_port()
    async with FakeTelegram() as fake:
        config = tmp_path / "c.yaml"
        config.write_text(
            "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
            f"http: {{host: 127.0.0.1, port: {web_port}}}\n"
            "bots:\n  telegram:\n"
            f"    token: '{fake.token}'\n    base_url: '{fake.base_url}'\n"
            "    webhook: {url: 'https://bot.example.com/hook', listen: 127.0.0.1, "
            f"port: {hook_port}, secret_token: s3cret, path: hook}}\n"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "orchestrator",
            "run",
            "telegram",
            "--config",
            str(config),
            cwd=REPO,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        seen: list[str] = []
        while "telegram_webhook_listening" not in (seen[-1] if seen else ""):
            line = (await asyncio.wait_for(proc.stderr.readline(), 120)).decode()
            assert line, "".join(seen)
            seen.append(line)
        assert f"port={web_port}" in seen[-1]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{web_port}/healthz") as response:
                assert response.status == 200
            posted = await http.post(
                f"http://127.0.0.1:{web_port}/hook",
                data=json.dumps(help_update(fake, 41)),
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            )
            assert posted.status == 200
        assert await eventually(lambda: any("Commands:" in str(m.get("text")) for m in fake.sent()))
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", hook_port)
        proc.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(proc.stderr.read(), 60)).decode()
        assert await asyncio.wait_for(proc.wait(), 60) == 0, rest
    assert "Traceback" not in "".join(seen) + rest
    assert "web_server_stopped" in rest
    assert fake.sent("setWebhook")[0]["url"] == "https://bot.example.com/hook"


async def test_an_update_that_cannot_be_recorded_or_arrives_while_stopped_is_not_acknowledged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """500 when the record fails, 503 while the Application is not running: Telegram resends
    either; one log line each, and no 200 for an update that was not recorded."""
    orchestrator = chat_orchestrator(with_time_server=False)
    async with FakeTelegram() as fake:
        hook = WebhookSettings(url="https://bot.example.com/hook", listen="127.0.0.1", path="hook")
        settings = TelegramSettings(token=fake.token, base_url=fake.base_url, webhook=hook)
        app = create_application(settings, orchestrator)

        async def store_down(item: object) -> None:
            raise ConnectionError("redis down")

        await orchestrator.start()
        try:
            async with (
                webhook_server(app, hook, lambda: (True, {}), port=0) as port,
                aiohttp.ClientSession() as http,
            ):
                url = f"http://127.0.0.1:{port}/hook"
                app.update_queue.put = store_down  # type: ignore[method-assign]
                failed = await http.post(url, data=json.dumps(help_update(fake, 51)))
                assert failed.status == 500
                del app.update_queue.put  # the store is back
                await app.stop()
                stopped = await http.post(url, data=json.dumps(help_update(fake, 52)))
                assert stopped.status == 503
        finally:
            await orchestrator.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "bots.telegram.webhook"]
    assert "telegram_webhook_error error=ConnectionError" in lines
    assert "telegram_webhook_rejected reason=not_running" in lines
