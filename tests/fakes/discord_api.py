"""A fake Discord REST API v10 on 127.0.0.1: channel messages, guild channels, webhooks, and
what a bot's login and `orchestrator doctor` read.

POST /api/v10/channels/{id}/messages (Authorization: Bot <token>; a repeated `nonce` with
`enforce_nonce` returns the first message instead of posting again, as Discord does), GET
/api/v10/channels/{id}/messages?limit= (newest first), GET /api/v10/channels/{id}, GET
/api/v10/guilds/{id}/channels, POST /api/v10/webhooks/{id}/{token}?wait=true (no Authorization;
the URL is the secret). GET /users/@me (login), /oauth2/applications/@me (`flags` carries the
message content intent: GATEWAY_MESSAGE_CONTENT for verified apps,
GATEWAY_MESSAGE_CONTENT_LIMITED for the others), /users/@me/guilds (limit/before/after paging),
/applications/{app}/commands and /applications/{app}/guilds/{guild}/commands (the synced slash
commands).
Errors carry Discord's JSON (`{"message", "code"}`), a 429 also `retry_after` and the Retry-After
header. Every request is recorded in `calls`; `faults` plans 401/404/429 answers or stalls.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.faults import Faults

GUILD_ID = "111111111111111111"
STALL_AFTER = web.RequestKey("stall_after", float)
APP_ID = "666666666666666666"
BOT_USER = {
    "id": "222222222222222222",
    "username": "opsbot",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}
# Application flags (discord.com/developers/docs/resources/application#application-object-flags)
GATEWAY_MESSAGE_CONTENT = 1 << 18  # the intent switched on, verified app
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19  # the intent switched on, app in fewer than 100 servers


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass
class FakeDiscord:
    token: str = "MTIzNDU2Nzg5.fake.discord-bot-token"
    webhook_id: str = "333333333333333333"
    webhook_token: str = "whsecret-abc_DEF-123"
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Request] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    app_flags: int = GATEWAY_MESSAGE_CONTENT_LIMITED  # 0: the intent is off in the portal
    guilds: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": GUILD_ID, "name": "Team", "icon": None, "owner": False}]
    )
    global_commands: list[dict[str, Any]] = field(default_factory=list)
    guild_commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        if not self.channels:
            rows = [
                ("444444444444444440", "Team", 4, None, 0),
                ("444444444444444441", "general", 0, "444444444444444440", 1),
                ("444444444444444442", "reports", 0, "444444444444444440", 2),
                ("444444444444444443", "Standup", 2, "444444444444444440", 3),
            ]
            for cid, name, kind, parent, position in rows:
                self.channels[cid] = {
                    "id": cid,
                    "type": kind,
                    "guild_id": GUILD_ID,
                    "name": name,
                    "parent_id": parent,
                    "position": position,
                }
        self._ids = (_snowflake(n) for n in itertools.count())
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def reset(self) -> None:
        """Forget the calls, the messages and any planned faults."""
        self.calls.clear()
        self.messages.clear()
        self.faults.queue.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/{self.webhook_id}/{self.webhook_token}"

    def posted(self, channel_id: str | None = None) -> list[str]:
        """Contents of the messages posted (to one channel, or the webhook's as 'webhook')."""
        return [m["content"] for m in self.messages if channel_id in (None, m["channel_id"])]

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_route("POST", "/api/v10/channels/{channel}/messages", self._post_message)
        app.router.add_route("GET", "/api/v10/channels/{channel}/messages", self._list_messages)
        app.router.add_route("GET", "/api/v10/channels/{channel}", self._get_channel)
        app.router.add_route("GET", "/api/v10/users/@me", self._me)
        app.router.add_route("GET", "/api/v10/guilds/{guild}/channels", self._guild_channels)
        app.router.add_route("POST", "/api/v10/webhooks/{id}/{token}", self._webhook)
        app.router.add_route("GET", "/api/v10/users/@me/guilds", self._my_guilds)
        app.router.add_route("GET", "/api/v10/oauth2/applications/@me", self._application)
        app.router.add_route("GET", "/api/v10/applications/{app}/commands", self._commands)
        app.router.add_route(
            "GET", "/api/v10/applications/{app}/guilds/{guild}/commands", self._commands
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        assert self._runner is not None
        await self._runner.cleanup()

    # -- plumbing ------------------------------------------------------------------------------
    async def _record(self, request: web.Request) -> web.Response | None:
        """Record the call; answer a planned fault or a missing/wrong bot token, else None."""
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.calls.append(
            Request(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        fault = self.faults.take(request.path)
        if fault is not None and fault.delivered:
            request[STALL_AFTER] = fault.stall
            fault = None
        if fault is not None and fault.status is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.stall)
            return _error(504, "Gateway Timeout", 0)
        if fault is not None and fault.status == 429:
            wait = fault.retry_after if fault.retry_after is not None else 1.0
            return _json(
                {"message": "You are being rate limited.", "retry_after": wait, "global": False},
                status=429,
                headers={"Retry-After": f"{wait:g}", "X-RateLimit-Scope": "user"},
            )
        if fault is not None:
            return _error(fault.status or 500, *_STANDARD.get(fault.status or 500, ("Error", 0)))
        is_webhook = request.path.startswith("/api/v10/webhooks/")
        if not is_webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, "401: Unauthorized", 0)
        return None

    def _message(self, channel_id: str, body: Any, webhook: bool = False) -> dict[str, Any]:
        content = (body or {}).get("content") or ""
        message = {
            "id": str(next(self._ids)),
            "type": 0,
            "channel_id": channel_id,
            "content": content,
            "author": {"id": self.webhook_id, "username": "Ops", "bot": True}
            if webhook
            else BOT_USER,
            "timestamp": datetime.now(UTC).isoformat(),
            "tts": False,
            "mention_everyone": False,
            "embeds": [],
            "attachments": [],
        }
        if webhook:
            message["webhook_id"] = self.webhook_id
        self.messages.append(message)
        return message

    def _check_content(self, body: Any) -> web.Response | None:
        content = (body or {}).get("content") or ""
        if not content:
            return _error(400, "Cannot send an empty message", 50006)
        if len(content) > 2000:
            return _json(
                {
                    "message": "Invalid Form Body",
                    "code": 50035,
                    "errors": {
                        "content": {
                            "_errors": [
                                {
                                    "code": "BASE_TYPE_MAX_LENGTH",
                                    "message": "Must be 2000 or fewer in length.",
                                }
                            ]
                        }
                    },
                },
                status=400,
            )
        return None

    # -- routes --------------------------------------------------------------------------------
    async def _post_message(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        channel = request.match_info["channel"]
        if channel not in self.channels or self.channels[channel]["type"] == 4:
            return _error(404, "Unknown Channel", 10003)
        body = self.calls[-1].body
        if (bad := self._check_content(body)) is not None:
            return bad
        nonce = (body or {}).get("nonce")
        first = next(
            (m for m in self.messages if nonce and m.get("_nonce") == nonce),
            None,
        )
        if first is not None and body.get("enforce_nonce"):
            return _json(_public(first, with_nonce=True))
        message = self._message(channel, body)
        if nonce:
            message["_nonce"] = nonce
        if (stall := request.get(STALL_AFTER)) is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), stall)
            return _error(504, "Gateway Timeout", 0)
        return _json(_public(message, with_nonce=True))

    async def _list_messages(self, request: web.Request) -> web.Response:
        """The channel's latest messages, newest first; like Discord's list, without nonces."""
        if (early := await self._record(request)) is not None:
            return early
        channel = request.match_info["channel"]
        if channel not in self.channels:
            return _error(404, "Unknown Channel", 10003)
        limit = int(request.query.get("limit", "50"))
        latest = [m for m in self.messages if m["channel_id"] == channel][::-1][:limit]
        return _json([_public(m) for m in latest])

    async def _get_channel(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return _error(404, "Unknown Channel", 10003)
        return _json(channel)

    async def _me(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        return _json(BOT_USER)

    async def _guild_channels(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        guild = request.match_info["guild"]
        if guild != GUILD_ID:
            return _error(404, "Unknown Guild", 10004)
        return _json([c for c in self.channels.values() if c["guild_id"] == guild])

    async def _webhook(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        if request.match_info["id"] != self.webhook_id:
            return _error(404, "Unknown Webhook", 10015)
        if request.match_info["token"] != self.webhook_token:
            return _error(401, "Invalid Webhook Token", 50027)
        body = self.calls[-1].body
        if (bad := self._check_content(body)) is not None:
            return bad
        message = self._message("webhook", body, webhook=True)
        if request.query.get("wait") == "true":
            return _json(message)
        return web.Response(status=204)

    async def _application(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        owner = {**BOT_USER, "id": "777777777777777777", "username": "owner", "bot": False}
        return _json(
            {
                "id": APP_ID,
                "name": "opsbot",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": owner,
                "verify_key": "0" * 64,
                "flags": self.app_flags,
                "bot": BOT_USER,
            }
        )

    async def _my_guilds(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        limit = min(int(request.query.get("limit", 200)), 200)
        rows = sorted(self.guilds, key=lambda g: int(g["id"]))
        if "after" in request.query:
            rows = [g for g in rows if int(g["id"]) > int(request.query["after"])]
        if "before" in request.query:
            rows = [g for g in rows if int(g["id"]) < int(request.query["before"])][-limit:]
        return _json([{"features": [], "permissions": "2147483648", **g} for g in rows[:limit]])

    async def _commands(self, request: web.Request) -> web.Response:
        if (early := await self._record(request)) is not None:
            return early
        if request.match_info["app"] != APP_ID:
            return _error(403, "Missing Access", 50001)
        guild = request.match_info.get("guild")
        if guild is None:
            return _json(self.global_commands)
        if guild not in {g["id"] for g in self.guilds}:
            return _error(403, "Missing Access", 50001)
        return _json(self.guild_commands.get(guild, []))


def slash_command(name: str, guild_id: str | None = None) -> dict[str, Any]:
    """A synced slash command as Discord lists it."""
    command = {
        "id": str(888888888888888800 + len(name)),
        "application_id": APP_ID,
        "version": "1",
        "type": 1,
        "name": name,
        "description": name,
        "options": [],
    }
    if guild_id is not None:
        command["guild_id"] = guild_id
    return command


_STANDARD = {
    401: ("401: Unauthorized", 0),
    403: ("Missing Access", 50001),
    404: ("Unknown Channel", 10003),
    500: ("Internal Server Error", 0),
}


DISCORD_EPOCH_MS = 1_420_070_400_000


def _snowflake(sequence: int) -> int:
    """An id that dates its message, as Discord's do (clients read the time from it)."""
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (sequence & 0xFFF)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with Discord's exact content type (discord.py parses only `application/json`)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _public(message: dict[str, Any], with_nonce: bool = False) -> dict[str, Any]:
    """A message as the API shows it: the nonce only in the answer to the send itself."""
    shown = {k: v for k, v in message.items() if not k.startswith("_")}
    if with_nonce and "_nonce" in message:
        shown["nonce"] = message["_nonce"]
    return shown


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status=status)
