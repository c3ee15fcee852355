"""The webhook web process: updates on the webhook path, `GET /healthz` on the same port, and
`orchestrator health` reading it; python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from bots.telegram.app import create_application
from bots.telegram.webhook import webhook_server
from orchestrator.cli import main as cli_main
from orchestrator.config import TelegramSettings, WebhookSettings
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
