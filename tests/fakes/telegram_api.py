"""A fake Telegram Bot API server on 127.0.0.1, speaking the methods the bot uses.

getMe, getUpdates (offsets and long polling, as the real API: updates below the offset are
forgotten), sendMessage, editMessageText, sendChatAction, setMyCommands, deleteMyCommands,
answerCallbackQuery, setMessageReaction (Telegram's emoji set only), setWebhook,
deleteWebhook, getWebhookInfo, getChat, close, logOut. Every
call is recorded; `fail_next(method, ...)` makes the next calls answer 429 with retry_after or
400; `stall_next(method)` makes the next call hang (a client timeout); with `delivered=True`
the call is performed and only its answer held back (a send that times out although it was
delivered). `replay(update_id, times)` returns an update again whatever the offset says (a
third-party server that redelivers). Privacy mode and the webhook state are settable, for the
doctor.

sendMessage checks what Telegram checks: an empty or over-long text (4096 characters after
entity parsing) and, with parse_mode HTML or MarkdownV2, markup it cannot parse answer 400 with
Telegram's own descriptions ("can't parse entities: ..."). getChat knows the chats in `chats`.
Point python-telegram-bot at it with `base_url=fake.base_url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from tests.fakes.faults import Faults
from tests.fakes.telegram_topics import ForumTopics

BOT_ID = 777000
BOT_USERNAME = "team_ops_bot"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None


class FakeTelegram:
    def __init__(self, token: str = "123:fake-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self._failures: dict[str, list[tuple[int, str, int | None]]] = {}
        self._replays: list[dict[str, Any]] = []
        self._stalls: dict[str, list[float]] = {}
        self.delivered: list[dict[str, Any]] = []  # every update getUpdates handed out
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.stalls = Faults()
        self._closing = asyncio.Event()
        self.chats: dict[str, dict[str, Any]] = {
            "-100": {"id": -100, "type": "supergroup", "title": "Team"},
        }
        # What the doctor reads: privacy mode (BotFather /setprivacy) and the webhook.
        self.can_read_all_group_messages = False
        self.webhook: dict[str, Any] = {"url": "", "pending_update_count": 0}
        # What each message the bot posted shows now: (chat id, message id) -> its content.
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._gates: dict[str, asyncio.Event] = {}
        self.topics = ForumTopics()  # f31a: forum supergroups and their topics
        # Files and voice (issue 31): what people sent (file_id -> bytes), what the bot uploaded.
        self.files: dict[str, bytes] = {}
        self.uploads: list[dict[str, Any]] = []
        self.downloads: list[str] = []

    # -- control from tests -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        self._failures.setdefault(method, []).extend([(status, description, retry_after)] * times)

    def reset(self) -> None:
        """Forget the calls and any planned failures (a fake shared by several tests)."""
        self.calls.clear()
        self._failures.clear()
        self.stalls.queue.clear()

    def stall_next(
        self, method: str, seconds: float = 30.0, *, times: int = 1, delivered: bool = False
    ) -> None:
        """The next call of `method` gets no answer for `seconds` (or until the fake closes);
        `delivered=True` performs the call first and only holds the answer back."""
        if delivered:
            self._stalls.setdefault(method, []).extend([seconds] * times)
        else:
            self.stalls.stall_next(seconds, times=times, match=method)

    def hold(self, method: str) -> None:
        """Calls of `method` wait (unanswered, not yet performed) until `release(method)`."""
        self._gates[method] = asyncio.Event()

    def release(self, method: str) -> None:
        gate = self._gates.pop(method, None)
        if gate is not None:
            gate.set()

    def replay(self, update_id: int, times: int = 1) -> None:
        """Hand the update out `times` more times, one per getUpdates, ignoring the offset."""
        update = next(u for u in self.delivered if u["update_id"] == update_id)
        self._replays.extend([update] * times)
        self._new_update.set()

    def add_chat(self, chat_id: int, title: str, chat_type: str = "supergroup") -> None:
        self.chats[str(chat_id)] = {"id": chat_id, "type": chat_type, "title": title}

    def message_id_of(self, text_part: str) -> int:
        """The message_id the fake gave the first message sent with this text."""
        return next(
            int(c.result["message_id"])
            for c in self.calls
            if c.method == "sendMessage" and text_part in str(c.params.get("text"))
        )

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def user(self, user_id: int, name: str = "Ann") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name, "username": name.lower()}

    def message_update(
        self,
        text: str,
        *,
        chat_id: int = -100,
        user_id: int = 1,
        chat_type: str = "supergroup",
        reply_to_bot: bool = False,
        entities: list[dict[str, Any]] | None = None,
        thread_id: int | None = None,
    ) -> int:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "title": "Team"},
            "from": self.user(user_id),
            "text": text,
        }
        self.topics.mark(message, thread_id)
        if entities is None:
            entities = _auto_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_bot:
            message["reply_to_message"] = {
                "message_id": 5,
                "date": int(time.time()),
                "text": "earlier answer",
                "chat": message["chat"],
                "from": self.bot_user(),
            }
        return self._push({"message": message})

    def edited_update(self, update_id: int, text: str) -> int:
        """The sender edits the message of an earlier update: same message id, new text."""
        original = next(u for u in self.delivered if u["update_id"] == update_id)["message"]
        edited = {**original, "text": text, "edit_date": int(time.time())}
        entities = _auto_entities(text)
        if entities:
            edited["entities"] = entities
        return self._push({"edited_message": edited})

    def callback_update(
        self,
        data: str,
        *,
        message_id: int,
        chat_id: int = -100,
        user_id: int = 1,
        thread_id: int | None = None,
    ) -> int:
        query = {
            "id": f"cb{next(self._update_ids)}",
            "from": self.user(user_id),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "supergroup", "title": "Team"},
                "from": self.bot_user(),
                "text": "question",
            },
        }
        self.topics.mark(query["message"], thread_id)
        return self._push({"callback_query": query})

    def _push(self, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **body})
        self._new_update.set()
        return update_id

    def bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Ops", "username": BOT_USERNAME}

    # -- server -------------------------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)  # files (issue 31)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        self._closing.set()
        await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):  # a multipart upload (sendPhoto, sendDocument)
                params[key] = upload_of(value)
                continue
            try:
                params[key] = json.loads(str(value))
            except json.JSONDecodeError:
                params[key] = str(value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        gate = self._gates.get(method)
        if gate is not None:
            await gate.wait()
        self.calls.append(Call(method, params))
        stall = self.stalls.take(method)
        if stall is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), stall.stall)
            return web.json_response(
                {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
            )
        failures = self._failures.get(method)
        if failures:
            status, description, retry_after = failures.pop(0)
            doc: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if retry_after is not None:
                doc["parameters"] = {"retry_after": retry_after}
            return web.json_response(doc, status=status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status=404,
            )
        call = self.calls[-1]
        try:
            call.result = await handler(params)
        except BadRequest as exc:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}, status=400
            )
        held = self._stalls.get(method)
        if held:
            await asyncio.sleep(held.pop(0))  # done, but the answer comes too late
        return web.json_response({"ok": True, "result": call.result})

    async def _m_getMe(self, params: dict[str, Any]) -> Any:  # noqa: N802 - Bot API names
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        offset = int(params.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if self._replays:
            return [self._replays.pop(0)]
        if not self.updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), min(timeout, 2))
            if self._replays:
                return [self._replays.pop(0)]
        limit = int(params.get("limit") or 100)
        self.delivered.extend(u for u in self.updates[:limit] if u not in self.delivered)
        return self.updates[:limit]

    def _message(self, params: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        message = {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "supergroup", "title": "Team"},
            "from": self.bot_user(),
            "text": params.get("text", ""),
        }
        self.topics.mark(message, params.get("message_thread_id"))
        return message

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if params.get("chat_id") in (None, ""):
            raise BadRequest("chat_id is empty")
        _refuse(self.topics.check(params))
        check_text(str(params.get("text") or ""), params.get("parse_mode"))
        check_markup(params.get("reply_markup"))
        message = self._message(params)
        self.messages[(str(params["chat_id"]), message["message_id"])] = _content(params)
        return message

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:  # noqa: N802
        _refuse(self.topics.check(params))
        return True

    async def _m_getChat(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat = self.chats.get(str(params.get("chat_id")))
        if chat is None:
            raise BadRequest("chat not found")
        return chat

    # -- files and voice (issue 31) -------------------------------------------------------------
    def media_update(self, kind: str, data: bytes, **options: Any) -> int:
        """A message carrying a file, as Telegram sends it; see `media_message`."""
        message = media_message(self, kind, data, next(self._message_ids), **options)
        return self._push({"message": message})

    async def _m_getFile(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return get_file(self, params)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        return download(self, request)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self._uploaded(params, "photo", PHOTO_LIMIT)

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self._uploaded(params, "document", DOCUMENT_LIMIT)

    def _uploaded(self, params: dict[str, Any], field_name: str, limit: int) -> Any:
        upload = check_upload(params, field_name, limit)
        _refuse(self.topics.check(params))  # a forum topic, as sendMessage checks it
        self.uploads.append({"method": field_name, **params})
        message = self._message(params)
        message.pop("text")
        message[field_name] = sent_file_doc(field_name, upload)
        return message

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
        """As Telegram answers: the message must exist, the text pass sendMessage's checks, and
        an edit that changes nothing is refused."""
        if params.get("chat_id") in (None, ""):
            raise BadRequest("chat_id is empty")
        if not params.get("message_id"):
            raise BadRequest("message identifier is not specified")
        check_text(str(params.get("text") or ""), params.get("parse_mode"))
        check_markup(params.get("reply_markup"))
        where = (str(params["chat_id"]), int(params["message_id"]))
        if where not in self.messages:
            raise BadRequest("message to edit not found")
        content = _content(params)
        if content == self.messages[where]:
            raise BadRequest(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self.messages[where] = content
        return self._message(params, where[1])

    async def _ok(self, params: dict[str, Any]) -> Any:
        return True

    _m_setMyCommands = _ok  # noqa: N815
    _m_deleteMyCommands = _ok  # noqa: N815
    _m_answerCallbackQuery = _ok  # noqa: N815

    # -- reactions (issue 31) -----------------------------------------------------------------
    async def _m_setMessageReaction(self, params: dict[str, Any]) -> Any:  # noqa: N802
        """As Telegram documents it: chat_id, message_id (Integer), reaction an array of
        ReactionType; an emoji outside Telegram's fixed set answers REACTION_INVALID."""
        if params.get("chat_id") in (None, ""):
            raise BadRequest("chat_id is empty")
        if not isinstance(params.get("message_id"), int) or params["message_id"] <= 0:
            raise BadRequest("message to react not found")
        reaction = params.get("reaction", [])
        if not isinstance(reaction, list):
            raise BadRequest("can't parse reaction types JSON object")
        for item in reaction:
            if not isinstance(item, dict) or item.get("type") not in ("emoji", "custom_emoji"):
                raise BadRequest("can't parse reaction types JSON object")
            emoji = str(item.get("emoji", "")).replace("\ufe0f", "")
            if item["type"] == "emoji" and emoji not in REACTION_EMOJI:
                raise BadRequest("REACTION_INVALID")
        if len(reaction) > 1:
            raise BadRequest("REACTIONS_TOO_MANY")
        return True

    def reactions(self, message_id: int) -> list[str]:
        """The emoji the bot set on a message, in order (each call replaces the one before)."""
        return [
            item.get("emoji", "")
            for c in self.calls
            if c.method == "setMessageReaction"
            and c.params.get("message_id") == message_id
            and c.result is True
            for item in c.params.get("reaction", [])
        ]

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = {"url": params.get("url", ""), "pending_update_count": 0}
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = {"url": "", "pending_update_count": 0}
        return True

    _m_close = _ok
    _m_logOut = _ok  # noqa: N815

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return {"has_custom_certificate": False, **self.webhook}


def _auto_entities(text: str) -> list[dict[str, Any]]:
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


def _refuse(description: str | None) -> None:
    if description is not None:
        raise BadRequest(description)


HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
    "tg-spoiler", "tg-emoji", "blockquote",
}  # fmt: skip
MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"


class _HtmlCheck(HTMLParser):
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


def _content(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params.get(k) for k in ("text", "parse_mode", "entities", "reply_markup")}


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
        checker = _HtmlCheck()
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


# -- files and voice (issue 31): getFile, the file download path, sendPhoto/sendDocument ----------
FILE_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile: "file is too big" past 20 MB
PHOTO_LIMIT = 10 * 1024 * 1024
DOCUMENT_LIMIT = 50 * 1024 * 1024
CAPTION_LIMIT = 1024


def upload_of(value: web.FileField) -> dict[str, Any]:
    data = value.file.read()
    return {"filename": value.filename, "content_type": value.content_type, "data": data}


def media_message(
    fake: FakeTelegram,
    kind: str,
    data: bytes,
    message_id: int,
    *,
    chat_id: int = -100,
    chat_type: str = "supergroup",
    user_id: int = 1,
    caption: str | None = None,
    file_name: str | None = None,
    mime_type: str | None = None,
    file_size: int | None = None,
) -> dict[str, Any]:
    """kind: document | photo | voice | audio | video. `file_size` may claim more than `data`
    holds (a file too large to fetch is announced by its size, never downloaded)."""
    file_id = f"file{len(fake.files) + 1}"
    fake.files[file_id] = data
    size = len(data) if file_size is None else file_size
    base = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size}
    media: Any
    if kind == "photo":
        small = {**base, "file_id": f"{file_id}s", "width": 90, "height": 90}
        fake.files[f"{file_id}s"] = data[:100]
        media = [small, {**base, "width": 800, "height": 600}]
    elif kind == "voice":
        media = {**base, "duration": 3, "mime_type": mime_type or "audio/ogg"}
    elif kind == "video":
        media = {**base, "width": 640, "height": 360, "duration": 5}
    elif kind == "audio":
        media = {**base, "duration": 3, "mime_type": mime_type or "audio/mpeg"}
        if file_name:
            media["file_name"] = file_name
    else:
        media = {**base, "file_name": file_name or "file.txt"}
        if mime_type:
            media["mime_type"] = mime_type
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type, "title": "Team"},
        "from": fake.user(user_id),
        kind: media,
    }
    if caption is not None:
        message["caption"] = caption
        entities = _auto_entities(caption)
        if entities:
            message["caption_entities"] = entities
    return message


def get_file(fake: FakeTelegram, params: dict[str, Any]) -> dict[str, Any]:
    file_id = str(params.get("file_id") or "")
    if file_id not in fake.files:
        raise BadRequest("invalid file_id")
    data = fake.files[file_id]
    if len(data) > FILE_DOWNLOAD_LIMIT:
        raise BadRequest("file is too big")
    return {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}",
        "file_size": len(data),
        "file_path": f"documents/{file_id}.bin",
    }


def download(fake: FakeTelegram, request: web.Request) -> web.Response:
    if request.match_info["token"] != fake.token:
        return web.Response(status=401)
    path = request.match_info["path"]
    file_id = path.removeprefix("documents/").removesuffix(".bin")
    if file_id not in fake.files:
        return web.Response(status=404, text="Not Found")
    fake.downloads.append(file_id)
    return web.Response(body=fake.files[file_id], content_type="application/octet-stream")


def check_upload(params: dict[str, Any], field_name: str, limit: int) -> dict[str, Any]:
    """What Telegram checks of a sendPhoto/sendDocument: a chat, the file as a multipart part
    (or a file_id/URL string), its size, the caption's length."""
    if params.get("chat_id") in (None, ""):
        raise BadRequest("chat_id is empty")
    upload = params.get(field_name)
    if upload is None:
        raise BadRequest(f"there is no {field_name} in the request")
    if not isinstance(upload, dict):
        raise BadRequest("wrong remote file identifier specified")  # we only upload bytes
    if not upload["data"]:
        raise BadRequest("file must be non-empty")
    if len(upload["data"]) > limit:
        raise BadRequest(
            "file is too big" if field_name == "document" else "PHOTO_INVALID_DIMENSIONS"
        )
    if len(str(params.get("caption") or "")) > CAPTION_LIMIT:
        raise BadRequest("message caption is too long")
    return upload


def sent_file_doc(field_name: str, upload: dict[str, Any]) -> Any:
    base = {"file_id": f"sent{id(upload)}", "file_unique_id": "s", "file_size": len(upload["data"])}
    if field_name == "photo":
        return [{**base, "width": 100, "height": 100}]
    return {**base, "file_name": upload["filename"], "mime_type": upload["content_type"]}
