"""Scenario 2 with `create_task` as a write tool: the creator approves it once when the schedule
is made, Monday's run creates the task without a button, and a write tool added to the config
later (`add_comment`, which the ClickUp server does not mark destructive, so it ran freely
before) makes the run ask the creator instead of running it.

YouTube is our server against the fake YouTube Data API (counts come as strings there and reach
the model as numbers); ClickUp is our server against the fake ClickUp API.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage, ReplyKind
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.youtube_api import HANDLE, FakeYouTube
from tests.helpers import clickup_server_yaml, describes_call, results_of, server_yaml
from tests.recording_adapter import RecordingAdapter

REQUEST = (
    "/schedule Every Monday, check our YouTube channel stats, create a report in ClickUp, "
    "and notify the team on Discord"
)


def config(llm_url: str, clickup_url: str, youtube: FakeYouTube, store: Path, writes: str) -> str:
    clickup = clickup_server_yaml(clickup_url, f"    write_tools: [{writes}]\n")
    youtube_server = server_yaml(
        "youtube",
        "youtube_mcp_server",
        {
            "YOUTUBE_API_KEY": "${YOUTUBE_API_KEY}",
            "YOUTUBE_API_URL": youtube.base_url,
            "YOUTUBE_CHANNEL": HANDLE,
        },
    )
    return f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: k, max_retries: 0}}
  memory_system: {{type: none}}
scheduler: {{path: "{store}", default_timezone: Europe/London}}
mcp_servers:
{youtube_server}{clickup}"""


def report(body: dict[str, Any]) -> dict[str, Any]:
    [stats] = [json.loads(r) for r in results_of(body, "youtube__get_channel_stats")]
    return tool_call(
        "clickup__create_task",
        {"list_id": "7001", "name": f"YouTube weekly report: {stats['subscribers']} subs"},
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
                "arguments": {"list_id": "7001", "name": "Week 2"},
            },
            {
                "name": "clickup__add_comment",
                "id": "n2",
                "arguments": {"task_id": "t1", "text": "Week 2 is filed"},
            },
        ]
    }
    # Routed as shipped, the request gets YouTube's tools only: each run loads ClickUp's tools
    # through the meta-tool, as a real model does.
    script = [
        tool_call("youtube__get_channel_stats", {}),  # the configured channel
        tool_call("search_tools", {"names": ["clickup__create_task"]}),
        report,
        text("Weekly YouTube report: 15,230 subscribers; task created in ClickUp."),
        tool_call("search_tools", {"names": ["clickup__create_task", "clickup__add_comment"]}),
        week_two,
        tool_call("clickup__create_task", {"list_id": "7001", "name": "Week 2 follow-up"}),
        text("Week 2 done."),
    ]
    clock = FakeClock(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))  # a Sunday
    async with FakeYouTube() as youtube:
        with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
            env = {"CLICKUP_API_TOKEN": clickup.token, "YOUTUBE_API_KEY": youtube.key}
            first = build_orchestrator(
                parse_config(
                    config(llm.base_url, clickup.url, youtube, store, "create_task"), env=env
                ),
                clock,
            )
            discord = RecordingAdapter("discord")
            first.attach(discord)
            await first.start()
            try:
                created = await first.handle(msg(REQUEST))
                offer = created[-1]
                assert "clickup/create_task" in offer.text and offer.for_user_id == "42"
                assert "clickup/add_comment" not in offer.text  # not a write tool yet
                approve = offer.choices[0].command
                stranger = await first.handle(msg(approve, "7"))
                approved = await first.handle(msg(approve))
                clock.set(datetime(2026, 11, 30, 9, 0, 10, tzinfo=UTC))
                assert first.scheduler is not None and await first.scheduler.tick() == 1
            finally:
                await first.stop()
            assert stranger[0].kind is ReplyKind.ERROR and "Only maya" in stranger[0].text
            assert "Approved for every run" in approved[0].text
            assert [t["name"] for t in clickup.tasks.values()] == [
                "YouTube weekly report: 15230 subs"
            ]
            assert any("Weekly YouTube report" in t for t in discord.texts("555"))
            assert {c.query["key"] for c in youtube.calls} == {youtube.key}
            assert not any(r.choices for _, r in discord.sent)  # no button on Monday

            # Later the admins mark add_comment as a write tool too; the bot restarts.
            writes = "create_task, add_comment"
            second = build_orchestrator(
                parse_config(config(llm.base_url, clickup.url, youtube, store, writes), env=env),
                clock,
            )
            second.attach(discord)
            await second.start()
            try:
                clock.set(datetime(2026, 12, 7, 9, 0, 10, tzinfo=UTC))
                assert second.scheduler is not None and await second.scheduler.tick() == 1
                assert clickup.comments == {}  # the new write tool waits
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
    # It lists the new write tool's call, not the create_task the schedule's approval covers.
    assert "this action" in asking[0].text, asking[0].text
    args = {"task_id": "t1", "text": "Week 2 is filed"}
    assert describes_call(asking[0].text, "clickup", ("comment",), args), asking[0].text
    assert "create" not in asking[0].text.lower() and "'Week 2'" not in asking[0].text
    names = [t["name"] for t in clickup.tasks.values()]
    assert names == ["YouTube weekly report: 15230 subs", "Week 2", "Week 2 follow-up"]
    comments = [c["comment_text"] for c in clickup.comments["t1"]]
    assert comments == ["Week 2 is filed"]  # ran once the creator pressed
