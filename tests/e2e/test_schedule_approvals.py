"""Scenario 2 with `create_task` as a write tool: the creator approves it once when the schedule
is made, Monday's run creates the task without a button, and a write tool added to the config
later makes the run ask the creator instead of running it."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage, ReplyKind
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.helpers import clickup_server_yaml
from tests.recording_adapter import RecordingAdapter

SEED = Path(__file__).resolve().parent.parent / "servers" / "seed_services.py"
REQUEST = (
    "/schedule Every Monday, check our YouTube channel stats, create a report in ClickUp, "
    "and notify the team on Discord"
)


def config(llm_url: str, clickup_url: str, store: Path, writes: str) -> str:
    clickup = clickup_server_yaml(clickup_url, f"    write_tools: [{writes}]\n")
    return f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: k, max_retries: 0}}
  memory_system: {{type: none}}
  tool_routing: {{strategy: all}}
scheduler: {{path: "{store}", default_timezone: Europe/London}}
mcp_servers:
  youtube:
    command: {sys.executable}
    args: ["{SEED}", youtube]
{clickup}"""


def report(body: dict[str, Any]) -> dict[str, Any]:
    stats = json.loads([m["content"] for m in body["messages"] if m["role"] == "tool"][-1])
    return tool_call(
        "clickup__create_task",
        {"list_id": "reports", "name": f"YouTube weekly report: {stats['subscribers']} subs"},
    )


def msg(text_: str, user: str = "42") -> ChatMessage:
    return ChatMessage("discord", "555", user, text_, user_name="maya")


async def test_standing_approval_runs_on_monday_and_a_new_write_tool_asks_the_creator(
    tmp_path: Path,
) -> None:
    store = tmp_path / "schedules.json"
    week_two = {
        "tool_calls": [
            {
                "name": "clickup__create_task",
                "id": "w2",
                "arguments": {"list_id": "reports", "name": "Week 2"},
            },
            {
                "name": "clickup__update_task_status",
                "id": "s2",
                "arguments": {"task_id": "t1", "status": "done"},
            },
        ]
    }
    script = [
        tool_call("youtube__get_channel_stats", {"channel_id": "UC123"}),
        report,
        text("Weekly YouTube report: 15,230 subscribers; task created in ClickUp."),
        week_two,
        tool_call("clickup__create_task", {"list_id": "reports", "name": "Week 2 follow-up"}),
        text("Week 2 done."),
    ]
    clock = FakeClock(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))  # a Sunday
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        env = {"CLICKUP_API_TOKEN": clickup.token}
        first = build_orchestrator(
            parse_config(config(llm.base_url, clickup.url, store, "create_task"), env=env), clock
        )
        discord = RecordingAdapter("discord")
        first.attach(discord)
        await first.start()
        try:
            created = await first.handle(msg(REQUEST))
            offer = created[-1]
            assert "clickup/create_task" in offer.text and offer.for_user_id == "42"
            approve = offer.choices[0].command
            stranger = await first.handle(msg(approve, "7"))
            approved = await first.handle(msg(approve))
            clock.set(datetime(2026, 11, 30, 9, 0, 10, tzinfo=UTC))
            assert first.scheduler is not None and await first.scheduler.tick() == 1
        finally:
            await first.stop()
        assert stranger[0].kind is ReplyKind.ERROR and "Only maya" in stranger[0].text
        assert "Approved for every run" in approved[0].text
        assert [t["name"] for t in clickup.tasks.values()] == ["YouTube weekly report: 15230 subs"]
        assert any("Weekly YouTube report" in t for t in discord.texts("555"))
        assert not any(r.choices for _, r in discord.sent)  # no button on Monday

        # Later the admins mark update_task_status as a write tool too; the bot restarts.
        writes = "create_task, update_task_status"
        second = build_orchestrator(
            parse_config(config(llm.base_url, clickup.url, store, writes), env=env), clock
        )
        second.attach(discord)
        await second.start()
        try:
            clock.set(datetime(2026, 12, 7, 9, 0, 10, tzinfo=UTC))
            assert second.scheduler is not None and await second.scheduler.tick() == 1
            assert clickup.tasks["t1"]["status"] == {"status": "to do"}  # the new one waits
            assert [t["name"] for t in clickup.tasks.values()][-1] == "Week 2"  # approved ran
            pending = next(r for _, r in discord.sent if r.choices)
            finished = await second.handle(msg(pending.choices[0].command))
        finally:
            await second.stop()
    assert "Week 2 done." in [r.text for r in finished]
    # After Run all, the schedule's standing approval still holds for the rest of the plan.
    assert not any(r.choices for r in finished)
    asking = [r for _, r in discord.sent if r.choices]
    assert len(asking) == 1 and asking[0].for_user_id == "42"  # the run asked its creator
    assert "Update task status" in asking[0].text and "Create task" not in asking[0].text
    names = [t["name"] for t in clickup.tasks.values()]
    assert names == ["YouTube weekly report: 15230 subs", "Week 2", "Week 2 follow-up"]
    assert clickup.tasks["t1"]["status"] == {"status": "done"}  # ran once the creator pressed
