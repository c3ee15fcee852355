"""The seed document's two scenarios, end to end, through the real adapters and our MCP servers.

1. Asked in a Discord channel (discord.py at the wire): "Create a ClickUp task for following
   up on the unpaid invoices from Xero, and send a summary to our Telegram group". The model pages
   Xero's real `list-invoices` (the stand-in serves the recorded tools), creates one task per
   unpaid invoice through our ClickUp server, and posts the summary through our Telegram server
   into the group named `team` in that server's env; the fake Bot API receives it.
2. Scheduled in a Telegram group (python-telegram-bot against the fake Bot API): "/schedule Every
   Monday, check our YouTube channel stats, create a report in ClickUp, and notify the team on
   Discord". The scheduler's own loop fires it on a FakeClock at 09:00 Berlin summer time (07:00
   UTC): YouTube statistics (our server; the fake sends counts as strings) -> a ClickUp report task
   holding the figures -> a notification through our Discord server to the channel named `team`.
   The next Monday it runs once more, and only once.

The model is scripted (the real openai client against the fake OpenAI server); its steps read
what the tools really returned, so a tool answering other shapes breaks the scenario.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import parse_config
from orchestrator.scheduling.engine import Scheduler
from tests.discord_wire import GENERAL, discord_wire
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_server import FakeOpenAI, Step, text, tool_call
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.youtube_api import HANDLE, FakeYouTube
from tests.helpers import (
    eventually,
    list_id,
    results_of,
    running_bot,
    server_yaml,
    unpaid,
    xero_standin_yaml,
)

TEAM_GROUP = -1001  # the Telegram group: `team` in TELEGRAM_DESTINATIONS, and scenario 2's chat
TEAM_CHANNEL = "444444444444444442"  # the fake Discord guild's #reports: `team` on Discord
SCHEDULE = (
    "/schedule Every Monday, check our YouTube channel stats, create a report in ClickUp, "
    "and notify the team on Discord"
)


# -- configuration ------------------------------------------------------------------------------
def config(llm_url: str, servers: str, scheduler: str = "scheduler: {enabled: false}") -> str:
    """No `write_tools`: these scenarios run their writes without a confirmation step."""
    return (
        "orchestrator:\n"
        f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
        "  memory_system: {type: none}\n"
        f"{scheduler}\nmcp_servers:\n{servers}"
    )


def clickup_yaml(clickup: FakeClickUp) -> str:
    return server_yaml(
        "clickup",
        "clickup_mcp_server",
        {"CLICKUP_API_TOKEN": "${CLICKUP_API_TOKEN}", "CLICKUP_API_URL": clickup.url},
    )


# -- scenario 1: asked in Discord, posted to the Telegram group -----------------------------------
def invoice_tasks(body: dict[str, Any]) -> dict[str, Any]:
    target = list_id(body, "Invoice follow-ups")
    calls = []
    for i, inv in enumerate(unpaid(results_of(body, "xero__list-invoices"))):
        contact = inv["Contact"].split(" (")[0]
        calls.append(
            {
                "name": "clickup__create_task",
                "id": f"task{i}",
                "arguments": {
                    "list_id": target,
                    "name": f"Follow up unpaid invoice {inv['Invoice']} ({contact})",
                    "description": f"**{contact}** owes {inv['Amount Due']} "
                    f"{inv['Currency']} on {inv['Invoice']}.",
                },
            }
        )
    return {"tool_calls": calls}


def invoice_summary(body: dict[str, Any]) -> dict[str, Any]:
    tasks = [json.loads(r) for r in results_of(body, "clickup__create_task")]
    lines = "\n".join(f"- {t['name']}: {t['url']}" for t in tasks)
    return tool_call(
        "telegram__send_message",
        {"chat": "team", "text": f"**Unpaid Xero invoices**: {len(tasks)} follow-ups\n{lines}"},
    )


FIND_LIST = "clickup__find_list"


async def test_asked_in_discord_unpaid_xero_invoices_become_tasks_and_a_telegram_group_post() -> (
    None
):
    script: list[Step] = [
        {
            "tool_calls": [
                {"name": "xero__list-invoices", "id": "p1", "arguments": {"page": 1}},
                {"name": "telegram__get_chat", "id": "g1", "arguments": {"chat": "team"}},
                # The router hands create_task, not find_list (which gives the list's id): the
                # model loads it from the tool directory, as a real model does.
                {"name": "search_tools", "id": "s1", "arguments": {"names": [FIND_LIST]}},
            ]
        },
        {
            "tool_calls": [
                # 10 came back: there may be more
                {"name": "xero__list-invoices", "id": "p2", "arguments": {"page": 2}},
                {"name": "clickup__find_list", "id": "l1", "arguments": {"name": "follow-ups"}},
            ]
        },
        invoice_tasks,
        invoice_summary,
        text("Created 2 ClickUp tasks and posted the summary to the Telegram group."),
    ]
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        async with FakeTelegram() as telegram:
            telegram.add_chat(TEAM_GROUP, "Team")
            servers = (
                xero_standin_yaml()
                + clickup_yaml(clickup)
                + server_yaml(
                    "telegram",
                    "telegram_mcp_server",
                    {
                        "TELEGRAM_BOT_TOKEN": "${TELEGRAM_BOT_TOKEN}",
                        "TELEGRAM_API_URL": f"http://127.0.0.1:{telegram.port}",
                        "TELEGRAM_DESTINATIONS": f"team={TEAM_GROUP}",
                    },
                )
            )
            env = {"CLICKUP_API_TOKEN": clickup.token, "TELEGRAM_BOT_TOKEN": telegram.token}
            orchestrator = build_orchestrator(parse_config(config(llm.base_url, servers), env=env))
            await orchestrator.start()
            try:
                async with discord_wire(orchestrator) as wire:
                    wire.message(
                        "Create a ClickUp task for following up on the unpaid invoices "
                        "from Xero, and send a summary to our Telegram group",
                        mention=True,
                    )
                    answer, footer = await wire.sent_at_least(2, GENERAL)
            finally:
                await orchestrator.stop()

    # Xero was paged as in production: page 1 held 10 invoices, page 2 the rest.
    final = llm.requests[-1]["body"]
    pages = results_of(final, "xero__list-invoices")
    assert [p.split("\n", 1)[0] for p in pages] == ["Found 10 invoices:", "Found 3 invoices:"]
    assert "Status: PAID" in pages[0] and "Status: DRAFT" in pages[0]
    # One task per unpaid invoice, in the list found by name, with the body the model wrote.
    # The step's two create_task calls run in parallel, so either may reach ClickUp first.
    posts = sorted((c for c in clickup.calls if c.method == "POST"), key=lambda c: c.body["name"])
    assert [(c.path, c.body) for c in posts] == [
        (
            "/api/v2/list/7004/task",
            {
                "name": "Follow up unpaid invoice INV-101 (Globex)",
                "markdown_description": "**Globex** owes 1200 GBP on INV-101.",
                "priority": 3,
            },
        ),
        (
            "/api/v2/list/7004/task",
            {
                "name": "Follow up unpaid invoice INV-102 (Initech)",
                "markdown_description": "**Initech** owes 430.5 GBP on INV-102.",
                "priority": 3,
            },
        ),
    ]
    stored = sorted(clickup.tasks.values(), key=lambda t: t["name"])
    assert [t["description"] for t in stored] == [
        "**Globex** owes 1200 GBP on INV-101.",
        "**Initech** owes 430.5 GBP on INV-102.",
    ]
    # The summary went through our Telegram server to the group named `team`, and only there.
    assert telegram.sent("getChat") == [{"chat_id": str(TEAM_GROUP)}]
    [post] = telegram.sent()
    assert post["chat_id"] == str(TEAM_GROUP) and post["parse_mode"] == "HTML"
    assert post["text"].startswith("<b>Unpaid Xero invoices</b>: 2 follow-ups\n")
    # Each invoice's line links the task ClickUp created for it, whichever was created first.
    for task in stored:
        assert f"{task['name']}: {task['url']}" in post["text"]
    assert "INV-113" not in post["text"] and "INV-112" not in post["text"]  # draft, paid
    # The Discord channel that asked got the answer and the summary line.
    assert answer["content"].startswith("Created 2 ClickUp tasks")
    assert footer["content"].startswith(
        "-# Summary: xero/list-invoices, telegram/get_chat, clickup/find_list, "
        "clickup/create_task, telegram/send_message"
    )


# -- scenario 2: scheduled in a Telegram group, notified on Discord ----------------------------
def youtube_report(body: dict[str, Any]) -> dict[str, Any]:
    [stats] = [json.loads(r) for r in results_of(body, "youtube__get_channel_stats")]
    [recent] = [json.loads(r) for r in results_of(body, "youtube__list_recent_videos")]
    videos = "\n".join(
        f"- {v['title']}: {v['views']:,} views, {v['likes']:,} likes, {v['comments']:,} comments"
        for v in recent["videos"]
    )
    report = (
        f"**{stats['title']}**: {stats['subscribers']:,} subscribers, {stats['views']:,} views, "
        f"{stats['videos']:,} videos\n\nRecent uploads:\n{videos}"
    )
    return tool_call(
        "clickup__create_task",
        {
            "list_id": list_id(body, "Video Reports"),
            "name": "YouTube weekly report",
            "description": report,
        },
    )


def notify_team(body: dict[str, Any]) -> dict[str, Any]:
    [stats] = [json.loads(r) for r in results_of(body, "youtube__get_channel_stats")]
    [task] = [json.loads(r) for r in results_of(body, "clickup__create_task")]
    return tool_call(
        "discord__send_message",
        {
            "channel": "team",
            "text": f"**Weekly YouTube report**: {stats['subscribers']:,} subscribers, "
            f"{stats['views']:,} views. Full report: {task['url']}",
        },
    )


# Routed as shipped, each step of the request gets its own tools (YouTube's statistics, ClickUp's
# create_task, Discord's send_message); the list of recent uploads and ClickUp's find_list (the
# list's id) are not among them, so the model loads both from the directory (as a real one does).
LOADED = ["youtube__list_recent_videos", "clickup__find_list"]


def weekly_run() -> list[Step]:
    return [
        {
            "tool_calls": [
                {"name": "youtube__get_channel_stats", "id": "s", "arguments": {}},
                {"name": "search_tools", "id": "t", "arguments": {"names": LOADED}},
            ]
        },
        {
            "tool_calls": [
                {
                    "name": "youtube__list_recent_videos",
                    "id": "v",
                    "arguments": {"max_results": 2},
                },
                {"name": "clickup__find_list", "id": "l", "arguments": {"name": "reports"}},
            ]
        },
        youtube_report,
        notify_team,
        text("Weekly YouTube report filed in ClickUp; the team is notified on Discord."),
    ]


async def wait_for_tick(clock: FakeClock) -> None:
    """The scheduler's loop has woken, looked for due runs, and gone back to sleep."""
    assert await eventually(lambda: clock.sleepers == 1)


async def test_scheduled_in_telegram_the_monday_youtube_report_goes_to_clickup_and_discord(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 5, 31, 12, 0, tzinfo=UTC))  # Sunday; Berlin is on CEST
    with FakeClickUp() as clickup, FakeOpenAI(weekly_run() + weekly_run()) as llm:
        async with (
            FakeTelegram() as telegram,
            FakeYouTube() as youtube,
            FakeDiscord() as discord_api,
        ):
            servers = (
                clickup_yaml(clickup)
                + server_yaml(
                    "youtube",
                    "youtube_mcp_server",
                    {
                        "YOUTUBE_API_KEY": "${YOUTUBE_API_KEY}",
                        "YOUTUBE_API_URL": youtube.base_url,
                        "YOUTUBE_CHANNEL": HANDLE,
                    },
                )
                + server_yaml(
                    "discord",
                    "discord_mcp_server",
                    {
                        "DISCORD_BOT_TOKEN": "${DISCORD_BOT_TOKEN}",
                        "DISCORD_API_URL": discord_api.base_url,
                        "DISCORD_DESTINATIONS": f"team={TEAM_CHANNEL}",
                    },
                )
            )
            env = {
                "CLICKUP_API_TOKEN": clickup.token,
                "YOUTUBE_API_KEY": youtube.key,
                "DISCORD_BOT_TOKEN": discord_api.token,
            }
            scheduler = f"scheduler: {{path: '{tmp_path / 'schedules.json'}', tick_seconds: 15}}"
            bot = build_orchestrator(
                parse_config(config(llm.base_url, servers, scheduler), env=env), clock
            )
            engine = bot.scheduler
            assert isinstance(engine, Scheduler)

            def group_posts(contains: str) -> list[str]:
                return [
                    p["text"]
                    for p in telegram.sent()
                    if p["chat_id"] == TEAM_GROUP and contains in p["text"]
                ]

            async with running_bot(telegram, bot):
                telegram.message_update("/timezone Europe/Berlin", chat_id=TEAM_GROUP)
                assert await eventually(lambda: bool(group_posts("timezone is now")))
                telegram.message_update(SCHEDULE, chat_id=TEAM_GROUP)
                assert await eventually(lambda: bool(group_posts("Next run")))
                [created] = group_posts("Next run")
                schedule_id = created.split()[1].rstrip(":")
                assert "every Monday at 09:00 (Europe/Berlin)" in created, created
                assert "Next run: Mon 01 Jun 2026 09:00 CEST" in created, created

                await wait_for_tick(clock)
                clock.set(datetime(2026, 6, 1, 6, 59, 50, tzinfo=UTC))  # 08:59:50 in Berlin
                await wait_for_tick(clock)
                assert llm.requests == [] and discord_api.messages == []

                clock.set(datetime(2026, 6, 1, 7, 0, 5, tzinfo=UTC))  # 09:00:05 in Berlin
                await wait_for_tick(clock)
                assert await eventually(lambda: len(group_posts("the team is notified")) == 1, 20)

                for _ in range(4):  # later ticks that morning, within the grace window
                    clock.advance(15)
                    await wait_for_tick(clock)
                await engine.drain()
                assert len(discord_api.messages) == 1 and len(llm.requests) == 5

                clock.set(datetime(2026, 6, 8, 7, 0, 5, tzinfo=UTC))  # the next Monday
                await wait_for_tick(clock)
                assert await eventually(lambda: len(group_posts("the team is notified")) == 2, 20)
                for moment in (datetime(2026, 6, 8, 7, 1), datetime(2026, 6, 8, 20, 0)):
                    clock.set(moment.replace(tzinfo=UTC))
                    await wait_for_tick(clock)
                await engine.drain()

    # Each run asked the model in the creator's words, as the creator, in the group.
    asked = [
        r["body"]["messages"] for r in llm.requests if r["body"]["messages"][-1]["role"] == "user"
    ]
    assert len(asked) == 2 and len(llm.requests) == 10
    assert all(
        m[-1]["content"].endswith(SCHEDULE.removeprefix("/schedule Every Monday, ")) for m in asked
    )
    # YouTube was read with the key, by handle; its string counts reached the model as numbers.
    stats = json.loads(results_of(llm.requests[1]["body"], "youtube__get_channel_stats")[0])
    assert (stats["subscribers"], stats["views"], stats["videos"]) == (15230, 1843392, 212)
    assert {c.query["key"] for c in youtube.calls} == {youtube.key}
    assert youtube.calls[0].query["forHandle"] == HANDLE
    # Each Monday left one report task in "Video Reports" holding the figures.
    reports = list(clickup.tasks.values())
    assert [(t["name"], t["list"]) for t in reports] == [("YouTube weekly report", "7001")] * 2
    assert reports[0]["description"] == (
        "**Team Channel**: 15,230 subscribers, 1,843,392 views, 212 videos\n\nRecent uploads:\n"
        "- Weekly update #40: 12,000 views, 640 likes, 85 comments\n"
        "- Weekly update #39: 9,500 views, 540 likes, 75 comments"
    )
    # ... and one post in the Discord channel named `team`, through the bot token.
    assert len(discord_api.messages) == 2
    assert {m["channel_id"] for m in discord_api.messages} == {TEAM_CHANNEL}
    sends = [c for c in discord_api.calls if c.method == "POST"]
    assert {c.headers["Authorization"] for c in sends} == {f"Bot {discord_api.token}"}
    assert discord_api.messages[0]["content"] == (
        "**Weekly YouTube report**: 15,230 subscribers, 1,843,392 views. "
        "Full report: https://app.clickup.com/t/t1"
    )
    assert discord_api.messages[1]["content"].endswith("https://app.clickup.com/t/t2")
    # The group saw each run under the schedule's header, the answer, and its summary line.
    headers = group_posts(f"Scheduled {schedule_id}: check our YouTube channel stats")
    assert len(headers) == 2
    assert len(group_posts("Summary: youtube/get_channel_stats")) == 2
