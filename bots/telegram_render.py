"""Markdown to Telegram messages: plain text plus entities, at most 4096 UTF-16 units each.

Entities (not MarkdownV2 escaping) are what telegramify-markdown produces, so a message cannot
fail with "can't parse entities" on our side; if Telegram still refuses one, the adapter resends
it as plain text. Splitting happens on the Markdown first, at paragraph and code-block
boundaries, so each part stands on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import telegramify_markdown
from telegram import MessageEntity

from bots.rendering import split_markdown

TELEGRAM_LIMIT = 4096
MARKDOWN_BUDGET = 4000  # conversion only removes markup, so parts shrink below the limit


@dataclass(frozen=True, slots=True)
class TelegramPart:
    text: str
    entities: tuple[MessageEntity, ...] = ()


def _entity(raw: telegramify_markdown.MessageEntity) -> MessageEntity:
    return MessageEntity(
        type=raw.type, offset=raw.offset, length=raw.length, url=raw.url, language=raw.language
    )


def render_markdown(markdown: str) -> list[TelegramPart]:
    parts: list[TelegramPart] = []
    for piece in split_markdown(markdown, MARKDOWN_BUDGET):
        text, entities = telegramify_markdown.convert(piece)
        for chunk, chunk_entities in telegramify_markdown.split_entities(
            text, entities, TELEGRAM_LIMIT
        ):
            parts.append(TelegramPart(chunk, tuple(_entity(e) for e in chunk_entities)))
    return parts or [TelegramPart(markdown[:TELEGRAM_LIMIT] or "(empty)")]
