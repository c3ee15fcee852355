"""The interaction half of the fake Discord REST API: callbacks, follow-ups, the deadlines.

POST /interactions/{id}/{token}/callback answers an interaction once (type 4 message, 5 deferred
message, 6 deferred update and 7 message update, the last two for component interactions only),
within 3 seconds of the interaction's creation (read from its snowflake id, as Discord does);
late or unknown: 404 `Unknown interaction` (10062); twice: 400 (40060). Follow-ups,
POST /webhooks/{application_id}/{token}?wait=true, and PATCH/GET .../messages/@original need the
interaction answered first (else 404 `Unknown Webhook`, 10015) and work for 15 minutes
(then 401 `Invalid Webhook Token`, 50027). A tester registers each interaction it sends the bot
(`FakeDiscord.interaction`), as Discord knows every interaction it hands out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.discord_checks import (
    EPHEMERAL,
    error,
    form_error,
    is_empty,
    json_response,
    message_problems,
)

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

DISCORD_EPOCH_MS = 1_420_070_400_000
RESPOND_WITHIN = 3.0  # seconds from creation to the initial response
FOLLOW_UP_FOR = 15 * 60.0  # seconds the token works for follow-ups
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE = 4, 5, 6, 7
APPLICATION_COMMAND, COMPONENT = 2, 3


def created_at(snowflake: int) -> float:
    """The Unix time a snowflake id was made (what Discord's deadlines count from)."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


@dataclass
class Interaction:
    id: str
    token: str
    kind: int  # 2 application command, 3 component
    channel_id: str
    message_id: str | None = None  # the message whose button was pressed
    user: dict[str, Any] = field(default_factory=dict)  # who started it
    responses: list[int] = field(default_factory=list)  # callback types, in order
    original: dict[str, Any] | None = None  # the message the response created
    follow_ups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def created(self) -> float:
        return created_at(int(self.id))

    @property
    def deferred(self) -> bool:
        return bool(self.responses) and self.responses[0] in (DEFERRED_MESSAGE, DEFERRED_UPDATE)

    def answers(self) -> list[dict[str, Any]]:
        """What the user sees: the response's message, then each follow-up."""
        first = [self.original] if self.original and self.original.get("content") else []
        return first + self.follow_ups


class InteractionRoutes:
    """Route handlers bound to one FakeDiscord (its messages, ids, clock and faults)."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.respond_within = RESPOND_WITHIN
        self.follow_up_for = FOLLOW_UP_FOR

    def add_routes(self, app: web.Application) -> None:
        base = "/api/v10"
        app.router.add_route(
            "POST", f"{base}/interactions/{{id}}/{{token}}/callback", self.callback
        )
        original = f"{base}/webhooks/{{app}}/{{token}}/messages/@original"
        app.router.add_route("PATCH", original, self.edit_original)
        app.router.add_route("GET", original, self.get_original)

    def _known(self, request: web.Request) -> Interaction | None:
        found = self.fake.interactions.get(request.match_info["token"])
        if found is None or found.id != request.match_info.get("id", found.id):
            return None
        return found

    async def callback(self, request: web.Request) -> web.Response:
        if (early := await self.fake.record(request, auth=False)) is not None:
            return early
        interaction = self._known(request)
        if interaction is None or time.time() - interaction.created > self.respond_within:
            return error(404, "Unknown interaction", 10062)
        if interaction.responses:
            return error(400, "Interaction has already been acknowledged.", 40060)
        body = self.fake.calls[-1].body or {}
        kind = body.get("type")
        allowed = {MESSAGE, DEFERRED_MESSAGE}
        if interaction.kind == COMPONENT:
            allowed |= {DEFERRED_UPDATE, UPDATE}
        if kind not in allowed:
            return form_error(
                [("type", "BASE_TYPE_CHOICES", f"Value must be one of {sorted(allowed)}.")]
            )
        data = body.get("data") or {}
        if kind in (MESSAGE, UPDATE):
            if problems := message_problems(data):
                return form_error(problems)
            if kind == MESSAGE and is_empty(data):
                return error(400, "Cannot send an empty message", 50006)
        elif kind == DEFERRED_MESSAGE and data.get("flags", 0) & ~EPHEMERAL:
            return form_error([("data.flags", "MESSAGE_FLAGS_INVALID", "Invalid message flags.")])
        interaction.responses.append(kind)
        message: dict[str, Any] | None = None
        if kind == MESSAGE:
            message = self.fake.add_message(interaction.channel_id, data, interaction=interaction)
            interaction.original = message
        elif kind == DEFERRED_MESSAGE:  # "Bot is thinking...": content comes by follow-up/edit
            message = self.fake.add_message(
                interaction.channel_id, {"flags": data.get("flags", 0)}, interaction=interaction
            )
            interaction.original = message
        elif kind == UPDATE and interaction.message_id is not None:
            message = self.fake.edit_message(interaction.message_id, data)
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction.id,
                "type": interaction.kind,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == DEFERRED_MESSAGE,
                "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL),
            }
        }
        if message is not None and kind in (MESSAGE, UPDATE):
            answer["resource"] = {"type": kind, "message": self.fake.public(message)}
        return json_response(answer)

    def follow_up_refused(self, interaction: Interaction) -> web.Response | None:
        if not interaction.responses:
            return error(404, "Unknown Webhook", 10015)
        if time.time() - interaction.created > self.follow_up_for:
            return error(401, "Invalid Webhook Token", 50027)
        return None

    async def follow_up(self, request: web.Request, interaction: Interaction) -> web.Response:
        """POST /webhooks/{application_id}/{token}: a further message (the fake's `_webhook`
        hands interaction tokens here after recording the call)."""
        if (refused := self.follow_up_refused(interaction)) is not None:
            return refused
        body = self.fake.calls[-1].body or {}
        if problems := message_problems(body):
            return form_error(problems)
        if is_empty(body):
            return error(400, "Cannot send an empty message", 50006)
        message = self.fake.add_message(interaction.channel_id, body, interaction=interaction)
        message["attachments"] = self.fake.stored_uploads(
            interaction.channel_id, message["id"], body
        )
        interaction.follow_ups.append(message)
        if request.query.get("wait") in ("true", "1", "True"):
            return json_response(self.fake.public(message))
        return web.Response(status=204)

    async def edit_original(self, request: web.Request) -> web.Response:
        if (early := await self.fake.record(request, auth=False)) is not None:
            return early
        interaction = self._known(request)
        if interaction is None:
            return error(404, "Unknown Webhook", 10015)
        if (refused := self.follow_up_refused(interaction)) is not None:
            return refused
        body = self.fake.calls[-1].body or {}
        if problems := message_problems(body):
            return form_error(problems)
        if interaction.original is None:
            return error(404, "Unknown Message", 10008)
        edited = self.fake.edit_message(interaction.original["id"], body)
        assert edited is not None
        return json_response(self.fake.public(edited))

    async def get_original(self, request: web.Request) -> web.Response:
        if (early := await self.fake.record(request, auth=False)) is not None:
            return early
        interaction = self._known(request)
        if interaction is None or interaction.original is None:
            return error(404, "Unknown Message", 10008)
        return json_response(self.fake.public(interaction.original))
