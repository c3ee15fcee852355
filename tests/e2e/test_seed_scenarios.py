"""The seed document's two scenarios, end to end, with real parts and fakes at the wire.

1. "Create a ClickUp task for following up on the unpaid invoices from Xero, and send a summary
   to our Telegram group" - asked in a Telegram group.
2. "Every Monday, check our YouTube channel stats, create a report in ClickUp, and notify the
   team on Discord" - scheduled from a Discord channel, run by the scheduler on Monday.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import clickup_server_yaml, eventually, running_bot
from tests.recording_adapter import RecordingAdapter

SEED = Path(__file__).resolve().parent.parent / "servers" / "seed_services.py"


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def config(llm_url: str, clickup_url: str, extra: str = "") -> str:
    return f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: k, max_retries: 0}}
  memory_system: {{type: none}}
  tool_routing: {{strategy: all}}
mcp_servers:
  xero:
    command: {sys.executable}
    args: ["{SEED}", xero]
  youtube:
    command: {sys.executable}
    args: ["{SEED}", youtube]
{clickup_server_yaml(clickup_url)}{extra}"""


def create_tasks_for_invoices(body: dict[str, Any]) -> dict[str, Any]:
    invoices = sorted(set(re.findall(r"INV-\d+", tool_results(body)[-1])))
    return {
        "tool_calls": [
            {
                "name": "clickup__create_task",
                "id": f"c{i}",
                "arguments": {"list_id": "followups", "name": f"Follow up unpaid invoice {number}"},
            }
            for i, number in enumerate(invoices)
        ]
    }


def summarise(body: dict[str, Any]) -> dict[str, Any]:
    created = [json.loads(r)["name"] for r in tool_results(body)[1:]]
    return text("Created ClickUp tasks:\n" + "\n".join(f"- {name}" for name in created))


async def test_unpaid_xero_invoices_become_clickup_tasks_and_a_telegram_summary() -> None:
    script = [
        tool_call("xero__list_invoices", {"status": "unpaid"}),
        create_tasks_for_invoices,
        summarise,
    ]
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        bot = build_orchestrator(
            parse_config(
                config(llm.base_url, clickup.url), env={"CLICKUP_API_TOKEN": clickup.token}
            )
        )
        async with FakeTelegram() as telegram, running_bot(telegram, bot):
            telegram.message_update(
                f"@{BOT_USERNAME} Create a ClickUp task for following up on the unpaid invoices "
                "from Xero, and send a summary to our Telegram group",
                chat_id=-1001,
            )
            assert await eventually(
                lambda: any("Created ClickUp tasks" in p["text"] for p in telegram.sent()), 20
            )
    names = sorted(t["name"] for t in clickup.tasks.values())
    assert names == ["Follow up unpaid invoice INV-101", "Follow up unpaid invoice INV-102"]
    summary = next(p for p in telegram.sent() if "Created ClickUp tasks" in p["text"])
    assert summary["chat_id"] == -1001 and "INV-101" in summary["text"]
    footer = [p["text"] for p in telegram.sent() if p["text"].startswith("Summary:")]
    assert footer and "xero/list_invoices" in footer[0] and "clickup/create_task" in footer[0]


async def test_monday_youtube_report_goes_to_clickup_and_the_discord_channel(
    tmp_path: Path,
) -> None:
    def report(body: dict[str, Any]) -> dict[str, Any]:
        stats = json.loads(tool_results(body)[-1])
        return {
            "tool_calls": [
                {
                    "name": "clickup__create_task",
                    "id": "r1",
                    "arguments": {
                        "list_id": "reports",
                        "name": "YouTube weekly report",
                        "description": f"Subscribers: {stats['subscribers']}",
                    },
                }
            ]
        }

    script = [
        tool_call("youtube__get_channel_stats", {"channel_id": "UC123"}),
        report,
        text("Weekly YouTube report: 15,230 subscribers; task created in ClickUp."),
    ]
    # Sunday 2026-11-29 10:00 UTC.
    clock = FakeClock(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        extra = f"scheduler:\n  path: {tmp_path / 's.json'}\n  default_timezone: Europe/London\n"
        bot = build_orchestrator(
            parse_config(
                config(llm.base_url, clickup.url, extra), env={"CLICKUP_API_TOKEN": clickup.token}
            ),
            clock,
        )
        discord = RecordingAdapter("discord")
        bot.attach(discord)
        await bot.start()
        try:
            created = await bot.handle(
                ChatMessage(
                    "discord",
                    "555",
                    "42",
                    "/schedule Every Monday, check our YouTube channel "
                    "stats, create a report in ClickUp, and notify the team on Discord",
                    user_name="maya",
                )
            )
            assert "every Monday at 09:00" in created[0].text, created[0].text
            clock.set(datetime(2026, 11, 30, 9, 0, 10, tzinfo=UTC))
            assert await bot.scheduler.tick() == 1
            await bot.scheduler.drain()
        finally:
            await bot.stop()
    assert [t["name"] for t in clickup.tasks.values()] == ["YouTube weekly report"]
    posted = discord.texts("555")
    assert any("Weekly YouTube report" in t for t in posted), posted
    assert llm.requests[0]["body"]["messages"][-1]["content"].endswith(
        "check our YouTube channel stats, create a report in ClickUp, and notify the team on "
        "Discord"
    )
