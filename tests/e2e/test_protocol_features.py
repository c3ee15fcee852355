"""MCP prompts, resources, elicitation and sampling (issue 32), each against a real SDK server
(tests/servers/protocol_features.py over stdio), through the real core and routing, with the
strict fake model."""

from __future__ import annotations

import asyncio
import io
import json
import queue
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bots.console import ConsoleAdapter
from orchestrator.admin.audit_sink import install_audit_sink
from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from tests.conftest import time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call
from tests.helpers import eventually, features_server_yaml
from tests.recording_adapter import RecordingAdapter


def config(llm_url: str, server_extra: str = "", chats: str = "") -> str:
    return (
        f"orchestrator:\n  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
        "  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        f"mcp_servers:\n{features_server_yaml(extra=server_extra)}{chats}"
    )


def msg(text_: str, user: str = "ann", chat: str = "team", private: bool = False) -> ChatMessage:
    return ChatMessage(platform="test", chat_id=chat, user_id=user, text=text_, is_private=private)


class PrivateRecorder(RecordingAdapter):
    """A test backend that can also message a person privately."""

    def __init__(self, platform: str) -> None:
        super().__init__(platform)
        self.private: list[tuple[str, Reply]] = []

    async def send_private(self, user_id: str, replies: Sequence[Reply]) -> bool:
        self.private.extend((user_id, r) for r in replies)
        return True


async def started(llm_url: str, **kwargs: Any) -> tuple[Orchestrator, PrivateRecorder]:
    bot = build_orchestrator(parse_config(config(llm_url, **kwargs), env={}))
    chat = PrivateRecorder("test")
    bot.attach(chat)
    await bot.start()
    return bot, chat


async def test_prompt_is_a_command_listed_in_help_under_the_chats_policy() -> None:
    chats = "chats:\n  'test:other': {deny: ['features/review_code']}\n"
    with FakeOpenAI([text("Looks fine.")]) as llm:
        bot, _ = await started(llm.base_url, chats=chats)
        try:
            helped = (await bot.handle(msg("/help")))[0].text
            elsewhere = (await bot.handle(msg("/help", chat="other")))[0].text
            refused = await bot.handle(
                msg("/prompt features review_code language=go", "x", "other")
            )
            missing = await bot.handle(msg("/prompt features review_code language=go"))
            answered = await bot.handle(
                msg("/prompt features review_code language=python 'code=x = 1'")
            )
            await bot.handle(msg("/run features add_prompt {}"))
            assert await eventually(
                lambda: any(p.name == "retro" for p in bot.services.hub.prompts())
            )  # type: ignore[attr-defined]
            later = (await bot.handle(msg("/help")))[0].text
        finally:
            await bot.stop()
    assert "/prompt features review_code language=... code=..." in helped
    assert "/prompt features standup" in helped
    assert "review_code" not in elsewhere and "/prompt features standup" in elsewhere
    assert refused[0].kind is ReplyKind.ERROR and "no prompt" in refused[0].text
    assert missing[0].kind is ReplyKind.ERROR and "needs code" in missing[0].text
    asked = llm.requests[0]["body"]["messages"][-1]["content"]
    assert "Please review this python code for bugs." in str(asked) and "x = 1" in str(asked)
    assert answered[0].text == "Looks fine."
    assert "/prompt features retro" in later  # list_changed refreshed the prompts


async def test_a_uri_in_a_request_routes_to_the_resource_tool_under_the_allow_list() -> None:
    chats = "chats:\n  'test:team': {deny: ['features/notes://team/secret-plans']}\n"
    script = [
        tool_call("features__read_resource", {"uri": "notes://team/handbook"}),
        lambda body: text("Handbook says: " + last_tool_result(body)),
        tool_call("features__read_resource", {"uri": "notes://team/secret-plans"}),
        lambda body: text("Got: " + last_tool_result(body)),
        tool_call("features__read_resource", {"uri": "notes://pages/onboarding"}),
        lambda body: text("Page: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        # Beside another server's tools, so the read_resource tool is picked, not the only one.
        bot, _ = await started(llm.base_url, chats=time_server_yaml() + chats)
        try:
            listed = (await bot.handle(msg("/resources")))[0].text
            read = await bot.handle(msg("what does notes://team/handbook say about deploys?"))
            denied = await bot.handle(msg("show me notes://team/secret-plans"))
            page = await bot.handle(msg("what is on notes://pages/onboarding?"))
            await bot.handle(msg("/run features add_resource {}"))
            assert await eventually(
                lambda: any(r.uri == "notes://team/faq" for r in bot.services.hub.resources())  # type: ignore[attr-defined]
            )
            later = (await bot.handle(msg("/resources features")))[0].text
        finally:
            await bot.stop()
    assert "notes://team/handbook: The team handbook" in listed
    assert "secret-plans" not in listed
    assert "notes://pages/{name} (template): A wiki page by name" in listed
    assert page[0].text == "Page: Wiki page onboarding: nothing here yet."
    assert "deploys happen on Tuesdays" in read[0].text
    assert "not allowed in this chat" in denied[0].text and "the secret plans" not in denied[0].text
    offered = {t["function"]["name"] for t in llm.requests[0]["body"]["tools"]}
    assert "features__read_resource" in offered
    assert "notes://team/faq" in later  # list_changed refreshed the resources


async def test_a_servers_question_goes_to_the_asker_as_buttons_and_only_they_answer() -> None:
    script = [
        tool_call("features__book_room", {"room": "A"}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot, chat = await started(llm.base_url)
        try:
            request = asyncio.ensure_future(bot.handle(msg("book meeting room A for me")))
            assert await eventually(lambda: any(r.choices for _, r in chat.sent))
            question = next(r for _, r in chat.sent if r.choices)
            yes = next(c.command for c in question.choices if c.label == "Yes")
            intruder = await bot.handle(msg(yes, user="bob"))
            pressed = await bot.handle(msg(yes))  # the asker's request is still running
            size = pressed[0]
            large = next(c.command for c in size.choices if c.label == "large")
            done = await bot.handle(msg(large))
            replies = await request
        finally:
            await bot.stop()
    assert question.for_user_id == "ann" and "Book room A?" in question.text
    assert {c.label for c in question.choices} == {"Yes", "No", "Decline"}
    assert (
        intruder[0].kind is ReplyKind.ERROR and "Only the person who was asked" in intruder[0].text
    )
    assert {c.label for c in size.choices} == {"small", "large", "Decline"}
    assert done[0].text == "Thanks, sent."
    assert replies[0].text == "Result: booked A (large)"


async def test_a_question_nobody_answers_is_declined_and_a_typed_answer_works() -> None:
    script = [
        tool_call("features__rename_project", {}),
        lambda body: text("Result: " + last_tool_result(body)),
        tool_call("features__rename_project", {}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    extra = "    elicitation_timeout_seconds: 0.3\n"
    with FakeOpenAI(script) as llm:
        bot, chat = await started(llm.base_url, server_extra=extra)
        try:
            timed_out = await bot.handle(msg("rename the project please"))
            asked = len(chat.sent)
            request = asyncio.ensure_future(bot.handle(msg("rename the project please")))
            assert await eventually(lambda: len(chat.sent) > asked)
            question = chat.sent[-1][1]
            qid = question.choices[0].command.split()[1]
            typed = await bot.handle(msg(f"/answer {qid} Apollo 11"))
            replies = await request
        finally:
            await bot.stop()
    assert timed_out[0].text == "Result: rename declined"
    assert any("No answer" in r.text for _, r in chat.sent)
    assert f"/answer {qid} <text>" in question.text
    assert typed[0].text == "Thanks, sent."
    assert replies[0].text == "Result: renamed to Apollo 11"


async def test_a_url_request_goes_as_a_link_by_private_message() -> None:
    script = [
        tool_call("features__connect_account", {}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot, chat = await started(llm.base_url)
        try:
            replies = await bot.handle(msg("connect my external calendar account"))
        finally:
            await bot.stop()
    assert [u for u, _ in chat.private] == ["ann"]
    assert "https://calendar.example.com/connect?x=1" in chat.private[0][1].text
    group = " ".join(r.text for _, r in chat.sent)
    assert "private message" in group and "calendar.example.com" not in group
    assert replies[0].text == "Result: connect accept"


async def test_sampling_is_off_by_default_and_rate_limited_budgeted_and_audited_when_on(
    tmp_path: Path,
) -> None:
    off_script = [
        tool_call("features__summarize", {"text": "a very long text"}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    with FakeOpenAI(off_script) as llm:
        bot, _ = await started(llm.base_url)
        try:
            off = await bot.handle(msg("summarize this text: a very long text"))
        finally:
            await bot.stop()
    assert "error" in off[0].text.lower() and len(llm.requests) == 2  # the model was not asked

    on_script = [
        tool_call("features__summarize", {"text": "a very long text"}),
        text("short"),  # the server's sampling request
        lambda body: text("Result: " + last_tool_result(body)),
        tool_call("features__summarize", {"text": "another text"}),
        lambda body: text("Result: " + last_tool_result(body)),  # over the rate: not sampled
    ]
    extra = "    sampling: true\n    sampling_per_minute: 1\n"
    sink = install_audit_sink(parse_config(f"audit: {{path: '{tmp_path / 'a.jsonl'}'}}\n", env={}))
    assert sink is not None
    with FakeOpenAI(on_script) as llm:
        bot, _ = await started(llm.base_url, server_extra=extra)
        try:
            first = await bot.handle(msg("summarize this text: a very long text"))
            second = await bot.handle(msg("summarize this text: another text"))
            budgets = bot.services.budgets
            assert budgets is not None
            used = await budgets.counters.get(budgets._keys("test", "team", "ann")[1])
        finally:
            await bot.stop()
            sink.close()
    # Each model call of the fake reports 15 tokens: four for the requests, one for sampling.
    assert used == 5 * 15
    trail = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    sampling = [(r["user"], r["outcome"]) for r in trail if r["action"] == "sampling"]
    assert sampling == [("ann", "ok"), ("ann", "refused")]
    sampled = llm.requests[1]["body"]["messages"]
    assert sampled[-1] == {"role": "user", "content": "a very long text"}
    assert "Summarize in one line." in sampled[1]["content"]  # the server's instructions, quoted
    assert sampled[0]["role"] == "system" and "Summarize" not in sampled[0]["content"]
    assert first[0].text == "Result: summary: short"
    assert "error" in second[0].text.lower()


class Lines:
    """A console's stdin that the test types into while the console runs."""

    def __init__(self) -> None:
        self._lines: queue.Queue[str] = queue.Queue()

    def type(self, line: str) -> None:
        self._lines.put(line + "\n")

    def close(self) -> None:
        self._lines.put("")  # end of input

    def readline(self) -> str:
        return self._lines.get(timeout=30)


async def test_the_console_asks_the_question_and_takes_the_typed_answer() -> None:
    script = [
        tool_call("features__rename_project", {}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot = build_orchestrator(parse_config(config(llm.base_url), env={}))
        out = io.StringIO()
        console = ConsoleAdapter(bot, out=out, user_id="ann")
        console.interactive = False
        stdin = Lines()
        await bot.start()
        try:
            running = asyncio.ensure_future(console.run(stdin))  # type: ignore[arg-type]
            stdin.type("rename the project please")
            assert await eventually(lambda: "/answer " in out.getvalue())
            qid = out.getvalue().split("/answer ", 1)[1].split()[0]
            stdin.type(f"/answer {qid} Zephyr")
            assert await eventually(lambda: "Result: renamed to Zephyr" in out.getvalue())
            stdin.close()
            assert await running == 0
        finally:
            await bot.stop()
    shown = out.getvalue()
    assert "features asks: What should the project be called?" in shown
    assert "[Decline] type: /answer" in shown
