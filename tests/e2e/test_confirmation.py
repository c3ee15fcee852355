"""A write tool waits for a button press by the asker; the seed's ClickUp server does the work."""

from __future__ import annotations

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage, ReplyKind
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call
from tests.helpers import clickup_server_yaml, describes_call


def config(llm_url: str, clickup_url: str) -> str:
    return (
        f"orchestrator:\n  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
        "  memory_system: {type: none}\nmcp_servers:\n"
        + clickup_server_yaml(clickup_url, "    write_tools: [create_task]\n")
    )


def msg(text_: str, user: str) -> ChatMessage:
    return ChatMessage(platform="test", chat_id="team", user_id=user, text=text_)


async def test_write_tool_runs_only_after_the_asker_confirms() -> None:
    args = {"list_id": "L1", "name": "Follow up unpaid invoice INV-7"}
    script = [
        tool_call("clickup__create_task", args),
        lambda body: text("Done: " + last_tool_result(body)),
    ]
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        env = {"CLICKUP_API_TOKEN": clickup.token}
        bot = build_orchestrator(parse_config(config(llm.base_url, clickup.url), env=env))
        await bot.start()
        try:
            asked = await bot.handle(msg("make a clickup task for INV-7", "ann"))
            assert clickup.tasks == {}
            question = asked[0]
            assert question.for_user_id == "ann"
            confirm = next(c.command for c in question.choices if c.label == "Run all")
            refused = await bot.handle(msg(confirm, "bob"))
            assert (
                refused[0].kind is ReplyKind.ERROR
                and "Only the person who asked" in refused[0].text
            )
            assert clickup.tasks == {}
            done = await bot.handle(msg(confirm, "ann"))
            again = await bot.handle(msg(confirm, "ann"))
        finally:
            await bot.stop()
    assert [t["name"] for t in clickup.tasks.values()] == [args["name"]]
    # The notice names the call in plain words; its exact title is the ClickUp server's choice.
    assert done[0].text.startswith("Running") and '"id": "t1"' in done[1].text
    assert describes_call(done[0].text, "clickup", ("create", "task"), args), done[0].text
    assert "clickup/create_task" in done[-1].text  # the summary line of the finished plan
    # A second press (or one resumed after a crash) is told the plan ran, and that it is not
    # run again.
    assert "already answered: Run all at" in again[0].text
    assert "does not run again" in again[0].text
    assert clickup.token not in "".join(r.text for r in asked + refused + done + again)


async def test_broken_tool_gets_a_clear_error_and_the_model_is_told() -> None:
    script = [
        tool_call("clickup__list_tasks", {"list_id": "L1"}),
        lambda body: text("ClickUp said: " + body["messages"][-1]["content"]),
    ]
    with FakeClickUp() as clickup, FakeOpenAI(script) as llm:
        env = {"CLICKUP_API_TOKEN": "wrong-token-123"}
        bot = build_orchestrator(parse_config(config(llm.base_url, clickup.url), env=env))
        await bot.start()
        try:
            replies = await bot.handle(msg("what's open in L1?", "ann"))
        finally:
            await bot.stop()
    assert "token was rejected" in replies[0].text
    assert "wrong-token-123" not in replies[0].text
    assert "1 failed" in replies[-1].text
