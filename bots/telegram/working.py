"""Telegram's working layer: a request answered once, with typing kept up and one
"Working on it" notice (recorded) when it takes a while, which the answer then replaces. A
request resumed after a crash reuses what the dead process computed, sent and noticed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from telegram import Message
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bots.telegram.outbound import Outbound
from bots.telegram.render import TelegramPart
from bots.telegram.topics import TopicUnavailable
from orchestrator.delivery.base import replies_from_data
from orchestrator.delivery.inflight import given_up
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.progress import Progress

log = logging.getLogger(__name__)

TYPING_EVERY = 4.0
PROGRESS_EVERY = 10.0
WORKING_TEXT = "Working on it…"
GAVE_UP_TEXT = "Sorry, I was restarted twice while working on this; please ask again."


def working_text(seconds: int, doing: str) -> str:
    """The notice while a request runs: "Working on it… (12s: running clickup/create_task)"."""
    return f"{WORKING_TEXT} ({seconds}s: {doing})" if doing else f"{WORKING_TEXT} ({seconds}s)"


class Working(Outbound):
    async def answer(
        self, key: str, chat_message: ChatMessage, chat_id: int, reply_to: int
    ) -> list[Reply]:
        """Answer once: reuse what a crashed run already computed, sent and noticed. Into the
        message's topic, if it came from one (a resumed update keeps its topic)."""
        thread = int(chat_message.thread_id) if chat_message.thread_id else None
        prior = self._resumed.pop(key, None)
        notice = int(prior.notice) if prior is not None and prior.notice else None
        if prior is not None and given_up(prior):
            replies = [Reply(GAVE_UP_TEXT, ReplyKind.ERROR)]
            await self.deliver(
                chat_id,
                replies,
                reply_to=reply_to,
                notice=notice,
                key=key,
                sent=prior.sent,
                thread_id=thread,
            )
            return replies
        if prior is not None and prior.replies is not None:
            replies = replies_from_data(prior.replies)
        else:
            replies, notice = await self._work(key, chat_id, reply_to, chat_message, notice)
            await self.store.save_replies(key, replies)
        sent = prior.sent if prior is not None else {}
        await self.deliver(
            chat_id, replies, reply_to=reply_to, notice=notice, key=key, sent=sent, thread_id=thread
        )
        return replies

    async def _work(
        self,
        key: str,
        chat_id: int,
        reply_to: int,
        chat_message: ChatMessage,
        notice: int | None = None,
    ) -> tuple[list[Reply], int | None]:
        """Run the core; keep typing up, and post a notice (recorded) if it takes a while."""
        thread = int(chat_message.thread_id) if chat_message.thread_id else None
        typing = asyncio.create_task(self._keep_typing(chat_id, thread))
        progress = Progress()
        work = self.orchestrator.handle(chat_message, admitted=True)  # admitted on arrival
        task = asyncio.create_task(progress.track(work))
        started = time.monotonic()
        try:
            done, _ = await asyncio.wait({task}, timeout=self.settings.working_notice_seconds)
            if not done and notice is None:
                text = working_text(int(time.monotonic() - started), progress.doing)
                posted: Message | None = None
                with contextlib.suppress(TopicUnavailable):  # the answer says so, once
                    posted = await self._send_part(
                        chat_id, TelegramPart(text), reply_to, thread_id=thread
                    )
                if posted is not None:
                    notice = posted.message_id
                    await self.store.set_notice(key, str(notice))
            while not done:
                done, _ = await asyncio.wait({task}, timeout=PROGRESS_EVERY)
                if not done and notice is not None:
                    text = working_text(int(time.monotonic() - started), progress.doing)
                    with contextlib.suppress(TelegramError):
                        await self._edit(chat_id, notice, TelegramPart(text))
            return task.result(), notice
        finally:
            typing.cancel()

    async def _keep_typing(self, chat_id: int, thread_id: int | None = None) -> None:
        assert self.app is not None
        while True:
            try:
                await self.app.bot.send_chat_action(
                    chat_id, ChatAction.TYPING, message_thread_id=thread_id
                )
            except TelegramError as exc:
                log.debug("typing_failed error=%s", type(exc).__name__)
            await asyncio.sleep(TYPING_EVERY)
