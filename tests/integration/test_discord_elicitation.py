"""A server's question during a tool call, on Discord at the wire (issue 32): buttons under a
post, pressed by the asker while their own request waits on the answer."""

from __future__ import annotations

from typing import Any

from orchestrator.core import Orchestrator
from tests.discord_wire import ANN, BOB, GENERAL, discord_wire
from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call
from tests.helpers import chat_orchestrator, features_server_yaml


def labels(message: dict[str, Any]) -> list[str]:
    return [c["label"] for row in message["components"] for c in row["components"]]


async def test_a_servers_question_is_answered_with_buttons_by_the_asker() -> None:
    script = [
        tool_call("features__book_room", {"room": "A"}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot: Orchestrator = chat_orchestrator(llm.base_url, features_server_yaml())
        await bot.start()
        try:
            async with discord_wire(bot) as wire:

                def posted(part: str) -> list[dict[str, Any]]:
                    return [m for m in wire.sent(GENERAL) if part in m["content"]]

                wire.message("book meeting room A for me", author=ANN, mention=True)
                await wire.until(lambda: bool(posted("Book room A?")))
                (question,) = posted("Book room A?")
                shown = labels(question)
                stranger = wire.press(question, "Yes", user=BOB)
                (refusal,) = await wire.answered(stranger)
                kept = labels(question)  # a refused press leaves the buttons
                wire.press(question, "Yes", user=ANN)
                await wire.until(lambda: bool(posted("Room size")))
                (size,) = posted("Room size")
                wire.press(size, "large", user=ANN)
                await wire.until(lambda: bool(posted("Result: booked A (large)")))
        finally:
            await bot.stop()
    assert shown == kept == ["Yes", "No", "Decline"]
    assert labels(question) == [] and labels(size) == []  # each answered: its buttons gone
    assert "Only the person who asked" in refusal["content"]
