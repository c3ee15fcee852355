"""Where replies go out: the running platform adapters (scheduled runs and protocol features
post through them), with the running config's secrets masked in every reply."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from orchestrator.config import Config
from orchestrator.messages import ChatAdapter, ChatMessage, Reply
from orchestrator.redact import Redactor

log = logging.getLogger(__name__)


class Poster:
    """The attached adapters by platform, and the redaction every outgoing reply passes."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config
        secrets = config().secrets
        self._redactor = (secrets, Redactor(secrets))
        self.adapters: dict[str, ChatAdapter] = {}

    def redact(self, text: str) -> str:
        """Mask the running config's secrets (rebuilt when a reload changes them)."""
        secrets, redactor = self._redactor
        current = self._config().secrets
        if secrets is not current:
            self._redactor = (current, Redactor(current))
            redactor = self._redactor[1]
        return redactor(text)

    def clean(self, reply: Reply) -> Reply:
        text = self.redact(reply.text)
        return reply if text == reply.text else replace(reply, text=text)

    async def post(
        self, platform: str, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> bool:
        """Post into a chat, or into one of its topics/threads (`thread_id`)."""
        adapter = self.adapters.get(platform)
        if adapter is None:
            log.warning("post_dropped platform=%s chat=%s reason=no_adapter", platform, chat_id)
            return False
        cleaned = [self.clean(r) for r in replies]
        if thread_id:
            await adapter.send(chat_id, cleaned, thread_id)
        else:
            await adapter.send(chat_id, cleaned)
        return True

    async def post_private(self, platform: str, user_id: str, replies: Sequence[Reply]) -> bool:
        """Post to a person privately; False when their platform's adapter cannot."""
        send = getattr(self.adapters.get(platform), "send_private", None)
        if send is None:
            log.warning("private_post_dropped platform=%s reason=unsupported", platform)
            return False
        return bool(await send(user_id, [self.clean(r) for r in replies]))


def in_conversation(config: Config, message: ChatMessage) -> ChatMessage:
    """The message with its chat's topic sharing applied (`chats.<key>.topics`)."""
    if message.thread_id is None:
        return message
    shared = config.policy_for(message.chat_key).topics == "shared"
    return message if shared == message.thread_shared else replace(message, thread_shared=shared)
