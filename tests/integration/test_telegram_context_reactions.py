"""Conversation context and reactions through the real python-telegram-bot against the fake Bot
API: group chatter reaches the model when the bot is mentioned; 👀 then 👍 / 👎 on the asking
message (Telegram has no ✅ / ❌ reactions); a refused or stalled reaction never holds the
answer."""

from __future__ import annotations

from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from tests.fakes.openai_server import FakeOpenAI, error, text
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import eventually, running_bot


def answers(fake: FakeTelegram, contains: str) -> list[dict[str, Any]]:
    return [p for p in fake.sent() if contains in str(p.get("text", ""))]


def last_message_id(fake: FakeTelegram) -> int:
    return int(fake.updates[-1]["message"]["message_id"])


def bot_for(llm_url: str, extra: str = "") -> Orchestrator:
    return build_orchestrator(
        parse_config(
            "orchestrator:\n"
            f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
            "  memory_system: {type: none}\n  tool_routing: {strategy: all}\n"
            f"scheduler: {{enabled: false}}\n{extra}",
            env={},
        )
    )


def said_by(fake: FakeTelegram, name: str) -> None:
    """The last message was written by `name` (the fake names every user Ann)."""
    fake.updates[-1]["message"]["from"]["first_name"] = name


async def test_a_mention_sees_the_chatter_before_it_with_authors() -> None:
    with FakeOpenAI(default=text("You agreed on Friday.")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, bot_for(llm.base_url)):
            fake.message_update("shall we ship on Friday?", user_id=1)
            fake.message_update("Friday works for me", user_id=2)
            said_by(fake, "Bob")
            fake.message_update(f"@{BOT_USERNAME} what did we decide?", user_id=3)
            said_by(fake, "Carol")
            assert await eventually(lambda: bool(answers(fake, "You agreed on Friday")))
    prompt = llm.requests[0]["body"]["messages"][-1]["content"]
    assert len(llm.requests) == 1  # the chatter itself was never answered
    assert "<chat_context>" in prompt
    assert prompt.index("Ann: shall we ship on Friday?") < prompt.index("Bob: Friday works")
    assert prompt.endswith("</chat_context>\n\nCarol: what did we decide?")


async def test_an_edited_chatter_message_replaces_its_kept_text_and_is_never_answered() -> None:
    with FakeOpenAI(default=text("You ship on Tuesday.")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, bot_for(llm.base_url)) as app:
            adapter = app.bot_data["telegram_adapter"]

            def handled(update_id: int) -> bool:
                delivered = any(u["update_id"] == update_id for u in fake.delivered)
                return delivered and not adapter.inflight._held

            first = fake.message_update("we ship on Monday", user_id=1)
            assert await eventually(lambda: handled(first))
            edit = fake.edited_update(first, "we ship on Tuesday")
            assert await eventually(lambda: handled(edit))
            assert fake.sent() == [] and llm.requests == []  # an edit is never answered
            fake.message_update(f"@{BOT_USERNAME} when do we ship?", user_id=3)
            assert await eventually(lambda: bool(answers(fake, "You ship on Tuesday")))
    prompt = llm.requests[0]["body"]["messages"][-1]["content"]
    assert "Ann: we ship on Tuesday" in prompt and "Monday" not in prompt
    assert len(llm.requests) == 1


async def test_reactions_mark_the_request_taken_then_done_or_failed() -> None:
    script = [text("All good."), error(500, "model exploded")]
    with FakeOpenAI(script) as llm:
        async with FakeTelegram() as fake, running_bot(fake, bot_for(llm.base_url)):
            fake.message_update(f"@{BOT_USERNAME} status please")
            good = last_message_id(fake)
            assert await eventually(lambda: fake.reactions(good) == ["👀", "👍"])
            fake.message_update(f"@{BOT_USERNAME} again please")
            bad = last_message_id(fake)
            assert await eventually(lambda: fake.reactions(bad) == ["👀", "👎"])
    assert answers(fake, "All good.") and answers(fake, "/run still works")


async def test_a_refused_or_stalled_reaction_never_holds_the_answer() -> None:
    with FakeOpenAI(default=text("Here it is.")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, bot_for(llm.base_url)):
            fake.fail_next("setMessageReaction", 400, "Bad Request: REACTION_INVALID", times=2)
            fake.message_update(f"@{BOT_USERNAME} first")
            assert await eventually(lambda: len(answers(fake, "Here it is.")) == 1)
            assert await eventually(lambda: len(fake.sent("setMessageReaction")) == 2)
            fake.stall_next("setMessageReaction", 30)
            fake.message_update(f"@{BOT_USERNAME} second")
            assert await eventually(lambda: len(answers(fake, "Here it is.")) == 2)
            stalled = fake.sent("setMessageReaction")[2]
    assert stalled["reaction"] == [{"type": "emoji", "emoji": "👀"}]


async def test_reactions_can_be_switched_off_per_chat() -> None:
    extra = "chats:\n  'telegram:-100': {reactions: false}\n"
    with FakeOpenAI(default=text("Done.")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, bot_for(llm.base_url, extra)):
            fake.message_update(f"@{BOT_USERNAME} quiet chat")
            quiet = last_message_id(fake)
            assert await eventually(lambda: len(answers(fake, "Done.")) == 1)
            fake.message_update("hello", chat_id=42, chat_type="private")
            loud = last_message_id(fake)
            assert await eventually(lambda: fake.reactions(loud) == ["👀", "👍"])
    assert fake.reactions(quiet) == []
