"""Schedule commands and LLM tools through the real registry, file store, engine and fake clock."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.cli.schedule import add_schedule_parser
from orchestrator.clock import FakeClock
from orchestrator.commands.registry import (
    CommandContext,
    CommandRegistry,
    parse_args,
    split_command,
)
from orchestrator.config import SchedulerSettings
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.scheduling.commands import register_schedule_commands
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.file_store import FileScheduleStore
from orchestrator.scheduling.llm_tools import run_schedule_tool, schedule_tool_schemas
from orchestrator.scheduling.store import Schedule

REPO = Path(__file__).resolve().parents[2]
# Friday 27 March 2026, 08:00 UTC
START = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
ANN = ChatMessage("console", "team", "u-ann", "", user_name="Ann")
BOB = ChatMessage("console", "team", "u-bob", "", user_name="Bob")
OTHER_CHAT = ChatMessage("console", "elsewhere", "u-ann", "", user_name="Ann")


@dataclass
class Harness:
    """The commands wired to a real scheduler; the runner posts into `posted` like a chat."""

    tmp: Path
    settings: SchedulerSettings = field(default_factory=SchedulerSettings)
    clock: FakeClock = field(default_factory=lambda: FakeClock(START))
    posted: list[tuple[str, str]] = field(default_factory=list)
    timezones: dict[str, str] = field(default_factory=dict)
    failing: bool = False

    def __post_init__(self) -> None:
        self.registry = CommandRegistry()
        self.scheduler = self.make_scheduler()
        register_schedule_commands(
            self.registry, self.scheduler, self.timezone_of, self.set_timezone
        )

    def make_scheduler(self) -> Scheduler:
        store = FileScheduleStore(self.tmp / "schedules.json")
        return Scheduler(store, self.clock, self.runner, self.settings, notify=self.notify)

    async def runner(self, schedule: Schedule) -> None:
        if self.failing:
            raise RuntimeError("tool server down")
        self.posted.append((schedule.target_key, f"ran: {schedule.what}"))

    async def notify(self, schedule: Schedule, text: str) -> None:
        self.posted.append((schedule.target_key, text))

    async def timezone_of(self, chat_key: str) -> str:
        return self.timezones.get(chat_key, "")

    async def set_timezone(self, chat_key: str, zone: str) -> None:
        self.timezones[chat_key] = zone

    async def say(self, message: ChatMessage, text: str, is_admin: bool = False) -> Reply:
        split = split_command(text)
        assert split is not None
        command = self.registry.get(split[0])
        assert command is not None
        args = parse_args(command, split[1])
        replies = await command.handler(CommandContext(message, is_admin), args)
        assert len(replies) == 1
        return replies[0]

    async def create(self, message: ChatMessage, text: str) -> str:
        reply = await self.say(message, f"/schedule {text}")
        assert reply.kind is not ReplyKind.ERROR, reply.text
        return reply.text.split()[1].rstrip(":")

    async def run_until(self, moment: datetime, step: float = 60) -> None:
        while self.clock.now() < moment:
            self.clock.advance(step)
            await self.scheduler.tick()


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


async def test_schedule_every_monday_runs_into_the_chat_at_nine(h: Harness) -> None:
    h.timezones["console:team"] = "Europe/London"
    reply = await h.say(ANN, "/schedule every monday at 9am check the weather")
    assert "every Monday at 09:00 (Europe/London)" in reply.text
    assert "Mon 30 Mar 2026 09:00 BST" in reply.text  # across the DST change on Sunday
    await h.run_until(datetime(2026, 3, 30, 7, 59, tzinfo=UTC))
    assert h.posted == []
    await h.run_until(datetime(2026, 3, 30, 8, 0, tzinfo=UTC))
    assert h.posted == [("console:team", "ran: check the weather")]
    await h.run_until(datetime(2026, 4, 6, 8, 30, tzinfo=UTC), step=900)
    assert len(h.posted) == 2


async def test_schedules_lists_id_words_next_run_creator_and_state(h: Harness) -> None:
    sid = await h.create(ANN, "daily at 8 post the digest")
    await h.create(BOB, "every 2 hours check the queue")
    await h.say(ANN, f"/pause {sid}")
    text = (await h.say(BOB, "/schedules")).text
    assert "(2/20)" in text
    assert f"{sid}: every day at 08:00 (UTC), paused, by Ann: post the digest" in text
    assert "every 2 hours (UTC), next Fri 27 Mar 2026 10:00 UTC" in text and "by Bob" in text
    assert "No schedules" in (await h.say(OTHER_CHAT, "/schedules")).text


async def test_only_creator_or_admin_can_change_a_schedule(h: Harness) -> None:
    sid = await h.create(ANN, "daily at 8 post the digest")
    for verb in ("pause", "resume", "unschedule"):
        refused = await h.say(BOB, f"/{verb} {sid}")
        assert refused.kind is ReplyKind.ERROR and "Only Ann" in refused.text
    assert "Paused" in (await h.say(BOB, f"/pause {sid}", is_admin=True)).text
    assert "Resumed" in (await h.say(ANN, f"/resume {sid}")).text
    assert "Removed" in (await h.say(ANN, f"/unschedule {sid.upper()}")).text
    gone = await h.say(ANN, f"/unschedule {sid}")
    assert gone.kind is ReplyKind.ERROR and "No schedule" in gone.text


async def test_another_chat_cannot_touch_the_schedule(h: Harness) -> None:
    sid = await h.create(ANN, "daily at 8 post the digest")
    reply = await h.say(OTHER_CHAT, f"/unschedule {sid}", is_admin=True)
    assert reply.kind is ReplyKind.ERROR and "No schedule" in reply.text


async def test_paused_schedule_does_not_run_until_resumed(h: Harness) -> None:
    sid = await h.create(ANN, "every 30 minutes ping")
    await h.say(ANN, f"/pause {sid}")
    await h.run_until(datetime(2026, 3, 27, 10, 0, tzinfo=UTC))
    assert h.posted == []
    await h.say(ANN, f"/resume {sid}")
    await h.run_until(datetime(2026, 3, 27, 11, 0, tzinfo=UTC))
    assert h.posted == [("console:team", "ran: ping")] * 2


async def test_abuse_limits_come_from_config(tmp_path: Path) -> None:
    h = Harness(tmp_path, settings=SchedulerSettings(max_per_chat=2, min_interval_seconds=600))
    too_often = await h.say(ANN, "/schedule every 5 minutes ping")
    assert too_often.kind is ReplyKind.ERROR and "at most every 10 minutes" in too_often.text
    cron_too_often = await h.say(ANN, "/schedule */5 * * * * ping")
    assert cron_too_often.kind is ReplyKind.ERROR
    await h.create(ANN, "every 10 minutes a")
    await h.create(BOB, "daily at 9 b")
    full = await h.say(ANN, "/schedule daily at 10 c")
    assert full.kind is ReplyKind.ERROR and "already has 2 schedules" in full.text
    assert await h.create(OTHER_CHAT, "daily at 10 c")


async def test_unparseable_when_replies_with_examples(h: Harness) -> None:
    reply = await h.say(ANN, "/schedule every funday at 9 check stuff")
    assert reply.kind is ReplyKind.ERROR
    assert "funday" in reply.text and "every monday at 9am" in reply.text


async def test_failures_post_notes_and_pause_after_max(tmp_path: Path) -> None:
    h = Harness(tmp_path, settings=SchedulerSettings(max_failures=3))
    h.failing = True
    sid = await h.create(ANN, "every 10 minutes sync the board")
    await h.run_until(datetime(2026, 3, 27, 9, 0, tzinfo=UTC))
    notes = [text for _, text in h.posted]
    assert len(notes) == 3
    assert all(n.startswith(f"Scheduled run {sid} failed: RuntimeError") for n in notes)
    assert "paused it" in notes[-1] and f"/resume {sid}" in notes[-1]
    assert "paused" in (await h.say(ANN, "/schedules")).text
    h.failing = False
    await h.say(ANN, f"/resume {sid}")
    await h.run_until(datetime(2026, 3, 27, 9, 10, tzinfo=UTC))
    assert h.posted[-1] == ("console:team", "ran: sync the board")


async def test_one_shot_runs_once_and_keeps_its_history(h: Harness) -> None:
    sid = await h.create(ANN, "in 20 minutes remind us to stand up")
    await h.run_until(datetime(2026, 3, 27, 9, 0, tzinfo=UTC))
    assert h.posted == [("console:team", "ran: remind us to stand up")]
    listed = (await h.say(ANN, "/schedules")).text
    assert f"{sid}: " in listed and ", done, last run " in listed and " ok" in listed
    runs = (await h.say(ANN, f"/runs {sid}")).text
    assert runs.startswith(f"Recent runs of {sid}") and len(runs.splitlines()) == 2
    assert await h.scheduler.tick() == 0  # finished: never runs again


async def test_a_full_chat_drops_its_oldest_finished_one_shot(tmp_path: Path) -> None:
    h = Harness(tmp_path, settings=SchedulerSettings(max_per_chat=2))
    done = await h.create(ANN, "in 20 minutes remind us to stand up")
    await h.run_until(datetime(2026, 3, 27, 9, 0, tzinfo=UTC))
    await h.create(ANN, "every monday at 9am check the weather")
    await h.create(ANN, "every tuesday at 9am check the weather")  # room made: `done` goes
    listed = (await h.say(ANN, "/schedules")).text
    assert done not in listed and listed.count("check the weather") == 2


async def test_free_text_needs_a_model_but_a_command_does_not(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    registry = CommandRegistry()
    register_schedule_commands(
        registry, h.scheduler, h.timezone_of, h.set_timezone, model_ready=lambda: False
    )
    h.registry = registry
    refused = await h.say(ANN, "/schedule every monday at 9am check the weather")
    assert refused.kind is ReplyKind.ERROR and "No language model is configured" in refused.text
    assert "/run time get_current_time" in refused.text  # says what does work
    await h.create(ANN, 'every monday at 9am /run time get_current_time {"timezone": "UTC"}')


async def test_timezone_command_shows_sets_and_suggests(h: Harness) -> None:
    assert "timezone is UTC" in (await h.say(ANN, "/timezone")).text
    set_reply = await h.say(ANN, "/timezone america/new_york")
    assert "now America/New_York" in set_reply.text
    assert h.timezones == {"console:team": "America/New_York"}
    bad = await h.say(ANN, "/timezone Europe/Londn")
    assert bad.kind is ReplyKind.ERROR and "Europe/London" in bad.text
    reply = await h.say(ANN, "/schedule daily at 9 standup")
    assert "(America/New_York)" in reply.text and "09:00 EDT" in reply.text


async def test_target_chat_other_than_this_one_needs_an_admin(h: Harness) -> None:
    args = {"when": "daily at 9", "what": "post", "target_chat": "discord:42"}
    refused = await run_schedule_tool(
        "schedule_create", args, ANN, False, h.scheduler, h.timezone_of
    )
    assert refused.startswith("error:") and "admin" in refused
    ok = await run_schedule_tool("schedule_create", args, ANN, True, h.scheduler, h.timezone_of)
    assert "in discord:42" in ok
    await h.run_until(datetime(2026, 3, 27, 9, 1, tzinfo=UTC))
    assert h.posted == [("discord:42", "ran: post")]


async def test_llm_tools_share_the_commands_rules(h: Harness) -> None:
    names = [t["function"]["name"] for t in schedule_tool_schemas()]
    assert names == ["schedule_create", "schedule_list", "schedule_delete"]
    tz = h.timezone_of
    created = await run_schedule_tool(
        "schedule_create", {"when": "every monday at 9am", "what": "weekly report"}, ANN, False,
        h.scheduler, tz,
    )  # fmt: skip
    assert created.startswith("Scheduled ")
    sid = created.split()[1].rstrip(":")
    too_often = await run_schedule_tool(
        "schedule_create", {"when": "every minute", "what": "spam"}, ANN, False, h.scheduler, tz
    )
    assert too_often.startswith("error:") and "too often" in too_often
    bad = await run_schedule_tool(
        "schedule_create", {"when": "sometime", "what": "x"}, ANN, False, h.scheduler, tz
    )
    assert bad.startswith("error:") and "Try" in bad
    listed = await run_schedule_tool("schedule_list", {}, BOB, False, h.scheduler, tz)
    assert sid in listed and "weekly report" in listed
    denied = await run_schedule_tool("schedule_delete", {"id": sid}, BOB, False, h.scheduler, tz)
    assert denied.startswith("error:") and "Only Ann" in denied
    deleted = await run_schedule_tool("schedule_delete", {"id": sid}, ANN, False, h.scheduler, tz)
    assert deleted.startswith("Removed")


async def test_file_store_survives_a_restart_and_catches_up_once(h: Harness) -> None:
    sid = await h.create(ANN, "every 30 minutes ping")
    daily = await h.create(ANN, "daily at 9 digest")
    raw = (h.tmp / "schedules.json").read_text()
    assert sid in raw and "digest" in raw
    # the process stops; 10 minutes after the 09:00 runs it starts again with a new store
    h.clock.set(datetime(2026, 3, 27, 9, 10, tzinfo=UTC))
    restarted = h.make_scheduler()
    assert {s.id for s in await restarted.list_chat("console:team")} == {sid, daily}
    assert await restarted.tick() == 2
    assert sorted(h.posted) == [("console:team", "ran: digest"), ("console:team", "ran: ping")]
    assert await restarted.tick() == 0
    # three days later: runs missed by more than the grace period are skipped, never replayed
    h.clock.set(datetime(2026, 3, 30, 9, 40, tzinfo=UTC))
    assert await restarted.tick() == 1  # only the 09:30 ping is within 15 minutes
    for s in await restarted.list_chat("console:team"):
        assert s.next_run_at is not None and s.next_run_at > h.clock.now()


async def test_run_forever_ticks_on_the_fake_clock(h: Harness) -> None:
    h.settings = SchedulerSettings(tick_seconds=30)
    scheduler = h.make_scheduler()
    await h.create(ANN, "in 5 minutes hello")
    task = asyncio.create_task(scheduler.run_forever())
    try:
        for _ in range(20):
            h.clock.advance(30)
            for _ in range(50):
                await asyncio.sleep(0.001)
                if h.clock.sleepers:
                    break
        await scheduler.drain()
        assert h.posted == [("console:team", "ran: hello")]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def preview(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_schedule_parser(parser.add_subparsers(dest="command"))
    ns = parser.parse_args(["schedule", "preview", *argv])
    return int(ns.func(ns))


def test_preview_prints_local_iso_times_with_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    code = preview(
        "every day at 1:30", "--tz", "Europe/London", "--from", "2026-03-27T12:00", "--count", "3"
    )
    assert code == 0
    assert capsys.readouterr().out.split() == [
        "2026-03-28T01:30:00+00:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-30T01:30:00+01:00",
    ]


def test_preview_of_a_bad_phrase_exits_2_with_the_user_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert preview("every funday", "--from", "2026-03-27T12:00") == 2
    err = capsys.readouterr().err
    assert "funday" in err and "every monday at 9am" in err
    assert preview("daily", "--tz", "Mars/Base") == 2


def test_preview_as_a_module_never_prints_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli.schedule", "preview", "0 9 * * MON",
         "--tz", "America/New_York", "--from", "2026-03-01T00:00", "--count", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2026-03-02T09:00:00-05:00", "2026-03-09T09:00:00-04:00"]
    bad = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli.schedule", "preview", "0 61 * * *"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "cron" in bad.stderr


async def test_a_success_resets_the_failure_count(tmp_path: Path) -> None:
    h = Harness(tmp_path, settings=SchedulerSettings(max_failures=3))
    await h.create(ANN, "every 10 minutes sync the board")
    for failing in (True, True, False, True, True):
        h.failing = failing
        h.clock.advance(600)
        await h.scheduler.tick()
    texts = [text for _, text in h.posted]
    assert texts.count("ran: sync the board") == 1
    assert not any("paused it" in t for t in texts)
    assert "paused" not in (await h.say(ANN, "/schedules")).text


async def test_runner_helper_runs_as_the_creator_and_posts_to_the_target(tmp_path: Path) -> None:
    from orchestrator.scheduling.wiring import make_notify, make_runner, schedule_builtin_tools

    seen: list[ChatMessage] = []
    posted: list[tuple[str, str, list[str]]] = []

    async def handle(message: ChatMessage) -> list[Reply]:
        seen.append(message)
        if "broken" in message.text:
            return [Reply("The tool server is down.", ReplyKind.ERROR)]
        return [Reply("42 new subscribers"), Reply("1 tool, 0.4 s", ReplyKind.SUMMARY)]

    async def post(platform: str, chat_id: str, replies: list[Reply]) -> bool:
        posted.append((platform, chat_id, [r.text for r in replies]))
        return True

    clock = FakeClock(START)
    store = FileScheduleStore(tmp_path / "s.json")
    scheduler = Scheduler(
        store, clock, make_runner(handle, post), SchedulerSettings(), notify=make_notify(post)
    )
    tools = {t.name: t for t in schedule_builtin_tools(ANN, False, scheduler, _utc)}
    created = await tools["schedule_create"].run({"when": "in 10 minutes", "what": "stats"})
    sid = created.split()[1].rstrip(":")
    await tools["schedule_create"].run({"when": "in 10 minutes", "what": "broken job"})
    clock.advance(600)
    assert await scheduler.tick() == 2
    assert {(m.platform, m.chat_id, m.user_id, m.text) for m in seen} == {
        ("console", "team", "u-ann", "stats"),
        ("console", "team", "u-ann", "broken job"),
    }
    assert (
        "console",
        "team",
        [f"Scheduled {sid}: stats", "42 new subscribers", "1 tool, 0.4 s"],
    ) in posted
    failure = [texts for _, _, texts in posted if "failed" in texts[0]]
    assert failure and "The tool server is down." in failure[0][0]


async def _utc(chat_key: str) -> str:
    return "UTC"


def test_a_target_named_at_the_end_is_split_off() -> None:
    from orchestrator.scheduling.actions import split_target

    assert split_target("every monday at 9am post stats -> discord:12345") == (
        "every monday at 9am post stats",
        "discord:12345",
    )
    assert split_target("daily at 8 check -> the weather") == (
        "daily at 8 check -> the weather",
        None,
    )
    assert split_target("daily at 8 check") == ("daily at 8 check", None)
