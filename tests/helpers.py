"""Small helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bots.telegram.app import create_application
from orchestrator.app import build_orchestrator
from orchestrator.config import TelegramSettings, parse_config
from orchestrator.core import Orchestrator
from orchestrator.scheduling.file_store import FileScheduleStore
from orchestrator.scheduling.store import Schedule
from orchestrator.scheduling.when import when_from_dict
from tests.conftest import REPO, time_server_yaml
from tests.fakes.telegram_api import FakeTelegram

XERO_STANDIN = REPO / "tests" / "servers" / "xero_standin.py"


async def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll `condition` until it holds or `seconds` pass; the final value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def async_eventually(condition: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> bool:
    """`eventually` for a condition that must await (a store read)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.02)
    return await condition()


def features_server_yaml(name: str = "features", extra: str = "") -> str:
    """Config lines for tests/servers/protocol_features.py: prompts, resources, elicitation and
    sampling (issue 32)."""
    script = REPO / "tests" / "servers" / "protocol_features.py"
    return (
        f"  {name}:\n    type: custom\n    command: {sys.executable}\n"
        f"    args: ['{script}']\n{extra}"
    )


def clickup_server_yaml(clickup_url: str, extra: str = "") -> str:
    """Config lines for our ClickUp MCP server pointed at a fake ClickUp API."""
    return (
        "  clickup:\n    type: custom\n    command: python3\n"
        f"    args: ['{REPO}/custom_servers/clickup_mcp_server.py']\n    env:\n"
        "      - {name: CLICKUP_API_TOKEN, value: '${CLICKUP_API_TOKEN}'}\n"
        f"      - {{name: CLICKUP_API_URL, value: '{clickup_url}'}}\n{extra}"
    )


def server_yaml(name: str, module: str, env: dict[str, str]) -> str:
    """One of our servers as a user configures it: `python3 -m custom_servers.<module>`."""
    lines = "".join(f"      - {{name: {k}, value: '{v}'}}\n" for k, v in env.items())
    return (
        f"  {name}:\n    type: custom\n    command: python3\n"
        f"    args: ['-m', 'custom_servers.{module}']\n    env:\n{lines}"
    )


def xero_standin_yaml(name: str = "xero") -> str:
    """The Xero stand-in (the recorded real tool names and schemas) as server `name`."""
    return f"  {name}:\n    command: {sys.executable}\n    args: ['{XERO_STANDIN}']\n"


def results_of(body: dict[str, Any], tool: str) -> list[str]:
    """What the tool `tool` returned, in call order, as the model received it."""
    names = {
        call["id"]: call["function"]["name"]
        for m in body["messages"]
        if m["role"] == "assistant"
        for call in m.get("tool_calls") or []
    }
    return [
        m["content"]
        for m in body["messages"]
        if m["role"] == "tool" and names.get(m["tool_call_id"]) == tool
    ]


def unpaid(pages: list[str]) -> list[dict[str, str]]:
    """AUTHORISED invoices with an amount due, from list-invoices' "Key: value" answers."""
    found = []
    for block in "\n".join(pages).split("Invoice ID: ")[1:]:
        fields = dict(line.split(": ", 1) for line in block.splitlines()[1:] if ": " in line)
        if fields.get("Status") == "AUTHORISED" and fields.get("Amount Due"):
            found.append(fields)
    return found


def list_id(body: dict[str, Any], name: str) -> str:
    """The id of list `name` in what clickup find_list returned."""
    [found] = results_of(body, "clickup__find_list")
    return str(next(item["id"] for item in json.loads(found)["lists"] if item["name"] == name))


def describes_call(
    text: str, server: str, words: tuple[str, ...], arguments: dict[str, str]
) -> bool:
    """`text` names a call in plain words: its server, the `words` any wording of the tool would
    use, and each argument's value. The exact wording (the tool's title) is the server's choice."""
    found = set(re.findall(r"\w+", text.lower()))
    return (
        server in found
        and all(word in found for word in words)
        and all(value in text for value in arguments.values())
    )


def chat_orchestrator(
    llm_url: str | None = None, extra: str = "", *, with_time_server: bool = True
) -> Orchestrator:
    """A real core for adapter tests: optional fake LLM, no memory, no scheduler."""
    llm = (
        f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
        if llm_url
        else ""
    )
    servers = f"mcp_servers:\n{time_server_yaml()}{extra}" if with_time_server else ""
    return build_orchestrator(
        parse_config(
            f"orchestrator:\n{llm}  memory_system: {{type: none}}\n"
            f"scheduler: {{enabled: false}}\n{servers}",
            env={},
        )
    )


def clickup_orchestrator(clickup_url: str, token: str, llm_url: str | None = None) -> Orchestrator:
    """A real core with our ClickUp MCP server (pointed at a fake ClickUp API): a write tool
    whose every call the fake records, so a test can count them."""
    llm = f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
    yaml = (
        f"orchestrator:\n{llm if llm_url else ''}  memory_system: {{type: none}}\n"
        "scheduler: {enabled: false}\n"
        f"mcp_servers:\n{clickup_server_yaml(clickup_url)}"
    )
    return build_orchestrator(parse_config(yaml, env={"CLICKUP_API_TOKEN": token}))


@asynccontextmanager
async def running_bot(
    fake: FakeTelegram, orchestrator: Orchestrator, **settings: Any
) -> AsyncIterator[Any]:
    app = create_application(
        TelegramSettings(token=fake.token, base_url=fake.base_url, **settings), orchestrator
    )
    await orchestrator.start()
    try:
        async with app:
            await app.post_init(app)  # type: ignore[misc]
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)  # type: ignore[union-attr]
            try:
                yield app
            finally:
                await app.updater.stop()  # type: ignore[union-attr]
                await app.stop()
                await app.bot_data["telegram_adapter"].on_shutdown()
    finally:
        await orchestrator.stop()


async def add_schedule(path: Path, sid: str, target: str) -> None:
    """A daily schedule in a schedule file, posting to `target` (platform:chat_id)."""
    platform, chat_id = target.split(":", 1)
    store = FileScheduleStore(path)
    await store.add(
        Schedule(
            id=sid,
            platform="console",
            chat_id="team",
            creator_id="ann",
            creator_name="Ann",
            when_text="daily at 9",
            when=when_from_dict({"kind": "cron", "expr": "0 9 * * *", "tz": "UTC"}),
            what="post the stats",
            timezone="UTC",
            target_platform=platform,
            target_chat_id=chat_id,
            next_run_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
        ),
        20,
    )
