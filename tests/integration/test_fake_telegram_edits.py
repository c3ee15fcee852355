"""The fake Bot API refuses an editMessageText as Telegram does, so the notice edited into an
answer is held to the same limits as a sent message (driven by python-telegram-bot's own Bot)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def bot() -> AsyncIterator[tuple[Bot, FakeTelegram]]:
    async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as client:
        yield client, fake


async def test_an_edit_is_checked_like_a_send(bot: tuple[Bot, FakeTelegram]) -> None:
    client, _ = bot
    sent = await client.send_message(5, "Working on it")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await client.edit_message_text("x" * 4097, chat_id=5, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
        await client.edit_message_text(
            "<b>open", chat_id=5, message_id=sent.message_id, parse_mode="HTML"
        )
    # The limit counts what is shown after entities are parsed, not the markup.
    shown = "<b>" + "y" * 4090 + "</b>"
    await client.edit_message_text(shown, chat_id=5, message_id=sent.message_id, parse_mode="HTML")


async def test_an_edit_needs_an_existing_message_and_a_change(
    bot: tuple[Bot, FakeTelegram],
) -> None:
    client, _ = bot
    sent = await client.send_message(5, "Working on it")
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await client.edit_message_text("done", chat_id=5, message_id=sent.message_id + 999)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await client.edit_message_text("Working on it", chat_id=5, message_id=sent.message_id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Approve", callback_data="/ok 1")]])
    await client.edit_message_text(
        "Working on it", chat_id=5, message_id=sent.message_id, reply_markup=keyboard
    )  # the markup changed: accepted


async def test_a_button_with_oversized_data_is_refused(bot: tuple[Bot, FakeTelegram]) -> None:
    client, _ = bot
    sent = await client.send_message(5, "Approve?")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await client.edit_message_text(
            "Approve now?", chat_id=5, message_id=sent.message_id, reply_markup=keyboard
        )
