"""The seed's first scenario against the real shapes: the Xero stand-in (the recorded tools of
@xeroapi/xero-mcp-server, pages of 10, PAID and DRAFT invoices included), and our ClickUp and
Telegram MCP servers against their fake APIs.

"Create a ClickUp task for following up on the unpaid invoices from Xero, and send a summary to
our Telegram group"
"""

from __future__ import annotations

import re
import sys
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.conftest import REPO
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import clickup_server_yaml

XERO = REPO / "tests" / "servers" / "xero_standin.py"


def config(llm_url: str, clickup_url: str, telegram_url: str) -> str:
    return f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: k, max_retries: 0}}
  memory_system: {{type: none}}
  tool_routing: {{strategy: all}}
mcp_servers:
  xero:
    command: {sys.executable}
    args: ["{XERO}"]
  telegram:
    command: python3
    args: ["-m", "custom_servers.telegram_mcp_server"]
    env:
      - {{name: TELEGRAM_BOT_TOKEN, value: "${{TELEGRAM_BOT_TOKEN}}"}}
      - {{name: TELEGRAM_API_URL, value: "{telegram_url}"}}
      - {{name: TELEGRAM_DESTINATIONS, value: "team=-1001"}}
{clickup_server_yaml(clickup_url)}"""


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def unpaid(results: list[str]) -> list[tuple[str, str, str]]:
    """(number, contact, amount due) of AUTHORISED invoices in list-invoices answers."""
    found = []
    for block in "\n".join(results).split("Invoice ID: ")[1:]:
        fields = dict(line.split(": ", 1) for line in block.splitlines()[1:] if ": " in line)
        if fields.get("Status") == "AUTHORISED" and fields.get("Amount Due"):
            contact = fields["Contact"].split(" (")[0]
            found.append((fields["Invoice"], contact, fields["Amount Due"]))
    return found


def create_tasks(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "tool_calls": [
            {
                "name": "clickup__create_task",
                "id": f"c{i}",
                "arguments": {
                    "list_id": "7004",
                    "name": f"Follow up unpaid invoice {number} ({contact}, {due})",
                },
            }
            for i, (number, contact, due) in enumerate(unpaid(tool_results(body)))
        ]
    }


def summarise(body: dict[str, Any]) -> dict[str, Any]:
    tasks = [r for r in tool_results(body) if '"url"' in r]
    lines = "\n".join(f"- {m[1]}" for r in tasks if (m := re.search(r'"name": "([^"]+)"', r)))
    return tool_call(
        "telegram__send_message",
        {"chat": "team", "text": f"**Unpaid Xero invoices**: {len(tasks)} follow-ups\n{lines}"},
    )


async def test_unpaid_invoices_across_xero_pages_become_tasks_and_a_telegram_post() -> None:
    script = [
        tool_call("xero__list-invoices", {"page": 1}),
        tool_call("xero__list-invoices", {"page": 2}),  # 10 came back: the tool says ask page 2
        create_tasks,
        summarise,
        text("Created 2 ClickUp tasks and posted the summary to the team."),
    ]
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        async with FakeTelegram() as telegram:
            env = {"CLICKUP_API_TOKEN": clickup.token, "TELEGRAM_BOT_TOKEN": telegram.token}
            bot = build_orchestrator(
                parse_config(
                    config(llm.base_url, clickup.url, f"http://127.0.0.1:{telegram.port}"),
                    env=env,
                )
            )
            await bot.start()
            try:
                replies = await bot.handle(
                    ChatMessage(
                        "test",
                        "ops",
                        "ann",
                        "Create a ClickUp task for following up on the unpaid invoices from "
                        "Xero, and send a summary to our Telegram group",
                    )
                )
            finally:
                await bot.stop()
    # The two create_task calls of one step run in parallel: either may land first.
    assert sorted(t["name"] for t in clickup.tasks.values()) == [
        "Follow up unpaid invoice INV-101 (Globex, 1200)",
        "Follow up unpaid invoice INV-102 (Initech, 430.5)",
    ]
    assert all(t["list"] == "7004" for t in clickup.tasks.values())
    [post] = telegram.sent()
    assert post["chat_id"] == "-1001" and post["parse_mode"] == "HTML"
    assert post["text"].startswith("<b>Unpaid Xero invoices</b>: 2 follow-ups")
    assert "INV-101" in post["text"] and "INV-102" in post["text"]
    assert "DRAFT" not in post["text"] and "INV-113" not in post["text"]
    assert "Created 2 ClickUp tasks" in replies[0].text
    assert replies[-1].text.startswith(
        "Summary: xero/list-invoices, clickup/create_task, telegram/send_message"
    )
    pages = [c for r in llm.requests for c in r["body"]["messages"] if c["role"] == "tool"]
    assert any(m["content"].startswith("Found 10 invoices:") for m in pages)
