"""`/dashboard`: an admin gets a short-lived, single-use sign-in link by private message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from orchestrator.commands.registry import CommandContext, CommandRegistry
from orchestrator.console.auth import LinkSigner, role_of
from orchestrator.console.host import ConsoleHost
from orchestrator.messages import Reply

log = logging.getLogger(__name__)

PRIVATE_ONLY = (
    "Sign-in links go by private message only: open a private chat with me and send /dashboard "
    "there."
)


def register_dashboard_command(
    registry: CommandRegistry,
    host: ConsoleHost,
    signer: LinkSigner,
    base_url: Callable[[], str],
) -> None:
    @registry.command(
        "dashboard", "Get a sign-in link to the admin console (admins)", admin_only=True
    )
    async def dashboard(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        message = ctx.message
        user = f"{message.platform}:{message.user_id}"
        role = role_of(host.config, user) or "admin"  # admin_only: a platform admin flag too
        link = f"{base_url()}/dashboard/signin?token={signer.token(user, role)}"
        minutes = int(signer.link_seconds // 60) or 1
        text = f"Your console sign-in link (works once, for {minutes} minutes):\n{link}"
        if message.is_private:
            return [Reply(text, ephemeral=True)]
        if message.platform == "telegram":  # a private chat's id is the user's id
            try:
                sent = await host.post(message.platform, message.user_id, [Reply(text)])
            except Exception as exc:  # noqa: BLE001 - e.g. 403: they never opened a private chat
                log.warning("dashboard_link_failed user=%s error=%s", user, type(exc).__name__)
                sent = False
            if sent:
                log.info("dashboard_link_sent user=%s via=private", user)
                return [Reply("I sent you a sign-in link in a private message.", ephemeral=True)]
        # Never a link in a group: ask for a private message (Discord: a DM to the bot).
        return [Reply(PRIVATE_ONLY, ephemeral=True)]
