"""What the fake Bot API checks of a message, as Telegram does: text length and markup
(HTML and MarkdownV2 parse errors with Telegram's descriptions), inline keyboards, the entities
Telegram attaches to what people write, and its fixed set of reaction emoji."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any


def auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram would attach: a leading bot command and @mentions."""
    entities = []
    if text.startswith("/"):
        length = len(text.split()[0])
        entities.append({"type": "bot_command", "offset": 0, "length": length})
    start = 0
    while (at := text.find("@", start)) != -1:
        end = at + 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        if end - at > 1 and not (entities and entities[0]["length"] > at):
            entities.append({"type": "mention", "offset": at, "length": end - at})
        start = end
    return entities


# Telegram's reaction emoji (ReactionTypeEmoji, Bot API 7.x): no ✅ or ❌ among them.
# Compared without U+FE0F (clients may add the variation selector, as PTB does).
REACTION_EMOJI = frozenset(
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 "
    "🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 "
    "☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡".split()
)


class BadRequest(Exception):
    """A 400 answer; the text is Telegram's description after "Bad Request: "."""


def refuse(description: str | None) -> None:
    if description is not None:
        raise BadRequest(description)


HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
    "tg-spoiler", "tg-emoji", "blockquote",
}  # fmt: skip
MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"


class HtmlCheck(HTMLParser):
    """Parses Telegram's HTML subset as strictly as Telegram does; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise BadRequest(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise BadRequest(f'can\'t parse entities: Unexpected end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def content_of(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params.get(k) for k in ("text", "parse_mode", "entities", "reply_markup")}


NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def markup_edit(messages: dict[tuple[str, int], dict[str, Any]], params: dict[str, Any]) -> Any:
    """editMessageReplyMarkup as the Bot API documents it: chat_id and message_id (or
    inline_message_id), reply_markup an optional InlineKeyboardMarkup (none removes the
    keyboard). The message must exist and the markup change; the edited content is stored.
    Returns the key of the edited message, or None for an inline message (answered True)."""
    if params.get("inline_message_id"):
        return None  # an inline message is not the chat's: Telegram answers True
    if params.get("chat_id") in (None, ""):
        raise BadRequest("chat_id is empty")
    if not isinstance(params.get("message_id"), int) or params["message_id"] <= 0:
        raise BadRequest("message identifier is not specified")
    markup = params.get("reply_markup")
    check_markup(markup)
    where = (str(params["chat_id"]), params["message_id"])
    if where not in messages:
        raise BadRequest("message to edit not found")
    if not (markup or {}).get("inline_keyboard"):
        markup = None  # an empty keyboard is no keyboard
    if markup == messages[where].get("reply_markup"):
        raise BadRequest(NOT_MODIFIED)
    messages[where] = {**messages[where], "reply_markup": markup}
    return where


def check_markup(markup: Any) -> None:
    """Raise BadRequest where Telegram refuses an inline keyboard (the only markup we send)."""
    if markup is None:
        return
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise BadRequest("can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise BadRequest("can't parse inline keyboard button: Text buttons are unallowed")
            actions = [k for k in ("callback_data", "url") if k in button]
            if len(actions) != 1:
                raise BadRequest("can't parse inline keyboard button: exactly one action")
            if len(str(button.get("callback_data", "")).encode()) > 64:
                raise BadRequest("BUTTON_DATA_INVALID")


def check_text(text: str, parse_mode: str | None) -> None:
    """Raise BadRequest where Telegram's sendMessage would answer 400."""
    visible = text
    if parse_mode == "HTML":
        checker = HtmlCheck()
        checker.feed(text)
        checker.close()
        if checker.open:
            raise BadRequest(
                "can't parse entities: Can't find end tag corresponding to start tag "
                f'"{checker.open[-1]}"'
            )
        visible = html.unescape("".join(checker.visible))
    elif parse_mode == "MarkdownV2":
        unescaped = re.sub(r"\\.", "", text)
        for char in unescaped:
            if char in MARKDOWN_V2_RESERVED and char not in "*_~`[]()|":
                raise BadRequest(
                    f"can't parse entities: Character '{char}' is reserved and must be escaped "
                    "with the preceding '\\'"
                )
        visible = unescaped
    if not visible.strip():
        raise BadRequest("message text is empty")
    if len(visible.encode("utf-16-le")) // 2 > 4096:
        raise BadRequest("message is too long")
