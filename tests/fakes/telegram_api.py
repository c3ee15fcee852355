"""A fake Telegram Bot API server on 127.0.0.1, speaking the methods the bot uses.

getMe, getUpdates (offsets and long polling, as the real API: updates below the offset are
forgotten), sendMessage, editMessageText, editMessageReplyMarkup, sendChatAction,
setMyCommands, deleteMyCommands, answerCallbackQuery, setMessageReaction (Telegram's emoji set
only), setWebhook, deleteWebhook, getWebhookInfo, getChat, close, logOut. Every
call is recorded; `fail_next(method, ...)` makes the next calls answer 429 with retry_after or
400; `stall_next(method)` makes the next call hang (a client timeout); with `delivered=True`
the call is performed and only its answer held back (a send that times out although it was
delivered). `replay(update_id, times)` returns an update again whatever the offset says (a
third-party server that redelivers). Privacy mode and the webhook state are settable, for the
doctor.

sendMessage checks what Telegram checks: an empty or over-long text (4096 characters after
entity parsing) and, with parse_mode HTML or MarkdownV2, markup it cannot parse answer 400 with
Telegram's own descriptions ("can't parse entities: ..."). getChat knows the chats in `chats`.
Point python-telegram-bot at it with `base_url=fake.base_url`. What a message is checked for is
in `telegram_checks`, files and uploads in `telegram_files`, forum topics in `telegram_topics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.faults import Faults
from tests.fakes.telegram_checks import (
    REACTION_EMOJI,
    BadRequest,
    auto_entities,
    check_markup,
    check_text,
    content_of,
    markup_edit,
    refuse,
)
from tests.fakes.telegram_files import (
    DOCUMENT_LIMIT,
    PHOTO_LIMIT,
    check_upload,
    download,
    get_file,
    media_message,
    sent_file_doc,
    upload_of,
)
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
            entities = auto_entities(text)
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
        entities = auto_entities(text)
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
        # A long poll in progress returns now: the server's clean-up waits for every handler,
        # which made each test end up to a poll's timeout (1-2 s) after the bot had stopped.
        self._new_update.set()
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
        if not self.updates and timeout > 0 and not self._closing.is_set():
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
        refuse(self.topics.check(params))
        check_text(str(params.get("text") or ""), params.get("parse_mode"))
        check_markup(params.get("reply_markup"))
        message = self._message(params)
        self.messages[(str(params["chat_id"]), message["message_id"])] = content_of(params)
        return message

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:  # noqa: N802
        refuse(self.topics.check(params))
        return True

    async def _m_getChat(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat = self.chats.get(str(params.get("chat_id")))
        if chat is None:
            raise BadRequest("chat not found")
        # A ChatFullInfo: the Bot API always sends these two (python-telegram-bot requires them).
        return {"accent_color_id": 0, "max_reaction_count": 11, **chat}

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
        refuse(self.topics.check(params))  # a forum topic, as sendMessage checks it
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
        content = content_of(params)
        if content == self.messages[where]:
            raise BadRequest(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self.messages[where] = content
        return self._message(params, where[1])

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:  # noqa: N802
        """See `markup_edit`: the edited message, or True for an inline message."""
        where = markup_edit(self.messages, params)
        if where is None:
            return True
        message = self._message({"chat_id": params["chat_id"]}, where[1])
        message["text"] = self.messages[where].get("text") or ""
        if self.messages[where].get("reply_markup"):
            message["reply_markup"] = self.messages[where]["reply_markup"]
        return message

    def keyboard_of(self, chat_id: int, message_id: int) -> Any:
        """The inline keyboard a message the bot posted shows now (None once removed)."""
        return self.messages[(str(chat_id), message_id)].get("reply_markup")

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


__all__ = ["BOT_ID", "BOT_USERNAME", "FakeTelegram", "check_text"]
