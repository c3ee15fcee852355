"""Markdown to Telegram messages: plain text plus entities, at most 4096 UTF-16 units each.

The converter reads inline HTML, so `/run <server> <tool>` would lose its placeholders: `<` and
`&` outside code are escaped first (autolinks like `<https://...>` stay links).

Entities (not MarkdownV2 escaping) are what telegramify-markdown produces, so a message cannot
fail with "can't parse entities" on our side; if Telegram still refuses one, the adapter resends
it as plain text. Splitting happens on the Markdown first, at paragraph and code-block
boundaries, so each part stands on its own.
"""

from __future__ import annotations

import re
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


# Fenced blocks (closed, as split_markdown leaves them) and inline code spans: left as they are.
_CODE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=fence)[ \t]*$"
    r"|(?P<ticks>`+)[^`].*?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE | re.DOTALL,
)
_HTML_CHAR = re.compile(r"(?<!\\)(?:<(?!(?:https?|mailto|tg):)|&)")


def escape_html(markdown: str) -> str:
    """Backslash-escape `<` and `&` outside code, so the converter keeps them as text."""
    out, last = [], 0
    for match in _CODE.finditer(markdown):
        out.append(_HTML_CHAR.sub(lambda m: "\\" + m.group(0), markdown[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_HTML_CHAR.sub(lambda m: "\\" + m.group(0), markdown[last:]))
    return "".join(out)


def render_markdown(markdown: str) -> list[TelegramPart]:
    parts: list[TelegramPart] = []
    for piece in split_markdown(markdown, MARKDOWN_BUDGET):
        text, entities = telegramify_markdown.convert(escape_html(piece))
        for chunk, chunk_entities in telegramify_markdown.split_entities(
            text, entities, TELEGRAM_LIMIT
        ):
            parts.append(TelegramPart(chunk, tuple(_entity(e) for e in chunk_entities)))
    return parts or [TelegramPart(markdown[:TELEGRAM_LIMIT] or "(empty)")]
