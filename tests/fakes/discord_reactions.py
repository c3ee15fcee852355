"""The fake Discord's reaction routes (issue 31): PUT and DELETE
`/channels/{channel}/messages/{message}/reactions/{emoji}/@me`, checked as Discord does: an
unknown channel (10003) or message (10008), an emoji that is neither a Unicode emoji nor
`name:id` (10014 Unknown Emoji). What the bot's reactions are now is kept per message."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.discord_checks import error

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

CUSTOM = re.compile(r"^[\w~]{2,32}:\d{17,20}$")


def known_emoji(emoji: str) -> bool:
    """Unicode emoji have no ASCII letters or digits; custom ones are `name:id`."""
    return bool(emoji) and (CUSTOM.match(emoji) is not None or not re.search(r"[\w:]", emoji))


class ReactionRoutes:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.current: dict[str, list[str]] = {}  # message id -> the bot's reactions on it
        self.history: dict[str, list[str]] = {}  # message id -> "+👀", "-👀", "+✅" ...

    def add_routes(self, app: web.Application) -> None:
        path = "/api/v10/channels/{channel}/messages/{message}/reactions/{emoji}/@me"
        app.router.add_route("PUT", path, self.add)
        app.router.add_route("DELETE", path, self.remove)

    def _check(self, request: web.Request) -> tuple[str, str] | web.Response:
        channel, message = request.match_info["channel"], request.match_info["message"]
        emoji = unquote(request.match_info["emoji"])
        if channel not in self.fake.channels:
            return error(404, "Unknown Channel", 10003)
        if not any(m["id"] == message and m["channel_id"] == channel for m in self.fake.messages):
            return error(404, "Unknown Message", 10008)
        if not known_emoji(emoji):
            return error(400, "Unknown Emoji", 10014)
        return message, emoji

    async def add(self, request: web.Request) -> web.Response:
        if (early := await self.fake.record(request)) is not None:
            return early
        checked = self._check(request)
        if isinstance(checked, web.Response):
            return checked
        message, emoji = checked
        mine = self.current.setdefault(message, [])
        if emoji not in mine:
            mine.append(emoji)
        self.history.setdefault(message, []).append(f"+{emoji}")
        return web.Response(status=204)

    async def remove(self, request: web.Request) -> web.Response:
        if (early := await self.fake.record(request)) is not None:
            return early
        checked = self._check(request)
        if isinstance(checked, web.Response):
            return checked
        message, emoji = checked
        if emoji in self.current.get(message, []):
            self.current[message].remove(emoji)
        self.history.setdefault(message, []).append(f"-{emoji}")
        return web.Response(status=204)
