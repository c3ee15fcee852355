"""YouTube as an MCP server: channel statistics, recent uploads with their counts, one video.

Run: `python -m custom_servers.youtube_mcp_server` with YOUTUBE_API_KEY set (YouTube Data API v3,
sent as the `key` query parameter). YOUTUBE_CHANNEL is the default channel (an id or @handle);
YOUTUBE_API_URL points at another API (a fake in tests); YOUTUBE_TIMEOUT_SECONDS bounds each call.
The API returns counts as strings; the tools return numbers. The key never appears in a result,
an error or a log line.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

if __package__ in (None, ""):  # run as a script: python3 custom_servers/youtube_mcp_server.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from custom_servers._http import ApiError, Service, env_float, request
from custom_servers._serve import serve

DEFAULT_URL = "https://www.googleapis.com/youtube/v3"
KEY_ENV = "YOUTUBE_API_KEY"
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
READ = ToolAnnotations(read_only_hint=True, open_world_hint=True)

Channel = Annotated[
    str,
    Field(
        pattern=r"^(|UC[\w-]{22}|@[\w.-]{3,30})$",
        description="Channel id (UC...) or @handle; empty means the configured YOUTUBE_CHANNEL",
    ),
]


def _service() -> Service:
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ToolError(f"{KEY_ENV} is not set for the youtube server")
    return Service(
        name="YouTube",
        base_url=os.environ.get("YOUTUBE_API_URL", DEFAULT_URL).rstrip("/") + "/",
        credential_env=KEY_ENV,
        credential="API key",
        params={"key": key},
        secrets=(key,),
        timeout=env_float(os.environ, "YOUTUBE_TIMEOUT_SECONDS", 20.0),
    )


async def _get(path: str, **params: Any) -> dict[str, Any]:
    try:
        return dict(await request(_service(), "GET", path, params=params))
    except ApiError as exc:
        if exc.reason in QUOTA_REASONS:
            raise ToolError(
                f"YouTube Data API quota is used up ({exc.reason}); it resets at midnight "
                "Pacific time, or raise the quota in the Google Cloud console"
            ) from None
        if exc.status == 400 and exc.reason in {"keyInvalid", "badRequest"} and "key" in str(exc):
            raise ToolError(f"the YouTube API key was rejected; check {KEY_ENV}") from None
        raise


def _count(stats: dict[str, Any], name: str) -> int | None:
    """The API's string count as a number; None when the owner hides it."""
    value = stats.get(name)
    return int(value) if value is not None else None


async def _channel(channel: str, parts: str) -> dict[str, Any]:
    channel = channel or os.environ.get("YOUTUBE_CHANNEL", "")
    if not channel:
        raise ToolError("give a channel id or @handle (YOUTUBE_CHANNEL is not set)")
    if channel.startswith("@"):
        data = await _get("channels", part=parts, forHandle=channel)
    else:
        data = await _get("channels", part=parts, id=channel)
    items = data.get("items") or []
    if not items:
        raise ToolError(f"YouTube has no channel {channel!r}")
    return dict(items[0])


def _video(item: dict[str, Any]) -> dict[str, Any]:
    stats = item.get("statistics") or {}
    snippet = item.get("snippet") or {}
    return {
        "video_id": item.get("id"),
        "title": snippet.get("title"),
        "published_at": snippet.get("publishedAt"),
        "views": _count(stats, "viewCount"),
        "likes": _count(stats, "likeCount"),
        "comments": _count(stats, "commentCount"),
    }


def create_server() -> MCPServer:
    """YouTube Data API v3 tools: channel stats, recent uploads, one video's stats."""
    server = MCPServer(
        "youtube", version="1.0.0", instructions="Read YouTube channel and video statistics."
    )

    @server.tool(
        description="Subscriber, view and video counts of a YouTube channel (id or @handle)",
        annotations=READ,
    )
    async def get_channel_stats(channel: Channel = "") -> dict[str, Any]:
        item = await _channel(channel, "statistics,snippet")
        stats = item.get("statistics") or {}
        return {
            "channel_id": item.get("id"),
            "title": (item.get("snippet") or {}).get("title"),
            "handle": (item.get("snippet") or {}).get("customUrl"),
            "subscribers": None
            if stats.get("hiddenSubscriberCount")
            else _count(stats, "subscriberCount"),
            "views": _count(stats, "viewCount"),
            "videos": _count(stats, "videoCount"),
        }

    @server.tool(
        description="A channel's most recent uploads, newest first, with view, like and "
        "comment counts",
        annotations=READ,
    )
    async def list_recent_videos(
        channel: Channel = "",
        max_results: Annotated[int, Field(ge=1, le=50, description="How many uploads")] = 10,
    ) -> dict[str, Any]:
        item = await _channel(channel, "contentDetails")
        uploads = ((item.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        if not uploads:
            raise ToolError(f"YouTube lists no uploads for channel {item.get('id')!r}")
        playlist = await _get(
            "playlistItems", part="contentDetails", playlistId=uploads, maxResults=max_results
        )
        ids = [(p.get("contentDetails") or {}).get("videoId") for p in playlist.get("items") or []]
        ids = [i for i in ids if i]
        if not ids:
            return {"channel_id": item.get("id"), "videos": []}
        videos = await _get("videos", part="statistics,snippet", id=",".join(ids))
        by_id = {v.get("id"): _video(v) for v in videos.get("items") or []}
        return {"channel_id": item.get("id"), "videos": [by_id[i] for i in ids if i in by_id]}

    @server.tool(description="View, like and comment counts of one YouTube video", annotations=READ)
    async def get_video_stats(
        video_id: Annotated[
            str, Field(pattern=r"^[\w-]{11}$", description="The 11-character video id")
        ],
    ) -> dict[str, Any]:
        data = await _get("videos", part="statistics,snippet", id=video_id)
        items = data.get("items") or []
        if not items:
            raise ToolError(f"YouTube has no video {video_id!r}")
        return _video(items[0])

    return server


def main() -> None:
    serve(create_server, [KEY_ENV])


if __name__ == "__main__":
    main()
