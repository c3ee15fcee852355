"""Where a person's sign-in link goes: a private message to them, and a short note in the
chat they asked in (the link itself never goes to a group)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from orchestrator.audit import current_requester
from orchestrator.identity.gate import Notify, SignInLink
from orchestrator.identity.signins import SignInError
from orchestrator.messages import Reply, ReplyKind

log = logging.getLogger(__name__)

Post = Callable[[str, str, Sequence[Reply]], Awaitable[bool]]


def link_text(link: SignInLink) -> str:
    minutes = max(1, round(link.timeout / 60))
    head = f"Your sign-in to {link.server} has expired or was revoked. " if link.again else ""
    return (
        f"{head}Sign in to {link.server} so I can act as you there:\n{link.url}\n"
        f"The link works for {minutes} min; your request goes on once you have signed in."
    )


def chat_notifier(adapters: Callable[[], Mapping[str, Any]], post: Post) -> Notify:
    """`adapters()`: the running chat adapters by platform; a private message goes through an
    adapter's `send_private(user_id, replies)` when it has one (Discord), else to the chat whose
    id is the person's (a Telegram private chat)."""

    async def notify(link: SignInLink) -> None:
        platform, _, user_id = link.slot.partition(":")
        adapter = adapters().get(platform)
        if adapter is None or not user_id:
            log.warning("oauth_link_undeliverable server=%s platform=%s", link.server, platform)
            return
        private = [Reply(link_text(link), ReplyKind.NOTICE)]
        requester = current_requester()
        in_group = requester.platform == platform and requester.chat_id not in ("", user_id)
        try:
            send_private = getattr(adapter, "send_private", None)
            if send_private is not None:
                if await send_private(user_id, private) is False:  # the platform refused
                    raise SignInError("the private message was refused")
            else:
                await post(platform, user_id, private)
        except Exception as exc:  # noqa: BLE001 - said in the chat, and the request ends
            log.warning(
                "oauth_link_send_failed server=%s error=%s", link.server, type(exc).__name__
            )
            if in_group:
                note = (
                    f"I could not send you a private message to sign in to {link.server}: "
                    f"open a private chat with me, send /login {link.server}, then ask again."
                )
                await post(platform, requester.chat_id, [Reply(note, ReplyKind.NOTICE)])
            raise SignInError(
                f"the sign-in link for {link.server} could not be sent by private message; "
                f"open a private chat with the bot and send /login {link.server}"
            ) from None
        if in_group:
            note = f"I sent you a private message to sign in to {link.server}."
            await post(platform, requester.chat_id, [Reply(note, ReplyKind.NOTICE)])

    return notify
