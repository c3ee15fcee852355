"""A fake Discord REST API v10 on 127.0.0.1: channel messages, guild channels, webhooks,
interactions, and what a bot's login and `orchestrator doctor` read.

Bodies are checked as Discord checks them (`discord_checks`: content, embeds, components,
allowed_mentions, message_reference, nonce); interaction callbacks and follow-ups with their
deadlines live in `discord_interactions`. Messages users wrote (`user_message`) are held too, so
a reply to one is checked against the channel, as Discord does.

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

from aiohttp import BodyPartReader, web

from tests.fakes.discord_checks import (
    error,
    form_error,
    is_empty,
    json_response,
    message_problems,
    reference_problems,
)
from tests.fakes.discord_interactions import COMPONENT, Interaction, InteractionRoutes
from tests.fakes.discord_reactions import ReactionRoutes
from tests.fakes.discord_threads import post_refusal, start_problems, thread_channel
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
    status: int = 0  # the fake's answer, once given


CALL = web.RequestKey("call", Request)


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
    interactions: dict[str, Interaction] = field(default_factory=dict)  # by token
    port: int = 0
    files: dict[str, bytes] = field(default_factory=dict)  # attachment id -> bytes (issue 31)
    downloads: list[str] = field(default_factory=list)

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
                    "permission_overwrites": [],
                    "nsfw": False,
                }
                if kind == 2:  # voice: what discord.py reads of one
                    self.channels[cid].update(bitrate=64000, user_limit=0, rtc_region=None)
        self._sequence = itertools.count()  # shared: ids made in one millisecond stay distinct
        self._ids = (_snowflake(n) for n in self._sequence)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.routes = InteractionRoutes(self)
        self.reactions = ReactionRoutes(self)  # issue 31

    def reset(self) -> None:
        """Forget the calls, the messages and any planned faults."""
        self.calls.clear()
        self.messages.clear()
        self.faults.queue.clear()
        self.interactions.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/{self.webhook_id}/{self.webhook_token}"

    def posted(self, channel_id: str | None = None) -> list[str]:
        """Contents of the messages posted (to one channel, or the webhook's as 'webhook'),
        interaction answers included, users' own messages left out."""
        return [
            m["content"]
            for m in self.messages
            if channel_id in (None, m["channel_id"]) and not m.get("_user")
        ]

    def interaction(
        self,
        kind: int,
        channel_id: str,
        message_id: str | None = None,
        age: float = 0.0,
        user: dict[str, Any] | None = None,
    ) -> Interaction:
        """Hand out an interaction (a new id dated `age` seconds ago, and a token) that the
        gateway is about to deliver; its callback and follow-ups are then accepted."""
        created_ms = int((time.time() - age) * 1000)
        snowflake = ((created_ms - DISCORD_EPOCH_MS) << 22) | (next(self._sequence) & 0xFFF)
        token = f"aW50ZXJhY3Rpb246{snowflake}:fake-interaction-token"
        found = Interaction(str(snowflake), token, kind, channel_id, message_id, user or {})
        self.interactions[token] = found
        return found

    # -- f31a threads ---------------------------------------------------------------------------
    def add_thread(self, parent_id: str, name: str, owner_id: str = BOT_USER["id"]) -> str:
        """A public thread in a text channel (the gateway learns of it by THREAD_CREATE)."""
        thread_id = str(next(self._ids))
        self.channels[thread_id] = thread_channel(
            thread_id, self.channels[parent_id], name, owner_id
        )
        return thread_id

    def set_thread(self, thread_id: str, *, archived: bool, locked: bool) -> None:
        self.channels[thread_id]["thread_metadata"].update(archived=archived, locked=locked)

    def delete_thread(self, thread_id: str) -> None:
        self.channels.pop(thread_id, None)

    # -- end f31a -------------------------------------------------------------------------------
    def user_message(
        self, channel_id: str, author: dict[str, Any], content: str, **extra: Any
    ) -> dict[str, Any]:
        """A message a person wrote: held in the channel, returned for the gateway payload."""
        return self.add_message(channel_id, {"content": content, **extra}, author=author)

    def add_message(
        self,
        channel_id: str,
        body: dict[str, Any],
        *,
        author: dict[str, Any] | None = None,
        interaction: Interaction | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": str(next(self._ids)),
            "type": 0 if interaction is None or interaction.kind == COMPONENT else 20,
            "channel_id": channel_id,
            "content": body.get("content") or "",
            "author": author or BOT_USER,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": body.get("mentions", []),
            "mention_roles": [],
            "pinned": False,
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": body.get("attachments", []) if author is not None else [],
            "flags": body.get("flags") or 0,
        }
        if "message_reference" in body:
            reference = {
                k: str(v) if k.endswith("_id") and v is not None else v
                for k, v in body["message_reference"].items()
            }
            message["message_reference"] = {"channel_id": channel_id, **reference}
        if interaction is not None:
            message["interaction_metadata"] = {
                "id": interaction.id,
                "type": interaction.kind,
                "user": interaction.user,
                "authorizing_integration_owners": {"0": GUILD_ID},
            }
            message["webhook_id"] = APP_ID
        if author is not None:
            message["_user"] = True
        if "allowed_mentions" in body:
            message["_allowed_mentions"] = body["allowed_mentions"]
        self.messages.append(message)
        return message

    def edit_message(self, message_id: str, body: dict[str, Any]) -> dict[str, Any] | None:
        found = next((m for m in self.messages if m["id"] == message_id), None)
        if found is not None:
            for key in ("content", "embeds", "components", "flags"):
                if key in body:
                    found[key] = body[key] if body[key] is not None else found[key]
            found["edited_timestamp"] = datetime.now(UTC).isoformat()
        return found

    def public(self, message: dict[str, Any], with_nonce: bool = False) -> dict[str, Any]:
        return _public(message, with_nonce)

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[_note_status])
        app.router.add_route("POST", "/api/v10/channels/{channel}/messages", self._post_message)
        app.router.add_route("GET", "/api/v10/channels/{channel}/messages", self._list_messages)
        app.router.add_route(
            "POST", "/api/v10/channels/{channel}/messages/{message}/threads", self._start_thread
        )
        app.router.add_route("GET", "/api/v10/channels/{channel}", self._get_channel)
        app.router.add_route("POST", "/api/v10/channels/{channel}/typing", self._typing)
        app.router.add_route("GET", "/attachments/{channel}/{id}/{name}", self._attachment)
        app.router.add_route(
            "GET", "/api/v10/channels/{channel}/messages/{message}", self._get_message
        )
        app.router.add_route("GET", "/api/v10/users/@me", self._me)
        app.router.add_route("POST", "/api/v10/users/@me/channels", self._open_dm)
        app.router.add_route("GET", "/api/v10/guilds/{guild}/channels", self._guild_channels)
        app.router.add_route("POST", "/api/v10/webhooks/{id}/{token}", self._webhook)
        app.router.add_route("GET", "/api/v10/users/@me/guilds", self._my_guilds)
        app.router.add_route("GET", "/api/v10/oauth2/applications/@me", self._application)
        app.router.add_route("GET", "/api/v10/applications/{app}/commands", self._commands)
        app.router.add_route(
            "GET", "/api/v10/applications/{app}/guilds/{guild}/commands", self._commands
        )
        self.routes.add_routes(app)
        self.reactions.add_routes(app)
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
    async def record(self, request: web.Request, auth: bool = True) -> web.Response | None:
        """Record the call; answer a planned fault or a missing/wrong bot token, else None."""
        if request.content_type == "multipart/form-data":  # files (issue 31)
            body = await self.multipart_body(request)
        else:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        call = Request(
            request.method, request.path, dict(request.query), dict(request.headers), body
        )
        request[CALL] = call
        self.calls.append(call)
        fault = self.faults.take(request.path)
        if fault is not None and fault.delivered:
            request[STALL_AFTER] = fault.stall
            fault = None
        if fault is not None and fault.status is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.stall)
            return error(504, "Gateway Timeout", 0)
        if fault is not None and fault.status == 429:
            wait = fault.retry_after if fault.retry_after is not None else 1.0
            return json_response(
                {"message": "You are being rate limited.", "retry_after": wait, "global": False},
                status=429,
                headers={
                    "Retry-After": f"{wait:g}",
                    "X-RateLimit-Scope": "user",
                    "Via": "1.1 google",  # Discord's own 429s (not Cloudflare's) carry it
                },
            )
        if fault is not None:
            return error(fault.status or 500, *_STANDARD.get(fault.status or 500, ("Error", 0)))
        is_webhook = request.path.startswith("/api/v10/webhooks/")
        if auth and not is_webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return error(401, "401: Unauthorized", 0)
        return None

    # -- routes --------------------------------------------------------------------------------
    async def _post_message(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        channel = request.match_info["channel"]
        if channel not in self.channels or self.channels[channel]["type"] == 4:
            return error(404, "Unknown Channel", 10003)
        if (refused := post_refusal(self.channels[channel])) is not None:  # f31a threads
            return error(*refused)
        body = self.calls[-1].body
        known = {m["id"] for m in self.messages if m["channel_id"] == channel}
        if problems := message_problems(body, flags_allowed=0) + reference_problems(body, known):
            return form_error(problems)
        if is_empty(body):
            return error(400, "Cannot send an empty message", 50006)
        nonce = (body or {}).get("nonce")
        first = next(
            (m for m in self.messages if nonce and m.get("_nonce") == nonce),
            None,
        )
        if first is not None and body.get("enforce_nonce"):
            return json_response(_public(first, with_nonce=True))
        message = self.add_message(channel, body)
        message["attachments"] = self.stored_uploads(channel, message["id"], body)
        if nonce:
            message["_nonce"] = nonce
        if (stall := request.get(STALL_AFTER)) is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), stall)
            return error(504, "Gateway Timeout", 0)
        return json_response(_public(message, with_nonce=True))

    async def _start_thread(self, request: web.Request) -> web.Response:
        """Start Thread from Message (f31a): the thread gets the message's id."""
        if (early := await self.record(request)) is not None:
            return early
        channel, message_id = request.match_info["channel"], request.match_info["message"]
        parent = self.channels.get(channel)
        if parent is None:
            return error(404, "Unknown Channel", 10003)
        if parent["type"] not in (0, 5):
            return error(400, "Cannot execute action on this channel type", 50024)
        if not any(m["id"] == message_id and m["channel_id"] == channel for m in self.messages):
            return error(404, "Unknown Message", 10008)
        if message_id in self.channels:
            return error(400, "A thread has already been created for this message", 160004)
        body = self.calls[-1].body
        if problems := start_problems(body):
            return form_error(problems)
        thread = thread_channel(message_id, parent, body["name"], BOT_USER["id"])
        self.channels[message_id] = thread
        return json_response(thread, status=201)

    async def _list_messages(self, request: web.Request) -> web.Response:
        """The channel's latest messages, newest first; like Discord's list, without nonces."""
        if (early := await self.record(request)) is not None:
            return early
        channel = request.match_info["channel"]
        if channel not in self.channels:
            return error(404, "Unknown Channel", 10003)
        limit = int(request.query.get("limit", "50"))
        latest = [m for m in self.messages if m["channel_id"] == channel][::-1][:limit]
        return json_response([_public(m) for m in latest])

    # -- files (issue 31): uploads as Discord takes them, attachments served as its CDN does ----
    async def multipart_body(self, request: web.Request) -> dict[str, Any]:
        """`payload_json` plus `files[n]` parts, as Discord documents message uploads."""
        return await read_multipart(request)

    def attachment(self, channel: str, filename: str, data: bytes, content_type: str) -> Any:
        """A file a person attached: served at its `url`, described as Discord describes it."""
        attachment_id = str(next(self._ids))
        self.files[attachment_id] = data
        url = f"{self.cdn_url}/attachments/{channel}/{attachment_id}/{filename}"
        return attachment_doc(attachment_id, filename, data, content_type, url)

    def stored_uploads(self, channel: str, message_id: str, body: Any) -> list[dict[str, Any]]:
        uploads = (body or {}).get("_uploads") or []
        return [
            self.attachment(channel, u["filename"], u["data"], u["content_type"]) for u in uploads
        ]

    async def _get_message(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        channel, message_id = request.match_info["channel"], request.match_info["message"]
        found = next(
            (m for m in self.messages if m["id"] == message_id and m["channel_id"] == channel),
            None,
        )
        if found is None:
            return error(404, "Unknown Message", 10008)
        return json_response(_public(found))

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["id"])
        if data is None:
            return error(404, "Not Found", 0)
        self.downloads.append(request.match_info["id"])
        return web.Response(body=data, content_type="application/octet-stream")

    async def _typing(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        if request.match_info["channel"] not in self.channels:
            return error(404, "Unknown Channel", 10003)
        return web.Response(status=204)

    async def _get_channel(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        return json_response(channel)

    async def _open_dm(self, request: web.Request) -> web.Response:
        """Create DM (Discord: returns the existing DM channel with that recipient, if any)."""
        if (early := await self.record(request)) is not None:
            return early
        recipient = str((self.calls[-1].body or {}).get("recipient_id") or "")
        if not recipient.isdigit():
            return form_error([("recipient_id", "BASE_TYPE_REQUIRED", "This field is required")])
        for channel in self.channels.values():
            if channel["type"] == 1 and [u["id"] for u in channel["recipients"]] == [recipient]:
                return json_response(channel)
        user = {
            "id": recipient,
            "username": f"user{recipient[-4:]}",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
        }
        dm_id = str(900000000000000000 + len(self.channels))
        self.channels[dm_id] = {
            "id": dm_id,
            "type": 1,
            "recipients": [user],
            "last_message_id": None,
        }
        return json_response(self.channels[dm_id])

    async def _me(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        return json_response(BOT_USER)

    async def _guild_channels(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        guild = request.match_info["guild"]
        if guild != GUILD_ID:
            return error(404, "Unknown Guild", 10004)
        return json_response([c for c in self.channels.values() if c["guild_id"] == guild])

    async def _webhook(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is not None and request.match_info["id"] == APP_ID:
            return await self.routes.follow_up(request, interaction)
        if request.match_info["id"] != self.webhook_id:
            return error(404, "Unknown Webhook", 10015)
        if request.match_info["token"] != self.webhook_token:
            return error(401, "Invalid Webhook Token", 50027)
        body = self.calls[-1].body
        if problems := message_problems(body, flags_allowed=0):
            return form_error(problems)
        if is_empty(body):
            return error(400, "Cannot send an empty message", 50006)
        author = {"id": self.webhook_id, "username": "Ops", "bot": True}
        message = self.add_message("webhook", body, author=author)
        message.pop("_user")
        message["webhook_id"] = self.webhook_id
        if request.query.get("wait") == "true":
            return json_response(_public(message))
        return web.Response(status=204)

    async def _application(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        owner = {**BOT_USER, "id": "777777777777777777", "username": "owner", "bot": False}
        return json_response(
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
        if (early := await self.record(request)) is not None:
            return early
        limit = min(int(request.query.get("limit", 200)), 200)
        rows = sorted(self.guilds, key=lambda g: int(g["id"]))
        if "after" in request.query:
            rows = [g for g in rows if int(g["id"]) > int(request.query["after"])]
        if "before" in request.query:
            rows = [g for g in rows if int(g["id"]) < int(request.query["before"])][-limit:]
        return json_response(
            [{"features": [], "permissions": "2147483648", **g} for g in rows[:limit]]
        )

    async def _commands(self, request: web.Request) -> web.Response:
        if (early := await self.record(request)) is not None:
            return early
        if request.match_info["app"] != APP_ID:
            return error(403, "Missing Access", 50001)
        guild = request.match_info.get("guild")
        if guild is None:
            return json_response(self.global_commands)
        if guild not in {g["id"] for g in self.guilds}:
            return error(403, "Missing Access", 50001)
        return json_response(self.guild_commands.get(guild, []))


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


@web.middleware
async def _note_status(request: web.Request, handler: Any) -> web.StreamResponse:
    """Keep each answer's status beside its recorded call."""
    response: web.StreamResponse = await handler(request)
    if (call := request.get(CALL)) is not None:
        call.status = response.status
    return response


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


def _public(message: dict[str, Any], with_nonce: bool = False) -> dict[str, Any]:
    """A message as the API shows it: the nonce only in the answer to the send itself."""
    shown = {k: v for k, v in message.items() if not k.startswith("_")}
    if with_nonce and "_nonce" in message:
        shown["nonce"] = message["_nonce"]
    return shown


# -- files (issue 31) ------------------------------------------------------------------------------
UPLOAD_LIMIT = 10 * 1024 * 1024  # a bot's upload limit in a server without boosts


async def read_multipart(request: web.Request) -> dict[str, Any]:
    """A message upload: `payload_json` (the JSON body) and `files[n]` parts; each file must be
    named in `payload_json.attachments` by its index, as Discord requires."""
    reader = await request.multipart()
    body: dict[str, Any] = {}
    uploads: dict[int, dict[str, Any]] = {}
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        if name == "payload_json":
            body = json.loads(await part.text())
        elif name.startswith("files["):
            index = int(name[6:-1])
            data = bytes(await part.read())
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            uploads[index] = {"filename": part.filename, "data": data, "content_type": content_type}
    described = {int(a["id"]): a for a in body.get("attachments", [])}
    for index, upload in uploads.items():
        if index not in described:
            raise web.HTTPBadRequest(text=f"files[{index}] is not in payload_json.attachments")
        if len(upload["data"]) > UPLOAD_LIMIT:
            raise web.HTTPRequestEntityTooLarge(
                max_size=UPLOAD_LIMIT, actual_size=len(upload["data"])
            )
    body["_uploads"] = [uploads[i] for i in sorted(uploads)]
    return body


def attachment_doc(
    attachment_id: str, filename: str, data: bytes, content_type: str, url: str
) -> dict[str, Any]:
    return {
        "id": attachment_id,
        "filename": filename,
        "size": len(data),
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
    }
