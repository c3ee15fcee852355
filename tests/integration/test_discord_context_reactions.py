"""Conversation context and reactions on Discord at the wire (tests/discord_wire.py): channel
chatter reaches the model when the bot is mentioned; 👀 then ✅ / ❌ on the asking message, the
👀 taken off; a refused reaction never holds the answer."""

from __future__ import annotations

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.discord_wire import ANN, BOB, GENERAL, REPORTS, discord_wire
from tests.fakes.openai_server import FakeOpenAI, error, text
from tests.helpers import async_eventually


def bot_for(llm_url: str, extra: str = ""):  # type: ignore[no-untyped-def]
    return build_orchestrator(
        parse_config(
            "orchestrator:\n"
            f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
            "  memory_system: {type: none}\n  tool_routing: {strategy: all}\n"
            f"scheduler: {{enabled: false}}\n{extra}",
            env={},
        )
    )


async def test_mention_sees_channel_chatter_and_gets_reactions() -> None:
    with FakeOpenAI([text("You picked Friday."), error(500, "down")]) as llm:
        core = bot_for(llm.base_url)
        await core.start()
        try:
            async with discord_wire(core) as wire:
                first = wire.message("ship Friday?", author=ANN)
                wire.dispatch_message(first)  # the gateway delivers it again (a resume)
                wire.message("Friday is fine", author=BOB)
                wire.message("unrelated", author=BOB, channel=REPORTS)
                asked = wire.message("what did we pick?", mention=True, author=ANN)
                await wire.sent_at_least(2, GENERAL)
                reactions = wire.api.reactions
                await wire.until(lambda: reactions.current.get(asked["id"]) == ["✅"])
                failing = wire.message("and now?", mention=True, author=BOB)
                await wire.until(lambda: reactions.current.get(failing["id"]) == ["❌"])
        finally:
            await core.stop()
    prompt = llm.requests[0]["body"]["messages"][-1]["content"]
    assert prompt.count("Ann: ship Friday?") == 1 and "Bob: Friday is fine" in prompt
    assert "unrelated" not in prompt and prompt.endswith("Ann: what did we pick?")
    assert reactions.history[asked["id"]] == ["+👀", "+✅", "-👀"]
    assert len(llm.requests) == 2  # chatter is never answered


async def test_an_edited_chatter_message_replaces_its_kept_text_and_is_never_answered() -> None:
    with FakeOpenAI(default=text("Tuesday it is.")) as llm:
        core = bot_for(llm.base_url)
        await core.start()
        try:
            async with discord_wire(core) as wire:
                first = wire.message("we ship on Monday", author=BOB)
                seen = ChatMessage("discord", GENERAL, ANN["id"], "", message_id="x")

                async def kept(words: str) -> bool:
                    return any(words in line.text for line in await core.conversation.recent(seen))

                assert await async_eventually(lambda: kept("Monday"))
                wire.edit(first, "we ship on Tuesday")
                assert await async_eventually(lambda: kept("Tuesday"))
                asked = wire.message("when do we ship?", mention=True, author=ANN)
                await wire.sent_at_least(2, GENERAL)
                assert wire.sent(GENERAL)[0]["message_reference"]["message_id"] == asked["id"]
        finally:
            await core.stop()
    prompt = llm.requests[0]["body"]["messages"][-1]["content"]
    assert "Bob: we ship on Tuesday" in prompt and "Monday" not in prompt
    assert len(llm.requests) == 1  # neither the chatter nor its edit was answered


async def test_a_refused_reaction_never_holds_the_answer_and_chats_can_opt_out() -> None:
    extra = f"chats:\n  'discord:{GENERAL}': {{reactions: false}}\n"
    with FakeOpenAI(default=text("Here.")) as llm:
        core = bot_for(llm.base_url, extra)
        await core.start()
        try:
            async with discord_wire(core) as wire:
                quiet = wire.message("hi", mention=True)
                await wire.sent_at_least(2, GENERAL)
                wire.api.faults.fail_next(403, times=2, match="/reactions/")
                loud = wire.message("hi", mention=True, channel=REPORTS)
                await wire.sent_at_least(2, REPORTS)
                tries = lambda: [c for c in wire.api.calls if "/reactions/" in c.path]  # noqa: E731
                await wire.until(lambda: len(tries()) >= 2)
        finally:
            await core.stop()
    assert all(quiet["id"] not in c.path for c in tries())
    assert all(loud["id"] in c.path for c in tries())
