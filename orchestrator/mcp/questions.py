"""Elicitation in chat: a server's question during a tool call goes to the person who asked.

A form is asked one field at a time: a boolean or enum field as buttons, any other field as a
short reply (`/answer <id> <value>`); every question has a Decline button. Only the requester
may answer; no answer within the server's `elicitation_timeout_seconds` declines. A URL-mode
request (a sign-in or payment page) goes as a link by private message, never into the group.
The waiting tool call holds its request, so answers bypass the person's message order (the
core and the adapters let `/answer` through at once: `is_answer`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import mcp_types as types

from orchestrator.audit import audit
from orchestrator.mcp.extras import RequestScope
from orchestrator.messages import ChatMessage, Choice, Reply, ReplyKind

log = logging.getLogger(__name__)

ANSWER = "/answer"
# Post replies to the requester: in their chat (private=False) or by private message.
Poster = Callable[[ChatMessage, Sequence[Reply], bool], Awaitable[bool]]
MAX_BUTTONS = 12
# The shared record outlives the wait by this much: it is written before the question is posted
# (a quick press finds it), while the wait's timer starts once the post is done.
RECORD_GRACE_SECONDS = 10.0


class AskerRecord(Protocol):
    """Where every process can read who a waiting question is for (the session store): the
    front end that receives a press on the buttons is not the process whose tool waits."""

    async def record_question(
        self, chat_key: str, question_id: str, user_id: str, ttl_seconds: float
    ) -> None: ...

    async def drop_question(self, chat_key: str, question_id: str) -> None: ...


def is_answer(text: str) -> bool:
    """An answer to a waiting question (let through ahead of the asker's own request)."""
    head = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
    return head == ANSWER or head.startswith(ANSWER + "@")


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    kind: str  # "boolean" | "string" | "number" | "integer"
    title: str
    required: bool
    options: tuple[str, ...] = ()  # an enum's values

    @property
    def buttons(self) -> bool:
        return self.kind == "boolean" or 0 < len(self.options) <= MAX_BUTTONS

    def parse(self, raw: str) -> Any:
        """The typed value of a typed answer; ValueError says what was expected."""
        value = raw.strip()
        if self.options and value not in self.options:
            raise ValueError(f"{self.title}: one of {', '.join(self.options)}")
        if self.kind == "boolean":
            lowered = value.lower()
            if lowered in {"yes", "true", "y", "1"}:
                return True
            if lowered in {"no", "false", "n", "0"}:
                return False
            raise ValueError(f"{self.title}: yes or no")
        if self.kind == "integer":
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"{self.title}: a whole number") from None
        if self.kind == "number":
            try:
                return float(value)
            except ValueError:
                raise ValueError(f"{self.title}: a number") from None
        if not value:
            raise ValueError(f"{self.title}: some text")
        return value


def form_fields(schema: dict[str, Any]) -> list[FormField]:
    required = set(schema.get("required") or [])
    found = []
    for name, prop in (schema.get("properties") or {}).items():
        options = prop.get("enum") or [o.get("const") for o in prop.get("oneOf") or []]
        found.append(
            FormField(
                name,
                str(prop.get("type") or "string"),
                str(prop.get("description") or prop.get("title") or name),
                name in required,
                tuple(str(o) for o in options if o is not None),
            )
        )
    return found


@dataclass
class Question:
    id: str
    server: str
    scope: RequestScope
    message: str
    fields: list[FormField]
    done: asyncio.Future[types.ElicitResult]
    answers: dict[str, Any] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)

    def current(self) -> FormField | None:
        return next(
            (f for f in self.fields if f.name not in self.answers and f.name not in self.skipped),
            None,
        )

    def asked(self, message: ChatMessage) -> bool:
        """Whether `message` comes from the person asked (only they may answer)."""
        asked = self.scope.message
        who = (message.platform, message.chat_id, message.user_id)
        return who == (asked.platform, asked.chat_id, asked.user_id)

    def ask(self) -> Reply:
        """The reply asking the current field: buttons, or how to type the answer (a form
        without fields is a plain OK / Decline)."""
        now = self.current()
        cmd = f"{ANSWER} {self.id}"
        uid = self.scope.message.user_id
        head = f"{self.server} asks: {self.message}" if not self.answers else ""
        if now is None:
            choices = (Choice("OK", f"{cmd} --accept"), Choice("Decline", f"{cmd} --decline"))
            return Reply(head, ReplyKind.NOTICE, choices=choices, for_user_id=uid)
        text = f"{head}\n{now.title}".strip()
        buttons: list[Choice] = []
        if now.kind == "boolean":
            buttons = [Choice("Yes", f"{cmd} yes"), Choice("No", f"{cmd} no")]
        elif now.buttons:
            buttons = [Choice(o, f"{cmd} {shlex.quote(o)}") for o in now.options]
        else:
            text += f"\nReply: {cmd} <{now.kind if now.kind != 'string' else 'text'}>"
        if not now.required:
            buttons.append(Choice("Skip", f"{cmd} --skip"))
        buttons.append(Choice("Decline", f"{cmd} --decline"))
        return Reply(text, ReplyKind.NOTICE, choices=tuple(buttons), for_user_id=uid)


class Questions:
    """Every question waiting for a person, in this process (the tool call waits here too)."""

    def __init__(
        self,
        post: Poster,
        timeout_for: Callable[[str], float],
        record: AskerRecord | None = None,
    ) -> None:
        self._post, self._timeout_for, self._record = post, timeout_for, record
        self._waiting: dict[str, Question] = {}

    async def ask(
        self,
        server: str,
        scope: RequestScope,
        params: types.ElicitRequestFormParams | types.ElicitRequestURLParams,
    ) -> types.ElicitResult:
        """The ElicitHook: ask the requester and wait for the answer (or decline on timeout)."""
        if isinstance(params, types.ElicitRequestURLParams):
            return await self._link(server, scope, params)
        fields = form_fields(params.requested_schema)
        qid = secrets.token_hex(4)
        done: asyncio.Future[types.ElicitResult] = asyncio.get_running_loop().create_future()
        question = Question(qid, server, scope, params.message, fields, done)
        self._waiting[qid] = question
        timeout = self._timeout_for(server)
        log.info("elicitation_asked server=%s id=%s fields=%d", server, qid, len(fields))
        await self._note(question, timeout + RECORD_GRACE_SECONDS)
        try:
            if not await self._say(scope.message, [question.ask()], False):
                raise TimeoutError  # nowhere to ask: declined at once
            result = await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            result = types.ElicitResult(action="decline")
            note = Reply(f"No answer to {server}'s question in time; declined.", ReplyKind.NOTICE)
            await self._say(scope.message, [note], False)
        finally:
            self._waiting.pop(qid, None)
            await self._note(question, None)
        log.info("elicitation_answered server=%s id=%s action=%s", server, qid, result.action)
        _audit(server, scope, result.action)
        return result

    async def _note(self, question: Question, ttl: float | None) -> None:
        """Write (ttl) or remove (None) the shared record of who may answer; a failure is
        logged and never breaks the call (the record then expires, or the front end cannot
        tell and lets the press through as before)."""
        if self._record is None:
            return
        chat_key, qid = question.scope.message.chat_key, question.id
        try:
            if ttl is None:
                await self._record.drop_question(chat_key, qid)
            else:
                user = question.scope.message.user_id
                await self._record.record_question(chat_key, qid, user, ttl)
        except Exception as exc:  # noqa: BLE001 - the record helps the buttons, never the answer
            log.warning("elicitation_record_failed id=%s error=%s", qid, type(exc).__name__)

    def knows(self, qid: str) -> bool:
        """Whether the question waits in this process (else only the shared record knows)."""
        return qid in self._waiting

    def refuses(self, message: ChatMessage, qid: str) -> bool:
        """Whether `answer` would refuse this person: the question waits here for another."""
        question = self._waiting.get(qid)
        return question is not None and not question.done.done() and not question.asked(message)

    async def _link(
        self, server: str, scope: RequestScope, params: types.ElicitRequestURLParams
    ) -> types.ElicitResult:
        text = f"{server} asks: {params.message}\nOpen this link to continue: {params.url}"
        private = await self._say(scope.message, [Reply(text, ReplyKind.NOTICE)], True)
        if not private:
            log.warning("elicitation_url_undelivered server=%s", server)
            _audit(server, scope, "undelivered")
            return types.ElicitResult(action="decline")
        if not scope.message.is_private:
            note = f"{server} needs you to open a link; I sent it to you by private message."
            await self._say(scope.message, [Reply(note, ReplyKind.NOTICE)], False)
        _audit(server, scope, "link_sent")
        return types.ElicitResult(action="accept")

    async def _say(self, message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        """Post, or False when it could not be posted (the question is then declined)."""
        try:
            return await self._post(message, replies, private)
        except Exception as exc:  # noqa: BLE001 - a failed post declines, never breaks the call
            log.warning("elicitation_post_failed error=%s", type(exc).__name__)
            return False

    def answer(self, message: ChatMessage, qid: str, raw: str) -> list[Reply]:
        """`/answer <id> <value>` (a button, or typed): fill the current field, ask the next."""
        question = self._waiting.get(qid)
        if question is None or question.done.done():
            return [Reply("That question has expired or was already answered.", ReplyKind.ERROR)]
        if not question.asked(message):
            return [
                Reply(
                    "Only the person who was asked can answer this.",
                    ReplyKind.ERROR,
                    ephemeral=True,
                )
            ]
        now = question.current()
        value = raw.strip()
        if value == "--decline":
            question.done.set_result(types.ElicitResult(action="decline"))
            return [Reply("Declined.", ReplyKind.NOTICE)]
        if now is None:  # a form without fields: OK accepts
            if value != "--accept":
                return [question.ask()]
        elif value == "--skip" and not now.required:
            question.skipped.add(now.name)
        else:
            try:
                question.answers[now.name] = now.parse(_unquote(value))
            except ValueError as exc:
                return [Reply(f"Please answer {exc}.", ReplyKind.ERROR), question.ask()]
        if question.current() is not None:
            return [question.ask()]
        question.done.set_result(types.ElicitResult(action="accept", content=question.answers))
        return [Reply("Thanks, sent.", ReplyKind.NOTICE)]


def _unquote(value: str) -> str:
    try:
        parts = shlex.split(value)
    except ValueError:
        return value
    return " ".join(parts) if parts else value


def _audit(server: str, scope: RequestScope, outcome: str) -> None:
    """One record, for the requester (the server's request runs outside their task)."""
    who = scope.message
    audit(
        "elicitation",
        tool=f"{server}/elicitation",
        outcome=outcome,
        platform=who.platform,
        chat_id=who.chat_id,
        user_id=who.user_id,
    )
