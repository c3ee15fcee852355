"""Our MCP servers (custom_servers/) as real subprocesses, against fake APIs at the wire.

Each server runs over stdio with the MCP client (one per service, shared by its tests, plus own
ones where the environment differs); tests call its tools and assert what the fake API received
(path, auth, body) and what the tool answered. Failures (401, 404, 429, a
stalled API) must come back as clear tool errors, and no token may appear in an answer or in the
server's log.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from scripts.with_redis import free_port
from tests.conftest import REPO
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.discord_api import GUILD_ID, FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.youtube_api import CHANNEL_ID, HANDLE, UPLOADS, VIDEO_IDS, FakeYouTube


@dataclass
class Answer:
    error: bool
    text: str

    @property
    def data(self) -> Any:
        return json.loads(self.text)


class Server:
    """One running server: call its tools, read what it logged."""

    def __init__(self, session: ClientSession, log_path: str) -> None:
        self.session = session
        self.log_path = log_path

    async def call(self, tool: str, **arguments: Any) -> Answer:
        result = await self.session.call_tool(tool, arguments)
        return Answer(bool(result.is_error), "\n".join(c.text for c in result.content))  # type: ignore[union-attr]

    def log(self) -> str:
        with open(self.log_path) as handle:
            return handle.read()


@asynccontextmanager
async def running(
    module: str, env: dict[str, str], *, script: bool = False
) -> AsyncIterator[Server]:
    """The server `custom_servers.<module>` over stdio, its stderr kept in a temp file."""
    args = (
        [str(REPO / "custom_servers" / f"{module}.py")]
        if script
        else ["-m", f"custom_servers.{module}"]
    )
    params = StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(REPO))
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield Server(session, errlog.name)


class Live:
    """A fake API and our server pointed at it, started once per session and shared by the tests
    of one service (starting a server costs a second or two); each test gets them reset."""

    def __init__(
        self, module: str, make_fake: Callable[[], Any], env: Callable[[Any], dict[str, str]]
    ):
        self.module, self.make_fake, self.env = module, make_fake, env
        self._ready, self._stop = asyncio.Event(), asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 60)

    async def _run(self) -> None:
        # One task owns the server's context managers from start to stop, as anyio requires.
        async with (
            fake_running(self.make_fake()) as fake,
            running(self.module, self.env(fake)) as server,
        ):
            self.fake, self.server = fake, server
            self._ready.set()
            await self._stop.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def __aenter__(self) -> tuple[Any, Server]:
        self.fake.reset()
        return self.fake, self.server

    async def __aexit__(self, *exc: object) -> None:
        pass


@asynccontextmanager
async def fake_running(fake: Any) -> AsyncIterator[Any]:
    """A fake API, whether it serves from a thread (sync) or the event loop (async)."""
    if hasattr(fake, "__aenter__"):
        async with fake:
            yield fake
    else:
        with fake:
            yield fake


def telegram_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{fake.port}",
        "TELEGRAM_DESTINATIONS": '{"team": "-100123", "ops": "-100456"}',
        "TELEGRAM_TIMEOUT_SECONDS": TIMEOUT,
        **extra,
    }


def discord_env(fake: FakeDiscord, **extra: str) -> dict[str, str]:
    return {
        "DISCORD_BOT_TOKEN": fake.token,
        "DISCORD_API_URL": fake.base_url,
        "DISCORD_GUILD_ID": GUILD_ID,
        "DISCORD_DESTINATIONS": "reports=444444444444444442,alerts=" + fake.webhook_url,
        "DISCORD_TIMEOUT_SECONDS": TIMEOUT,
        **extra,
    }


def youtube_env(fake: FakeYouTube, **extra: str) -> dict[str, str]:
    return {
        "YOUTUBE_API_KEY": fake.key,
        "YOUTUBE_API_URL": fake.base_url,
        "YOUTUBE_TIMEOUT_SECONDS": TIMEOUT,
        **extra,
    }


def clickup_env(fake: FakeClickUp, **extra: str) -> dict[str, str]:
    return {
        "CLICKUP_API_TOKEN": fake.token,
        "CLICKUP_API_URL": fake.url,
        "CLICKUP_TIMEOUT_SECONDS": TIMEOUT,
        **extra,
    }


TIMEOUT = "1.5"  # seconds each server waits for its API; the failure tests stall past it


@pytest.fixture(scope="session")
async def live() -> AsyncIterator[dict[str, Live]]:
    servers = {
        "telegram": Live("telegram_mcp_server", FakeTelegram, telegram_env),
        "discord": Live("discord_mcp_server", FakeDiscord, discord_env),
        "youtube": Live("youtube_mcp_server", FakeYouTube, youtube_env),
        "clickup": Live("clickup_mcp_server", FakeClickUp, clickup_env),
    }
    await asyncio.gather(*(s.start() for s in servers.values()))
    try:
        yield servers
    finally:
        await asyncio.gather(*(s.stop() for s in servers.values()))


@pytest.fixture
def telegram(live: dict[str, Live]) -> Live:
    return live["telegram"]


@pytest.fixture
def discord(live: dict[str, Live]) -> Live:
    return live["discord"]


@pytest.fixture
def youtube(live: dict[str, Live]) -> Live:
    return live["youtube"]


@pytest.fixture
def clickup(live: dict[str, Live]) -> Live:
    return live["clickup"]


# -- every server: its tools and their annotations ------------------------------------------------

EXPECTED_TOOLS = {
    "telegram_mcp_server": {
        "send_message": "write",
        "get_chat": "read",
        "list_destinations": "read",
    },
    "discord_mcp_server": {
        "send_message": "write",
        "list_channels": "read",
        "list_destinations": "read",
    },
    "youtube_mcp_server": {
        "get_channel_stats": "read",
        "list_recent_videos": "read",
        "get_video_stats": "read",
    },
    "clickup_mcp_server": {
        "create_task": "write",
        "update_task_status": "destructive",
        "list_tasks": "read",
        "get_task": "read",
        "add_comment": "write",
        "find_list": "read",
    },
}


@pytest.mark.parametrize("module", sorted(EXPECTED_TOOLS))
async def test_every_tool_is_declared_with_honest_annotations(module: str) -> None:
    """In process, for speed: the failure tests below list the same tools over stdio."""
    server = importlib.import_module(f"custom_servers.{module}").create_server()
    kinds = {}
    for tool in await server.list_tools():
        hints = tool.annotations
        assert hints is not None, tool.name
        if hints.read_only_hint:
            kinds[tool.name] = "read"
        else:
            assert hints.destructive_hint is not None, f"{tool.name} must say whether it destroys"
            kinds[tool.name] = "destructive" if hints.destructive_hint else "write"
        assert tool.description and tool.input_schema["type"] == "object"
    assert kinds == EXPECTED_TOOLS[module]


# -- Telegram -------------------------------------------------------------------------------------


async def test_telegram_markdown_reaches_a_named_chat_as_html(telegram: Live) -> None:
    async with telegram as (fake, server):
        answer = await server.call(
            "send_message", chat="Team", text="**Weekly** report: 3 < 5 & `x_y` _done_"
        )
        names = await server.call("list_destinations")
    assert not answer.error, answer.text
    [sent] = fake.sent()
    assert sent["chat_id"] == "-100123" and sent["parse_mode"] == "HTML"
    assert sent["text"] == "<b>Weekly</b> report: 3 &lt; 5 &amp; <code>x_y</code> <i>done</i>"
    assert answer.data == {
        "chat_id": "-100123",
        "message_ids": [fake.calls[-1].result["message_id"]],
        "parts": 1,
        "sent_as_plain_text": [],
    }
    assert names.data == {"team": "-100123", "ops": "-100456"}


async def test_telegram_markup_it_cannot_parse_is_resent_as_plain_text(telegram: Live) -> None:
    async with telegram as (fake, server):
        html_answer = await server.call(
            "send_message", chat="-100123", text="<b>unclosed", format="html"
        )
        v2_answer = await server.call(
            "send_message", chat="ops", text="Done. 100%!", format="markdownv2"
        )
    assert not html_answer.error and not v2_answer.error
    sends = fake.sent()
    assert [(s.get("parse_mode"), s["text"]) for s in sends] == [
        ("HTML", "<b>unclosed"),  # Telegram: 400 can't parse entities
        (None, "<b>unclosed"),
        ("MarkdownV2", "Done. 100%!"),  # Telegram: 400 '.' must be escaped
        (None, "Done. 100%!"),
    ]
    assert html_answer.data["sent_as_plain_text"] == [1] == v2_answer.data["sent_as_plain_text"]


async def test_telegram_long_text_goes_out_in_parts_with_code_blocks_intact(telegram: Live) -> None:
    code = "\n".join(f"print({i})  # line {i}" for i in range(300))
    text = (
        "Intro paragraph.\n\n" + "word " * 700 + "\n\n```python\n" + code + "\n```\n\nThe end & bye"
    )
    async with telegram as (fake, server):
        answer = await server.call("send_message", chat="team", text=text)
    assert not answer.error, answer.text
    sends = fake.sent()
    assert len(sends) == answer.data["parts"] >= 3
    assert all(s["parse_mode"] == "HTML" for s in sends)  # every part parsed: tags balanced
    assert all(len(s["text"]) <= 4096 for s in sends)
    joined = "".join(s["text"] for s in sends)
    assert joined.count("print(") == 300 and joined.endswith("The end &amp; bye")
    assert joined.count('<pre><code class="language-python">') == len(
        [s for s in sends if "print(" in s["text"]]
    )


async def test_telegram_get_chat_checks_a_name_and_unknown_names_are_refused(
    telegram: Live,
) -> None:
    async with telegram as (fake, server):
        fake.add_chat(-100123, "Team chat")
        found = await server.call("get_chat", chat="team")
        missing = await server.call("get_chat", chat="ops")
        unknown = await server.call("send_message", chat="marketing", text="hi")
    assert found.data == {
        "id": -100123,
        "type": "supergroup",
        "title": "Team chat",
        "username": None,
    }
    assert missing.error and "chat not found" in missing.text
    assert (
        unknown.error
        and "unknown destination 'marketing'" in unknown.text
        and "ops, team" in unknown.text
    )
    assert [c.method for c in fake.calls] == ["getChat", "getChat"]


# -- Discord --------------------------------------------------------------------------------------


async def test_discord_message_to_a_named_channel_is_posted_with_the_bot_token(
    discord: Live,
) -> None:
    async with discord as (fake, server):
        answer = await server.call("send_message", channel="#reports", text="Weekly stats are in")
    assert not answer.error, answer.text
    [call] = fake.calls
    assert (call.method, call.path) == ("POST", "/api/v10/channels/444444444444444442/messages")
    assert call.headers["Authorization"] == f"Bot {fake.token}"
    assert call.body["content"] == "Weekly stats are in"
    assert answer.data == {
        "channel": "444444444444444442",
        "message_ids": [fake.messages[0]["id"]],
        "parts": 1,
    }


async def test_discord_long_text_is_split_at_2000_closing_and_reopening_code_blocks(
    discord: Live,
) -> None:
    code = "\n".join(f"SELECT {i} FROM t;" for i in range(400))
    text = "Report:\n```sql\n" + code + "\n```\nDone."
    async with discord as (fake, server):
        answer = await server.call("send_message", channel="444444444444444441", text=text)
    assert not answer.error, answer.text
    parts = fake.posted("444444444444444441")
    assert len(parts) == answer.data["parts"] >= 3
    assert all(len(p) <= 2000 for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts), "a part leaves a code block open"
    assert all(p.startswith("```sql\n") for p in parts[1:])
    assert "".join(parts).count("SELECT") == 400 and parts[-1].endswith("Done.")


async def test_discord_without_a_bot_token_posts_by_webhook_and_hides_the_url() -> None:
    async with FakeDiscord() as fake:
        env = discord_env(fake, DISCORD_BOT_TOKEN="", DISCORD_WEBHOOK_URL=fake.webhook_url)
        async with running("discord_mcp_server", env) as server:
            answer = await server.call("send_message", channel="alerts", text="Deploy finished")
            default = await server.call("send_message", channel="webhook", text="Second")
            names = await server.call("list_destinations")
            no_bot = await server.call("send_message", channel="reports", text="x")
            no_token = await server.call("list_channels")
            log = server.log()
    call = fake.calls[0]
    assert len(fake.calls) == 2 and not default.error
    assert call.path == f"/api/v10/webhooks/{fake.webhook_id}/{fake.webhook_token}"
    assert call.query == {"wait": "true"} and "Authorization" not in call.headers
    assert answer.data["channel"] == "webhook" and fake.posted("webhook") == [
        "Deploy finished",
        "Second",
    ]
    assert names.data == {
        "reports": "444444444444444442",
        "alerts": "webhook",
        "webhook": "webhook",
    }
    assert (
        no_bot.error
        and "only webhook destinations work; webhook destinations: alerts, webhook" in no_bot.text
    )
    assert no_token.error and "DISCORD_BOT_TOKEN is not set for the discord server" in no_token.text
    for text in (answer.text, default.text, names.text, no_bot.text, log):
        assert fake.webhook_token not in text


async def test_discord_list_channels_names_each_channel_and_its_category(discord: Live) -> None:
    async with discord as (fake, server):
        answer = await server.call("list_channels")
        bad = await server.call("list_channels", guild_id="../../users/@me")
    assert [(c.method, c.path) for c in fake.calls] == [
        ("GET", f"/api/v10/guilds/{GUILD_ID}/channels")
    ]
    assert fake.calls[0].headers["Authorization"] == f"Bot {fake.token}"
    assert answer.data["channels"] == [
        {"id": "444444444444444441", "name": "general", "type": "text", "category": "Team"},
        {"id": "444444444444444442", "name": "reports", "type": "text", "category": "Team"},
        {"id": "444444444444444443", "name": "Standup", "type": "voice", "category": "Team"},
    ]
    assert bad.error  # rejected before any call


# -- YouTube --------------------------------------------------------------------------------------


async def test_youtube_channel_stats_by_handle_and_id_come_back_as_numbers(youtube: Live) -> None:
    async with youtube as (fake, server):
        by_handle = await server.call("get_channel_stats", channel=HANDLE)
        by_id = await server.call("get_channel_stats", channel=CHANNEL_ID)
        missing = await server.call("get_channel_stats", channel="@nosuchchannel")
    assert [c.path for c in fake.calls] == ["/youtube/v3/channels"] * 3
    assert fake.calls[0].query == {
        "part": "statistics,snippet",
        "forHandle": HANDLE,
        "key": fake.key,
    }
    assert fake.calls[1].query["id"] == CHANNEL_ID
    expected = {
        "channel_id": CHANNEL_ID,
        "title": "Team Channel",
        "handle": HANDLE,
        "subscribers": 15230,
        "views": 1843392,
        "videos": 212,
    }
    assert by_handle.data == expected == by_id.data
    assert missing.error and "no channel '@nosuchchannel'" in missing.text


async def test_youtube_recent_uploads_walk_the_uploads_playlist_to_video_statistics(
    youtube: Live,
) -> None:
    async with youtube as (fake, server):
        answer = await server.call("list_recent_videos", channel=HANDLE, max_results=3)
        one = await server.call("get_video_stats", video_id=VIDEO_IDS[1])
        bad = await server.call("get_video_stats", video_id="not a video id")
    assert [(c.path, c.query.get("part")) for c in fake.calls] == [
        ("/youtube/v3/channels", "contentDetails"),
        ("/youtube/v3/playlistItems", "contentDetails"),
        ("/youtube/v3/videos", "statistics,snippet"),
        ("/youtube/v3/videos", "statistics,snippet"),
    ]
    assert fake.calls[1].query["playlistId"] == UPLOADS and fake.calls[1].query["maxResults"] == "3"
    assert fake.calls[2].query["id"] == ",".join(VIDEO_IDS[:3])
    videos = answer.data["videos"]
    assert [v["video_id"] for v in videos] == VIDEO_IDS[:3]
    assert videos[0] | {"published_at": None} == {
        "video_id": VIDEO_IDS[0],
        "title": "Weekly update #40",
        "published_at": None,
        "views": 12000,
        "likes": 640,
        "comments": 85,
    }
    assert one.data["views"] == 9500 and isinstance(one.data["likes"], int)
    assert bad.error and len(fake.calls) == 4  # rejected before any call


async def test_youtube_quota_and_key_errors_say_so(youtube: Live) -> None:
    async with youtube as (fake, server):
        fake.quota_exceeded()
        quota = await server.call("get_channel_stats", channel=HANDLE)
        env = youtube_env(fake, YOUTUBE_API_KEY="AIzaWRONG-key-123")
        async with running("youtube_mcp_server", env) as wrong_key:
            key = await wrong_key.call("get_video_stats", video_id=VIDEO_IDS[0])
            log = wrong_key.log()
    assert quota.error and "quota is used up (quotaExceeded)" in quota.text
    assert key.error and "the YouTube API key was rejected; check YOUTUBE_API_KEY" in key.text
    assert "AIzaWRONG-key-123" not in key.text + log


# -- ClickUp --------------------------------------------------------------------------------------


async def test_clickup_find_list_walks_teams_spaces_folders_and_folderless_lists(
    clickup: Live,
) -> None:
    async with clickup as (fake, server):
        exact = await server.call("find_list", name="video reports")
        partial = await server.call("find_list", name="follow")
    assert exact.data == {
        "lists": [
            {
                "id": "7001",
                "name": "Video Reports",
                "folder": "Content",
                "space": "Marketing",
                "team": "Acme",
            }
        ],
        "searched": 4,
    }
    assert {(x["name"], x["folder"]) for x in partial.data["lists"]} == {
        ("Followups", None),
        ("Invoice follow-ups", "Finance"),
    }
    paths = {c.path for c in fake.calls[:8]}
    assert paths == {
        "/api/v2/team",
        "/api/v2/team/9001/space",
        "/api/v2/space/901/folder",
        "/api/v2/space/902/folder",
        "/api/v2/space/901/list",
        "/api/v2/space/902/list",
        "/api/v2/folder/801/list",
        "/api/v2/folder/802/list",
    }
    assert all(c.headers["Authorization"] == fake.token for c in fake.calls)


async def test_clickup_list_tasks_sends_the_real_filter_parameters(clickup: Live) -> None:
    day = 86_400_000
    base = 1_796_083_200_000  # 2026-12-01T00:00:00Z
    async with clickup as (fake, server):
        fake.add_task(
            "7001", "Cut video", status="in progress", assignees=(101,), due_ms=base + day
        )
        fake.add_task("7001", "Write script", status="to do", assignees=(102,), due_ms=base + day)
        fake.add_task(
            "7001", "Old one", status="in progress", assignees=(101,), due_ms=base - 9 * day
        )
        fake.add_task("7001", "Shipped", status="done", assignees=(101,), due_ms=base + day)
        answer = await server.call(
            "list_tasks",
            list_id="7001",
            statuses=["in progress", "done"],
            assignees=[101],
            due_after="2026-11-30",
            due_before="2026-12-07T00:00:00Z",
        )
        everything = await server.call("list_tasks", list_id="7001", include_closed=True)
        backwards = await server.call(
            "list_tasks", list_id="7001", due_after="2026-12-07", due_before="2026-11-30"
        )
    first = fake.calls[0]
    assert (first.method, first.path) == ("GET", "/api/v2/list/7001/task")
    assert first.query == {
        "page": ["0"],
        "statuses[]": ["in progress", "done"],
        "assignees[]": ["101"],
        "due_date_gt": [str(base - day)],
        "due_date_lt": [str(base + 6 * day)],
    }
    assert [t["name"] for t in answer.data["tasks"]] == ["Cut video"]
    assert answer.data["tasks"][0] | {"id": None, "url": None} == {
        "id": None,
        "name": "Cut video",
        "status": "in progress",
        "assignees": ["ann"],
        "due": "2026-12-02T00:00:00Z",
        "priority": None,
        "url": None,
    }
    assert len(everything.data["tasks"]) == 4 and fake.calls[1].query["include_closed"] == ["true"]
    assert (
        backwards.error and "due_after must be earlier" in backwards.text and len(fake.calls) == 2
    )


async def test_clickup_task_round_trip_create_read_comment_update(clickup: Live) -> None:
    async with clickup as (fake, server):
        created = await server.call(
            "create_task",
            list_id="7003",
            name="Chase INV-101",
            description="Globex owes 1200",
            priority=2,
        )
        task_id = created.data["id"]
        comment = await server.call("add_comment", task_id=task_id, text="Emailed their AP team")
        status = await server.call("update_task_status", task_id=task_id, status="in progress")
        read = await server.call("get_task", task_id=task_id)
    assert [(c.method, c.path) for c in fake.calls] == [
        ("POST", "/api/v2/list/7003/task"),
        ("POST", f"/api/v2/task/{task_id}/comment"),
        ("PUT", f"/api/v2/task/{task_id}"),
        ("GET", f"/api/v2/task/{task_id}"),
    ]
    assert fake.calls[0].body == {
        "name": "Chase INV-101",
        "markdown_description": "Globex owes 1200",
        "priority": 2,
    }
    assert fake.calls[1].body == {"comment_text": "Emailed their AP team", "notify_all": False}
    assert fake.calls[2].body == {"status": "in progress"}
    assert comment.data["id"] == "458" and comment.data["task_id"] == task_id
    assert status.data == {"id": task_id, "status": "in progress"}
    assert read.data["name"] == "Chase INV-101" and read.data["list"] == "Followups"
    assert read.data["priority"] == "high" and read.data["status"] == "in progress"
    assert read.data["description"] == "Globex owes 1200"


async def test_clickup_bad_inputs_are_refused_before_any_call(clickup: Live) -> None:
    async with clickup as (fake, server):
        answers = [
            await server.call("get_task", task_id="../team"),
            await server.call("create_task", list_id="7003", name="x", priority=9),
            await server.call("create_task", list_id="7003", name=""),
            await server.call("list_tasks", list_id="7001", assignees=["ann"]),
            await server.call("list_tasks", list_id="7001", due_after="next tuesday"),
            await server.call("add_comment", task_id="86a1", text=""),
        ]
    assert all(a.error for a in answers), [a.text for a in answers if not a.error]
    assert fake.calls == []


async def test_clickup_still_runs_as_the_script_the_seed_config_names() -> None:
    with FakeClickUp() as fake:
        async with running("clickup_mcp_server", clickup_env(fake), script=True) as server:
            answer = await server.call("create_task", list_id="7003", name="From the script")
    assert not answer.error and [t["name"] for t in fake.tasks.values()] == ["From the script"]


async def test_a_server_also_speaks_streamable_http() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "custom_servers.youtube_mcp_server",
            "--transport",
            "streamable-http",
            "--port",
            str(port),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "YOUTUBE_API_KEY": "k"},
    )
    try:
        names: list[str] = []
        deadline = time.monotonic() + 15
        while not names and time.monotonic() < deadline:
            try:
                async with (
                    streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write, *_),
                    ClientSession(read, write) as session,
                ):
                    await session.initialize()
                    names = [t.name for t in (await session.list_tools()).tools]
            except Exception:  # not listening yet
                await asyncio.sleep(0.2)
        assert sorted(names) == ["get_channel_stats", "get_video_stats", "list_recent_videos"]
    finally:
        process.terminate()
        process.wait(10)


# -- failures, for every server -------------------------------------------------------------------


@dataclass
class Case:
    secret: Callable[[Any], str]
    call: Callable[[Any], tuple[str, dict[str, Any]]]  # a read call that reaches the API
    fail: Callable[[Any, int, float | None, int], None]  # plan: status, retry_after, times
    stall: Callable[[Any], None]
    sent: Callable[[Any], int]  # requests the fake received


def _telegram_fail(fake: FakeTelegram, status: int, retry_after: float | None, times: int) -> None:
    text = {401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests: retry after 1"}[status]
    fake.fail_next("getChat", status, text, times=times, retry_after=retry_after)


def _faults_fail(fake: Any, status: int, retry_after: float | None, times: int) -> None:
    fake.faults.fail_next(status, retry_after=retry_after, times=times)


CASES = {
    "telegram": Case(
        secret=lambda f: f.token,
        call=lambda f: ("get_chat", {"chat": "-100"}),
        fail=_telegram_fail,
        stall=lambda f: f.stall_next("getChat", 10),
        sent=lambda f: len(f.sent("getChat")),
    ),
    "discord": Case(
        secret=lambda f: f.token,
        call=lambda f: ("list_channels", {}),
        fail=_faults_fail,
        stall=lambda f: f.faults.stall_next(10),
        sent=lambda f: len(f.calls),
    ),
    "youtube": Case(
        secret=lambda f: f.key,
        call=lambda f: ("get_video_stats", {"video_id": VIDEO_IDS[0]}),
        fail=_faults_fail,
        stall=lambda f: f.faults.stall_next(10),
        sent=lambda f: len(f.calls),
    ),
    "clickup": Case(
        secret=lambda f: f.token,
        call=lambda f: ("get_task", {"task_id": f.add_task("7001", "Existing")}),
        fail=_faults_fail,
        stall=lambda f: f.faults.stall_next(10),
        sent=lambda f: len(f.calls),
    ),
}
SERVICE_NAMES = {
    "telegram": "Telegram",
    "discord": "Discord",
    "youtube": "YouTube",
    "clickup": "ClickUp",
}


@pytest.mark.parametrize("service", sorted(CASES))
async def test_failures_become_clear_tool_errors_that_never_show_the_token(
    service: str, live: dict[str, Live]
) -> None:
    case, name = CASES[service], SERVICE_NAMES[service]
    async with live[service] as (fake, server):
        listed = {t.name: t.annotations for t in (await server.session.list_tools()).tools}
        assert set(listed) == set(EXPECTED_TOOLS[live[service].module])
        tool, args = case.call(fake)
        assert listed[tool] is not None and listed[tool].read_only_hint is True
        answers: dict[str, Answer] = {}

        async def expect(kind: str, arrange: Callable[[], None], calls: int) -> Answer:
            before = case.sent(fake)
            arrange()
            started = time.monotonic()
            answers[kind] = await server.call(tool, **args)
            answers[kind].text += f"  [{time.monotonic() - started:.1f}s]"
            assert case.sent(fake) - before == calls, f"{kind}: {case.sent(fake) - before} calls"
            return answers[kind]

        unauthorized = await expect("401", lambda: case.fail(fake, 401, None, 1), 1)
        missing = await expect("404", lambda: case.fail(fake, 404, None, 1), 1)
        retried = await expect("429 once", lambda: case.fail(fake, 429, 0.5, 1), 2)
        limited = await expect("429 twice", lambda: case.fail(fake, 429, 0.5, 2), 2)
        stalled = await expect("timeout", lambda: case.stall(fake), 1)
        log = server.log()

    assert unauthorized.error and re.search(
        rf"the {name} [a-zA-Z ]+ was rejected \(HTTP 401\); check [A-Z_]+", unauthorized.text
    )
    assert missing.error and f"{name} found no such item (HTTP 404)" in missing.text
    assert not retried.error, retried.text  # honoured Retry-After once, then succeeded
    assert (
        limited.error
        and f"{name} rate limit reached (HTTP 429)" in limited.text
        and "0.5s" in limited.text
    )
    assert stalled.error and f"{name} did not answer within {TIMEOUT}s" in stalled.text
    assert float(stalled.text.rsplit("[", 1)[1].rstrip("s]")) < 5
    secret = case.secret(fake)
    for kind, answer in answers.items():
        assert secret not in answer.text, kind
    assert secret not in log and "http_call" in log  # it logs its calls, never the token


# -- the seed's entries ---------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_the_seeds_node_entry_starts_the_python_telegram_server() -> None:
    params = StdioServerParameters(
        command="node",
        args=["./custom_servers/telegram_mcp_server.js"],
        env={"PYTHON": sys.executable},
        cwd=str(REPO),
    )
    async with FakeTelegram() as fake:
        params.env = {**(params.env or {}), **telegram_env(fake)}
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("send_message", {"chat": "ops", "text": "hello"})
    assert not result.is_error
    assert [(s["chat_id"], s["text"]) for s in fake.sent()] == [("-100456", "hello")]


async def test_xero_standin_serves_the_recorded_tools_and_pages_like_the_real_server() -> None:
    recorded = json.loads((REPO / "tests" / "fixtures" / "xero_tools_list.json").read_text())
    by_name = {t["name"]: t for t in recorded["tools"]}
    params = StdioServerParameters(
        command=sys.executable, args=[str(REPO / "tests" / "servers" / "xero_standin.py")]
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        pages = [await session.call_tool("list-invoices", {"page": p}) for p in (1, 2, 3)]
        globex = await session.call_tool("list-contacts", {"searchTerm": "globex"})
        no_page = await session.call_tool("list-invoices", {"contactIds": []})
    assert {t.name for t in tools} == {"list-invoices", "list-contacts"}
    for tool in tools:
        assert tool.input_schema == by_name[tool.name]["inputSchema"]
        assert tool.description == by_name[tool.name]["description"]
    texts = [[c.text for c in page.content] for page in pages]  # type: ignore[union-attr]
    assert [t[0] for t in texts] == ["Found 10 invoices:", "Found 3 invoices:", "Found 0 invoices:"]
    invoices = texts[0][1:] + texts[1][1:]
    statuses = [re.search(r"Status: (\w+)", i)[1] for i in invoices]  # type: ignore[index]
    assert len(invoices) == 13 and {"PAID", "DRAFT", "AUTHORISED"} == set(statuses)
    unpaid = [i for i, s in zip(invoices, statuses, strict=True) if s == "AUTHORISED"]
    assert [re.search(r"Invoice: (\S+)", i)[1] for i in unpaid] == ["INV-101", "INV-102"]  # type: ignore[index]
    assert "Contact: Globex" in unpaid[0] and unpaid[0].endswith("Amount Due: 1200")
    assert "Contact: Initech" in unpaid[1] and unpaid[1].endswith("Amount Due: 430.5")
    assert "INV-102" in "".join(texts[1])  # only on the second page
    assert "Contact: Globex" in globex.content[1].text  # type: ignore[union-attr]
    assert no_page.is_error and "Input validation error" in no_page.content[0].text  # type: ignore[union-attr]
