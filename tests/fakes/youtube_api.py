"""A fake YouTube Data API v3 on 127.0.0.1: channels, playlistItems, videos, with an API key.

GET /youtube/v3/channels?part=...&id=|forHandle=, /playlistItems?playlistId=&maxResults=,
/videos?part=statistics,snippet&id=a,b. The key is the `key` query parameter. Counts are strings,
as the real API sends them; a channel not found is a 200 without `items`, as in the real API.
Errors carry Google's JSON ({"error": {"code", "message", "errors": [{"reason"}]}}). Every request
is recorded in `calls`; `faults` plans 401/403/404/429 answers or stalls, `quota_exceeded()` the
403 quotaExceeded answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.faults import Faults

CHANNEL_ID = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
HANDLE = "@teamchannel"
UPLOADS = "UU_x5XG1OV2P6uZZ5FSM9Ttw"
VIDEO_IDS = ["vid00000001", "vid00000002", "vid00000003", "vid00000004"]


@dataclass
class Request:
    path: str
    query: dict[str, str]


@dataclass
class FakeYouTube:
    key: str = "AIzaSyFAKE-youtube-key_0123456789"
    calls: list[Request] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    port: int = 0
    quota_left: int = 10_000

    def __post_init__(self) -> None:
        start = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        self.videos = {
            vid: {
                "kind": "youtube#video",
                "etag": f"etag-{vid}",
                "id": vid,
                "snippet": {
                    "publishedAt": (start - timedelta(days=3 * i))
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "channelId": CHANNEL_ID,
                    "title": f"Weekly update #{40 - i}",
                },
                "statistics": {
                    "viewCount": str(12000 - 2500 * i),
                    "likeCount": str(640 - 100 * i),
                    "favoriteCount": "0",
                    "commentCount": str(85 - 10 * i),
                },
            }
            for i, vid in enumerate(VIDEO_IDS)
        }
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def reset(self) -> None:
        """Forget the calls and any planned faults; the quota is full again."""
        self.calls.clear()
        self.faults.queue.clear()
        self.quota_left = 10_000

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/youtube/v3"

    def quota_exceeded(self, times: int = 1) -> None:
        self.faults.fail_next(403, times=times)
        self.quota_left = 0

    async def __aenter__(self) -> FakeYouTube:
        app = web.Application()
        app.router.add_route("GET", "/youtube/v3/{resource}", self._handle)
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

    async def _handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.calls.append(Request(request.path, query))
        fault = self.faults.take(request.path)
        if fault is not None and fault.status is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.stall)
            return _error(503, "The service is currently unavailable.", "backendError")
        if fault is not None:
            return self._fault(fault.status or 500, fault.retry_after)
        if query.get("key") != self.key:
            return _error(
                400,
                "API key not valid. Please pass a valid API key.",
                "badRequest",
                key_invalid=True,
            )
        resource = request.match_info["resource"]
        handler = {
            "channels": self._channels,
            "playlistItems": self._playlist_items,
            "videos": self._videos,
        }.get(resource)
        if handler is None:
            return _error(404, "Not Found", "notFound")
        if "part" not in query:
            return _error(
                400, "No filter selected. Expected one of: ...", "missingRequiredParameter"
            )
        return handler(query)

    def _fault(self, status: int, retry_after: float | None) -> web.Response:
        if status == 403 and self.quota_left == 0:
            return _error(
                403,
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                "quotaExceeded",
                domain="youtube.quota",
            )
        if status == 429:
            response = _error(429, "Resource has been exhausted.", "rateLimitExceeded")
            response.headers["Retry-After"] = f"{retry_after if retry_after is not None else 1:g}"
            return response
        messages = {
            401: ("Request is missing required authentication credential.", "required"),
            403: ("The caller does not have permission", "forbidden"),
            404: ("The requested resource was not found.", "notFound"),
        }
        message, reason = messages.get(status, ("Backend Error", "backendError"))
        return _error(status, message, reason)

    def _channels(self, query: dict[str, str]) -> web.Response:
        found = query.get("id") == CHANNEL_ID or query.get("forHandle", "").lower() == HANDLE
        doc: dict[str, Any] = {
            "kind": "youtube#channelListResponse",
            "etag": "etag-channels",
            "pageInfo": {"totalResults": int(found), "resultsPerPage": 5},
        }
        if found:
            parts = set(query["part"].split(","))
            item: dict[str, Any] = {"kind": "youtube#channel", "etag": "e", "id": CHANNEL_ID}
            if "snippet" in parts:
                item["snippet"] = {"title": "Team Channel", "customUrl": HANDLE}
            if "statistics" in parts:
                item["statistics"] = {
                    "viewCount": "1843392",
                    "subscriberCount": "15230",
                    "hiddenSubscriberCount": False,
                    "videoCount": "212",
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": UPLOADS}}
            doc["items"] = [item]
        return web.json_response(doc)

    def _playlist_items(self, query: dict[str, str]) -> web.Response:
        if query.get("playlistId") != UPLOADS:
            return _error(
                404,
                "The playlist identified with the request's <code>playlistId</code> parameter "
                "cannot be found.",
                "playlistNotFound",
                domain="youtube.playlistItem",
            )
        limit = int(query.get("maxResults", "5"))
        items = [
            {
                "kind": "youtube#playlistItem",
                "id": f"pli-{vid}",
                "contentDetails": {
                    "videoId": vid,
                    "videoPublishedAt": self.videos[vid]["snippet"]["publishedAt"],
                },
            }
            for vid in VIDEO_IDS[:limit]
        ]
        return web.json_response(
            {
                "kind": "youtube#playlistItemListResponse",
                "items": items,
                "pageInfo": {"totalResults": len(VIDEO_IDS), "resultsPerPage": limit},
            }
        )

    def _videos(self, query: dict[str, str]) -> web.Response:
        parts = set(query["part"].split(","))
        ids = [i for i in query.get("id", "").split(",") if i]
        items = [
            {k: v for k, v in self.videos[i].items() if k in {"kind", "etag", "id"} | parts}
            for i in ids
            if i in self.videos
        ]
        return web.json_response(
            {
                "kind": "youtube#videoListResponse",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )


def _error(
    status: int, message: str, reason: str, *, key_invalid: bool = False, domain: str = "global"
) -> web.Response:
    doc: dict[str, Any] = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }
    if key_invalid:
        doc["error"]["details"] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
        ]
    return web.json_response(doc, status=status)
