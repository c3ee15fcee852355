"""`/login <server>`, `/logout <server>`, `/logins`: a person's own sign-ins to OAuth servers,
and the OAuth lines of `/status` (states only, never a token)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from orchestrator.audit import bind_requester
from orchestrator.commands.registry import CommandContext, CommandRegistry, Param
from orchestrator.identity.gate import slot_for
from orchestrator.identity.storage import SIGNED_IN
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.services import AppHost

log = logging.getLogger(__name__)

_background: set[asyncio.Task[Any]] = set()


def register_signin_commands(reg: CommandRegistry, app: AppHost) -> None:
    def oauth_servers() -> dict[str, Any]:
        return {n: s for n, s in app.config.mcp_servers.items() if s.auth is not None}

    def unknown(name: str) -> list[Reply]:
        names = ", ".join(sorted(oauth_servers())) or "none are configured"
        return [
            Reply(f"{name} is not a server you sign in to (those are: {names}).", ReplyKind.ERROR)
        ]

    def personal(name: str, ctx: CommandContext, as_bot: str) -> tuple[Any, str] | list[Reply]:
        """The gate and this person's slot on server `name`, or the replies that say why not."""
        settings, gate = oauth_servers().get(name), app.services.oauth
        if settings is None or gate is None:
            return unknown(name)
        assert settings.auth is not None
        if settings.auth.identity == "bot":
            return [Reply(f"{name} works as the bot, not as you: {as_bot}")]
        return gate, slot_for(settings, ctx.message.platform, ctx.message.user_id)

    @reg.command(
        "login",
        "Sign in to a tool server so it acts as you (the link comes by private message)",
        Param("server", "The server to sign in to"),
        person_only=True,
    )
    async def login(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        name = args["server"]
        found = personal(
            name, ctx, f"an admin signs it in on the host with `orchestrator mcp login {name}`."
        )
        if isinstance(found, list):
            return found
        gate, slot = found
        if await gate.state(name, slot) == SIGNED_IN:
            return [Reply(f"You are already signed in to {name}. /logout {name} signs you out.")]
        connection = getattr(app.services.hub, "connections", {}).get(name)
        if connection is None or not hasattr(connection, "session_for"):
            return [Reply(f"{name} is not running.", ReplyKind.ERROR)]
        start_sign_in(connection, name, slot, ctx.message.platform, ctx.message.user_id)
        return [
            Reply(
                f"I'm sending you a private message with the link to sign in to {name} (if it "
                "does not arrive, open a private chat with me and send this again there)."
            )
        ]

    @reg.command(
        "logout",
        "Sign out of a tool server (your token there is deleted)",
        Param("server", "The server to sign out of"),
        person_only=True,
    )
    async def logout(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        name = args["server"]
        found = personal(name, ctx, "an admin signs it out on the host.")
        if isinstance(found, list):
            return found
        gate, slot = found
        connection = getattr(app.services.hub, "connections", {}).get(name)
        if connection is not None and hasattr(connection, "sign_out"):
            had = await connection.sign_out(slot)
        else:
            had = await gate.logout(name, slot)
        return [Reply(f"Signed out of {name}." if had else f"You were not signed in to {name}.")]

    @reg.command("logins", "Show your sign-ins to tool servers")
    async def logins(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        gate = app.services.oauth
        if gate is None or not oauth_servers():
            return [Reply("No tool server here needs a sign-in.")]
        lines = ["Sign-ins:"]
        for name, settings in sorted(oauth_servers().items()):
            assert settings.auth is not None
            slot = slot_for(settings, ctx.message.platform, ctx.message.user_id)
            state = await gate.state(name, slot)
            who = "you" if settings.auth.identity == "person" else "the bot"
            lines.append(f"- {name} (as {who}): {state}")
        return [Reply("\n".join(lines))]


def person_servers(app: AppHost) -> list[str]:
    """The OAuth servers each person signs in to (`identity: person`), when a gate runs."""
    if app.services.oauth is None:
        return []
    servers = app.config.mcp_servers.items()
    return [n for n, s in servers if s.auth is not None and s.auth.identity == "person"]


async def ask_sign_ins(app: AppHost, message: ChatMessage, servers: list[str]) -> list[str]:
    """At a schedule's creation: its creator's sign-in to each `identity: person` server its
    runs will use. Not signed in: the link goes by private message now (as /login sends it) and
    a line says so. Never raises: a schedule is created whatever happens here."""
    gate, wanted = app.services.oauth, set(person_servers(app))
    if gate is None or not message.from_person:
        return []
    lines = []
    for name in [s for s in dict.fromkeys(servers) if s in wanted]:
        try:
            settings = app.config.mcp_servers[name]
            slot = slot_for(settings, message.platform, message.user_id)
            if await gate.state(name, slot) == SIGNED_IN:
                continue
            connection = getattr(app.services.hub, "connections", {}).get(name)
            if connection is None or not hasattr(connection, "session_for"):
                lines.append(f"Runs use {name} as you: sign in with /login {name} first.")
                continue
            start_sign_in(connection, name, slot, message.platform, message.user_id)
            log.info("oauth_sign_in_asked server=%s for=schedule", name)
            lines.append(
                f"Runs use {name} as you: I sent you a sign-in link by private message; if none "
                f"arrives, send me /login {name} in a private chat."
            )
        except Exception as exc:  # noqa: BLE001 - never fails the creation
            log.warning("oauth_sign_in_ask_failed server=%s error=%s", name, type(exc).__name__)
    return lines


def start_sign_in(connection: Any, name: str, slot: str, platform: str, user_id: str) -> None:
    """The sign-in of /login, in the background: the link goes by private message, and the
    token is stored once the person follows it."""
    task = asyncio.create_task(_sign_in(connection, name, slot, platform, user_id))
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _sign_in(connection: Any, name: str, slot: str, platform: str, user_id: str) -> None:
    # Answered already in the chat: the link goes by private message only, with no chat note.
    bind_requester(platform, user_id, user_id)
    try:
        await connection.session_for(slot)
    except Exception as exc:  # noqa: BLE001 - the person was told by private message
        log.info("oauth_login_ended server=%s error=%s", name, type(exc).__name__)


async def oauth_status_lines(app: AppHost) -> list[str]:
    """One line per OAuth server: the bot's state, or how many people are signed in."""
    gate = app.services.oauth
    servers = {n: s for n, s in app.config.mcp_servers.items() if s.auth is not None}
    if gate is None or not servers:
        return []
    lines = ["Sign-ins:"]
    for name, settings in sorted(servers.items()):
        assert settings.auth is not None
        if settings.auth.identity == "bot":
            lines.append(f"- {name}: as the bot, {await gate.state(name, 'bot')}")
        else:
            people = len([s for s in await gate.signed_in(name) if not s.startswith("_")])
            lines.append(f"- {name}: as each person, {people} signed in")
    return lines
