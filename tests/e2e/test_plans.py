"""Multi-step plans with approvals: one confirmation per step, the plan resumes (also after a
restart), only offered tools run, and data in tool results never skips an approval.

Real parts throughout: the openai client against the scripted fake server, our ClickUp MCP
server and the Xero stand-in (the recorded real tool names and schemas) as subprocesses,
python-telegram-bot against the fake Bot API. The scripted model pages Xero's `list-invoices` as
production does and picks the unpaid invoices from its "Key: value" text.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, Step, last_tool_result, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import (
    clickup_server_yaml,
    eventually,
    list_id,
    results_of,
    running_bot,
    unpaid,
    xero_standin_yaml,
)

WRITES = "    write_tools: [create_task, update_task_status]\n"
SERVERS = Path(__file__).resolve().parent.parent / "servers"
XERO_PAGE = 10  # list-invoices answers 10 invoices a page
ASK = (
    f"@{BOT_USERNAME} Create a ClickUp task for following up on the unpaid invoices from Xero, "
    "and send a summary to our Telegram group"
)


def config(llm_url: str, clickup_url: str, extra: str = "") -> str:
    """The example config's approval settings: create_task and update_task_status are writes."""
    return f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: k, max_retries: 0}}
  memory_system: {{type: none}}
scheduler: {{enabled: false}}
mcp_servers:
{xero_standin_yaml()}{clickup_server_yaml(clickup_url, WRITES)}{extra}"""


def tasks_server_yaml(log: Path, extra: str = "") -> str:
    return (
        f"  tasks:\n    command: {sys.executable}\n"
        f"    args: ['{SERVERS / 'annotated_tools.py'}', '{log}']\n{extra}"
    )


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def next_page_or_tasks(body: dict[str, Any]) -> dict[str, Any]:
    """A full page of invoices means there may be more: read the next page. Otherwise create
    one follow-up task per unpaid invoice, in the list find_list found."""
    pages = results_of(body, "xero__list-invoices")
    if pages[-1].startswith(f"Found {XERO_PAGE} invoices:"):
        return tool_call("xero__list-invoices", {"page": len(pages) + 1})
    target = list_id(body, "Invoice follow-ups")
    return {
        "tool_calls": [
            {
                "name": "clickup__create_task",
                "id": f"c{i}",
                "arguments": {
                    "list_id": target,
                    "name": f"Follow up {inv['Invoice']} ({inv['Contact'].split(' (')[0]}, "
                    f"{inv['Amount Due']} {inv['Currency']})",
                },
            }
            for i, inv in enumerate(unpaid(pages))
        ]
    }


def summarise(body: dict[str, Any]) -> dict[str, Any]:
    # After a press each result follows a line saying who approved it; the task is the JSON.
    results = results_of(body, "clickup__create_task")
    names = [json.loads(r[r.index("{") :])["name"] for r in results]
    return text("Created ClickUp tasks:\n" + "\n".join(f"- {n}" for n in names))


def scenario_script() -> list[Step]:
    """Page 1 of the invoices, loading find_list (routed as shipped, the request gets create_task
    but not find_list, which gives the list's id), the follow-up list, page 2 (page 1 was full),
    the tasks."""
    first: Step = {
        "tool_calls": [
            {"name": "xero__list-invoices", "id": "p1", "arguments": {"page": 1}},
            {"name": "search_tools", "id": "s1", "arguments": {"names": ["clickup__find_list"]}},
        ]
    }
    find = tool_call("clickup__find_list", {"name": "follow-ups"})
    return [first, find, next_page_or_tasks, next_page_or_tasks]


def assert_paged_like_production(body: dict[str, Any]) -> None:
    """Xero was read page by page until a page came back short: 10 invoices, then 3."""
    pages = results_of(body, "xero__list-invoices")
    assert [p.split("\n", 1)[0] for p in pages] == ["Found 10 invoices:", "Found 3 invoices:"]
    assert "Status: PAID" in pages[0] and "Status: DRAFT" in pages[0]


def msg(text_: str, user: str = "ann") -> ChatMessage:
    return ChatMessage(platform="test", chat_id="team", user_id=user, text=text_)


def button(reply: Reply, label: str) -> str:
    return next(c.command for c in reply.choices if c.label == label)


def keyboard(telegram: FakeTelegram, text_part: str) -> tuple[int, dict[str, str]]:
    """The message id of a sent confirmation and its buttons (label -> callback data)."""
    sent = next(p for p in telegram.sent() if text_part in p["text"])
    markup = sent["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    buttons = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    return telegram.message_id_of(text_part), buttons


async def test_one_confirmation_lists_both_tasks_and_run_all_finishes_the_plan() -> None:
    with FakeClickUp() as clickup, FakeOpenAI([*scenario_script(), summarise]) as llm:
        bot = build_orchestrator(
            parse_config(
                config(llm.base_url, clickup.url), env={"CLICKUP_API_TOKEN": clickup.token}
            )
        )
        async with FakeTelegram() as telegram, running_bot(telegram, bot):
            telegram.message_update(ASK, chat_id=-1001, user_id=1)
            assert await eventually(
                lambda: any("approval" in p["text"] for p in telegram.sent()), 20
            )
            assert clickup.tasks == {}  # the read ran, the writes wait
            message_id, buttons = keyboard(telegram, "approval")
            question = next(p["text"] for p in telegram.sent() if "approval" in p["text"])
            assert "these 2 actions" in question, question
            assert "INV-101 (Globex, 1200 GBP)" in question
            assert "INV-102 (Initech, 430.5 GBP)" in question
            assert "INV-113" not in question and "INV-112" not in question  # draft, paid
            assert set(buttons) == {"Run all", "Cancel"}
            telegram.callback_update(
                buttons["Run all"], message_id=message_id, chat_id=-1001, user_id=2
            )
            assert await eventually(lambda: bool(telegram.sent("answerCallbackQuery")), 10)
            assert clickup.tasks == {}  # a stranger's press is refused
            telegram.callback_update(
                buttons["Run all"], message_id=message_id, chat_id=-1001, user_id=1
            )
            assert await eventually(
                lambda: any("Created ClickUp tasks" in p["text"] for p in telegram.sent()), 20
            )
    names = sorted(t["name"] for t in clickup.tasks.values())
    assert names == [
        "Follow up INV-101 (Globex, 1200 GBP)",
        "Follow up INV-102 (Initech, 430.5 GBP)",
    ]
    assert {t["list"] for t in clickup.tasks.values()} == {"7004"}  # "Invoice follow-ups"
    summary = next(p for p in telegram.sent() if "Created ClickUp tasks" in p["text"])
    assert summary["chat_id"] == -1001 and "INV-102" in summary["text"]
    footer = [p["text"] for p in telegram.sent() if "Summary:" in p["text"]]
    assert footer and "clickup/create_task" in footer[-1] and "ok" in footer[-1]
    refusal = telegram.sent("answerCallbackQuery")[0]
    assert "Only the person who asked" in refusal.get("text", "")
    # The plan resumed the same loop: the model saw both pages and both tasks after the approval.
    final = llm.requests[-1]["body"]
    assert_paged_like_production(final)
    assert len(results_of(final, "clickup__create_task")) == 2


async def test_run_all_after_a_restart_resumes_the_plan_from_redis(
    key_prefix: str, redis_client: object, redis_url: str
) -> None:
    sessions = f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: {key_prefix}}}\n"
    with FakeClickUp() as clickup, FakeOpenAI([*scenario_script(), summarise]) as llm:
        env = {"CLICKUP_API_TOKEN": clickup.token}
        async with FakeTelegram() as telegram:
            first = build_orchestrator(
                parse_config(config(llm.base_url, clickup.url, sessions), env=env)
            )
            async with running_bot(telegram, first):
                telegram.message_update(ASK, chat_id=-1001, user_id=1)
                assert await eventually(
                    lambda: any("approval" in p["text"] for p in telegram.sent()), 20
                )
                assert await eventually(lambda: not telegram.updates, 10)  # acknowledged
            message_id, buttons = keyboard(telegram, "approval")
            second = build_orchestrator(
                parse_config(config(llm.base_url, clickup.url, sessions), env=env)
            )
            async with running_bot(telegram, second):
                # The restarted adapter no longer knows who asked: the core still refuses.
                telegram.callback_update(
                    buttons["Run all"], message_id=message_id, chat_id=-1001, user_id=2
                )
                assert await eventually(
                    lambda: any("Only the person" in p["text"] for p in telegram.sent()), 20
                )
                # The core knows the asker (the plan in Redis): the stranger's press keeps them.
                assert telegram.keyboard_of(-1001, message_id) is not None
                telegram.callback_update(
                    buttons["Run all"], message_id=message_id, chat_id=-1001, user_id=1
                )
                assert await eventually(
                    lambda: any("Created ClickUp tasks" in p["text"] for p in telegram.sent()),
                    20,
                )
    assert len(clickup.tasks) == 2
    assert telegram.keyboard_of(-1001, message_id) is None  # the asker's press took them away
    summary = next(p for p in telegram.sent() if "Created ClickUp tasks" in p["text"])
    assert "INV-101" in summary["text"] and "INV-102" in summary["text"]
    assert_paged_like_production(llm.requests[-1]["body"])


async def test_cancel_creates_nothing_and_the_model_says_so() -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return text("Understood, I created no tasks: " + last_tool_result(body))

    with FakeClickUp() as clickup, FakeOpenAI([*scenario_script(), answer]) as llm:
        bot = build_orchestrator(
            parse_config(
                config(llm.base_url, clickup.url), env={"CLICKUP_API_TOKEN": clickup.token}
            )
        )
        await bot.start()
        try:
            asked = await bot.handle(msg("make follow-up tasks for unpaid invoices"))
            cancel = button(asked[0], "Cancel")
            stranger = await bot.handle(msg(cancel, "bob"))
            done = await bot.handle(msg(cancel))
            again = await bot.handle(msg(button(asked[0], "Run all")))
        finally:
            await bot.stop()
    assert clickup.tasks == {}
    assert_paged_like_production(llm.requests[-1]["body"])
    assert stranger[0].kind is ReplyKind.ERROR and "Only the person" in stranger[0].text
    answer_text = "\n".join(r.text for r in done)
    assert "Cancelled" in answer_text and "created no tasks" in answer_text
    assert "declined" in answer_text
    assert "already answered: Cancel at" in again[0].text
    assert not any(m for _, path, m in clickup.requests if path.endswith("/task") and m)


async def test_destructive_annotation_waits_and_a_safe_listed_read_only_tool_runs(
    tmp_path: Path,
) -> None:
    log = tmp_path / "tasks.log"
    log.touch()
    script = [
        tool_call("tasks__delete_task", {"task_id": "7"}),
        tool_call("tasks__peek_task", {"task_id": "7"}),
        lambda body: text(last_tool_result(body)),
    ]
    extra = tasks_server_yaml(log, "    safe_tools: [peek_task]\n")
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        bot = build_orchestrator(
            parse_config(
                config(llm.base_url, clickup.url, extra), env={"CLICKUP_API_TOKEN": clickup.token}
            )
        )
        await bot.start()
        try:
            deleting = await bot.handle(msg("delete task 7"))
            peeking = await bot.handle(msg("show task 7"))
        finally:
            await bot.stop()
    assert deleting[0].choices and "Delete task" in deleting[0].text
    assert "task id '7'" in deleting[0].text
    assert "task 7: open" in peeking[0].text and not peeking[0].choices
    assert log.read_text().splitlines() == ["peeked 7"]


async def test_an_injected_instruction_in_a_tool_result_cannot_skip_the_approval(
    tmp_path: Path,
) -> None:
    log = tmp_path / "tasks.log"
    log.touch()
    script = [
        tool_call("tasks__read_notes", {}),
        # The model obeys the notes: it loads the delete tool (not routed to "what's in our
        # notes?") and calls it.
        tool_call("search_tools", {"names": ["tasks__delete_task"]}),
        tool_call("tasks__delete_task", {"task_id": "42"}),
    ]
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        bot = build_orchestrator(
            parse_config(
                config(llm.base_url, clickup.url, tasks_server_yaml(log)),
                env={"CLICKUP_API_TOKEN": clickup.token},
            )
        )
        await bot.start()
        try:
            replies = await bot.handle(msg("what's in our notes?"))
        finally:
            await bot.stop()
    assert replies[0].choices and "task id '42'" in replies[0].text
    assert log.read_text().splitlines() == ["read notes"]  # nothing deleted
    second = llm.requests[1]["body"]["messages"]
    assert "delete task 42" not in second[0]["content"]  # the system prompt holds no data
    assert [m["role"] for m in second if "delete task 42" in str(m.get("content"))] == ["tool"]


async def test_a_tool_outside_the_chat_allow_list_is_refused_where_it_is_called() -> None:
    policy = "chats:\n  'test:team': {tools: [clickup/list_tasks]}\n"
    script = [
        tool_call("clickup__create_task", {"list_id": "L1", "name": "sneaky"}, offered=False),
        tool_call("xero__list-invoices", {"page": 1}, offered=False),
        lambda body: text("Refused: " + last_tool_result(body)),
    ]
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        cfg = config(llm.base_url, clickup.url).replace("scheduler:", policy + "scheduler:")
        bot = build_orchestrator(parse_config(cfg, env={"CLICKUP_API_TOKEN": clickup.token}))
        await bot.start()
        try:
            replies = await bot.handle(msg("make a task"))
        finally:
            await bot.stop()
    offered = [t["function"]["name"] for t in llm.requests[0]["body"]["tools"]]
    assert offered == ["clickup__list_tasks", "search_tools"]  # the meta-tool: no others
    refusals = tool_results(llm.requests[-1]["body"])
    assert all("not one of the tools offered" in r for r in refusals) and len(refusals) == 2
    assert not replies[0].choices  # refused outright, not even offered for approval
    assert clickup.requests == [] and clickup.tasks == {}
    assert "Refused" in replies[0].text


async def test_a_200_kb_result_reaches_the_model_as_valid_shortened_json(tmp_path: Path) -> None:
    script = [tool_call("tasks__list_records", {}), lambda body: text("seen")]
    budget = "  llm_settings: {base_url: '%s', api_key: k, tool_output_tokens: 1500}\n"
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        cfg = config(llm.base_url, clickup.url, tasks_server_yaml(tmp_path / "log"))
        cfg = re.sub(r"  llm_settings: .*\n", budget % llm.base_url, cfg)
        bot = build_orchestrator(parse_config(cfg, env={"CLICKUP_API_TOKEN": clickup.token}))
        await bot.start()
        try:
            await bot.handle(msg("list all records"))
        finally:
            await bot.stop()
    seen = last_tool_result(llm.requests[-1]["body"])
    assert len(seen) <= 1500 * 4
    data, note = seen.split("\n\n[shortened to fit:", 1)
    records = json.loads(data)
    assert records and records[0]["id"] == 0
    assert f"and {1000 - len(records)} more of 1000" in note
    assert "`page`" in note
