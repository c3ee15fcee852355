"""Discord as an MCP server: send a message to a channel or a named destination, list channels.

Run: `python -m custom_servers.discord_mcp_server` with DISCORD_BOT_TOKEN set (REST calls with
`Authorization: Bot <token>`), and/or DISCORD_WEBHOOK_URL (the destination named `webhook`).
DISCORD_DESTINATIONS names channels or webhooks (`{"team": "112233445566778899",
"alerts": "https://discord.com/api/webhooks/1/abc"}` or `team=1122...,ops=...`);
DISCORD_GUILD_ID is list_channels' default guild; DISCORD_API_URL points at another API (a fake in
tests); DISCORD_TIMEOUT_SECONDS bounds each call. Neither the token nor a webhook URL (it holds
the webhook's secret) appears in a result, an error or a log line.

Texts over 2000 characters go out in parts; a code block cut in two is closed and reopened.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated, Any

if __package__ in (None, ""):  # run as a script: python3 custom_servers/discord_mcp_server.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from custom_servers._http import ApiError, Service, env_float, request
from custom_servers._serve import serve
from custom_servers._text import parse_destinations, resolve_destination, split_message

DEFAULT_URL = "https://discord.com/api/v10"
TOKEN_ENV = "DISCORD_BOT_TOKEN"
WEBHOOK_ENV = "DISCORD_WEBHOOK_URL"
LIMIT = 2000
SNOWFLAKE = re.compile(r"^\d{15,21}$")
WEBHOOK = re.compile(r"^https?://\S+/webhooks/\d+/[\w-]+$")
CHANNEL_TYPES = {
    0: "text",
    2: "voice",
    4: "category",
    5: "announcement",
    13: "stage",
    15: "forum",
    16: "media",
}

Target = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A configured destination name (see list_destinations) or a channel id",
    ),
]


def _secrets() -> tuple[str, ...]:
    webhooks = [v for v in _destinations().values() if WEBHOOK.match(v)]
    return (os.environ.get(TOKEN_ENV, ""), os.environ.get(WEBHOOK_ENV, ""), *webhooks)


def _service(*, bot: bool) -> Service:
    token = os.environ.get(TOKEN_ENV, "")
    if bot and not token:
        raise ToolError(f"{TOKEN_ENV} is not set for the discord server")
    return Service(
        name="Discord",
        base_url=os.environ.get("DISCORD_API_URL", DEFAULT_URL).rstrip("/") + "/",
        credential_env=TOKEN_ENV if bot else f"{WEBHOOK_ENV} or the destination's URL",
        credential="bot token" if bot else "webhook URL",
        headers={"Authorization": f"Bot {token}"} if bot else {},
        secrets=_secrets(),
        timeout=env_float(os.environ, "DISCORD_TIMEOUT_SECONDS", 20.0),
    )


def _destinations() -> dict[str, str]:
    """Configured names; DISCORD_WEBHOOK_URL is the destination `webhook` unless named otherwise."""
    try:
        names = parse_destinations(os.environ.get("DISCORD_DESTINATIONS", ""))
    except ValueError as exc:
        raise ToolError(f"DISCORD_DESTINATIONS is malformed: {exc}") from None
    if os.environ.get(WEBHOOK_ENV) and "webhook" not in names:
        names["webhook"] = os.environ[WEBHOOK_ENV]
    return names


def _resolve(target: str) -> str:
    """A channel id (sent with the bot token) or a webhook URL (for a webhook destination).

    A channel id never silently goes to a webhook: that would post in the webhook's channel.
    """
    found = resolve_destination(target, _destinations(), lambda t: bool(SNOWFLAKE.match(t)))
    if WEBHOOK.match(found) or os.environ.get(TOKEN_ENV):
        return found
    hooks = sorted(n for n, v in _destinations().items() if WEBHOOK.match(v))
    usable = f"; webhook destinations: {', '.join(hooks)}" if hooks else ""
    raise ToolError(f"{TOKEN_ENV} is not set, so only webhook destinations work{usable}")


def _public(route: str) -> str:
    """What a result may say about a route: a channel id, or that it went by webhook."""
    return "webhook" if WEBHOOK.match(route) else route


def create_server() -> MCPServer:
    """Discord tools: send_message, list_channels, list_destinations."""
    server = MCPServer(
        "discord",
        version="1.0.0",
        instructions="Post to the team's Discord channels by name (list_destinations) or id.",
    )

    @server.tool(
        description="Send a message to a Discord channel (a configured name or a channel id). "
        "Discord Markdown is kept as written; texts over 2000 characters are sent as several "
        "messages, with code blocks closed and reopened across them.",
        annotations=ToolAnnotations(
            title="Send Discord message",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=True,
        ),
    )
    async def send_message(
        channel: Target,
        text: Annotated[str, Field(min_length=1, max_length=40_000, description="Message text")],
    ) -> dict[str, Any]:
        route = _resolve(channel)
        by_webhook = bool(WEBHOOK.match(route))
        service = _service(bot=not by_webhook)
        sent: list[str] = []
        for part in split_message(text, LIMIT):
            body = {"content": part, "allowed_mentions": {"parse": ["users"]}}
            try:
                if by_webhook:
                    message = await request(
                        service, "POST", route, params={"wait": "true"}, json=body
                    )
                else:
                    message = await request(
                        service, "POST", f"channels/{route}/messages", json=body
                    )
            except ApiError as exc:
                if sent:
                    raise ToolError(f"{exc} (after {len(sent)} part(s) were sent)") from None
                raise
            sent.append(str(message.get("id", "")))
        return {"channel": _public(route), "message_ids": sent, "parts": len(sent)}

    @server.tool(
        description="List the channels of a Discord server (guild): id, name, type, category",
        annotations=ToolAnnotations(
            title="List Discord channels", read_only_hint=True, open_world_hint=True
        ),
    )
    async def list_channels(
        guild_id: Annotated[
            str,
            Field(
                pattern=r"^(\d{15,21})?$",
                description="Guild id; empty means the configured DISCORD_GUILD_ID",
            ),
        ] = "",
    ) -> dict[str, Any]:
        guild = guild_id or os.environ.get("DISCORD_GUILD_ID", "")
        if not SNOWFLAKE.match(guild):
            raise ToolError("give a guild_id (DISCORD_GUILD_ID is not set)")
        channels = await request(_service(bot=True), "GET", f"guilds/{guild}/channels")
        names = {c.get("id"): c.get("name") for c in channels if c.get("type") == 4}
        return {
            "guild_id": guild,
            "channels": [
                {
                    "id": c.get("id"),
                    "name": c.get("name"),
                    "type": CHANNEL_TYPES.get(c.get("type", -1), str(c.get("type"))),
                    "category": names.get(c.get("parent_id")),
                }
                for c in sorted(channels, key=lambda c: (c.get("position", 0), c.get("id", "")))
                if c.get("type") != 4
            ],
        }

    @server.tool(
        description="The channel names this server knows (from its configuration)",
        annotations=ToolAnnotations(
            title="List Discord destinations", read_only_hint=True, open_world_hint=False
        ),
    )
    def list_destinations() -> dict[str, str]:
        return {name: _public(route) for name, route in _destinations().items()}

    return server


def main() -> None:
    serve(create_server, [TOKEN_ENV, WEBHOOK_ENV])


if __name__ == "__main__":
    main()
