"""Telegram as an MCP server: send a message to a chat or a named destination, check a chat.

Run: `python -m custom_servers.telegram_mcp_server` with TELEGRAM_BOT_TOKEN set.
TELEGRAM_DESTINATIONS names chats (`{"team": "-100123"}` or `team=-100123,ops=-100456`);
TELEGRAM_API_URL points at another Bot API server (a fake in tests, a local Bot API server);
TELEGRAM_TIMEOUT_SECONDS bounds each call. The token (part of every Bot API URL) never appears in
a result, an error or a log line.

Markdown always delivers: it is sent as Telegram HTML, and when Telegram answers 400 "can't parse
entities" that part is sent again as plain text. Texts over 4096 characters go out in parts.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated, Any, Literal

if __package__ in (None, ""):  # run as a script: python3 custom_servers/telegram_mcp_server.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from custom_servers._http import ApiError, Service, env_float, request
from custom_servers._serve import serve
from custom_servers._text import (
    markdown_to_telegram_html,
    parse_destinations,
    resolve_destination,
    split_message,
    utf16_len,
)

DEFAULT_URL = "https://api.telegram.org"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
LIMIT = 4096
CHAT_ID = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
PARSE_MODES = {"markdown": "HTML", "html": "HTML", "markdownv2": "MarkdownV2", "plain": None}

Target = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A configured destination name (see list_destinations), a numeric chat id "
        "such as -1001234567890, or a public @channelname",
    ),
]


def _service() -> Service:
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise ToolError(f"{TOKEN_ENV} is not set for the telegram server")
    base = os.environ.get("TELEGRAM_API_URL", DEFAULT_URL).rstrip("/")
    if base.endswith("/bot"):
        base = base[: -len("/bot")]
    return Service(
        name="Telegram",
        base_url=f"{base}/bot{token}/",
        credential_env=TOKEN_ENV,
        secrets=(token,),
        timeout=env_float(os.environ, "TELEGRAM_TIMEOUT_SECONDS", 20.0),
    )


def _destinations() -> dict[str, str]:
    try:
        return parse_destinations(os.environ.get("TELEGRAM_DESTINATIONS", ""))
    except ValueError as exc:
        raise ToolError(f"TELEGRAM_DESTINATIONS is malformed: {exc}") from None


def _chat_id(target: str) -> str:
    return resolve_destination(target, _destinations(), lambda t: bool(CHAT_ID.match(t)))


async def _call(service: Service, method: str, params: dict[str, Any]) -> Any:
    answer = await request(service, "POST", method, json=params)
    return answer.get("result") if isinstance(answer, dict) else answer


def _parts(text: str, fmt: str, limit: int = LIMIT) -> list[tuple[str, str]]:
    """(source, to send) pairs, each rendered part within Telegram's 4096 characters.

    Escaping can grow a part (`&` becomes `&amp;`), so a part whose rendering is too long is split
    finer; a part of 512 characters renders to well under 4096 whatever it holds.
    """
    render = markdown_to_telegram_html if fmt == "markdown" else (lambda s: s)
    out: list[tuple[str, str]] = []
    for source in split_message(text, limit, utf16_len):
        rendered = render(source)
        if utf16_len(rendered) <= LIMIT or limit <= 512:
            out.append((source, rendered))
        else:
            out.extend(_parts(source, fmt, max(512, limit // 2)))
    return out


def create_server() -> MCPServer:
    """Telegram Bot API tools: send_message, get_chat, list_destinations."""
    server = MCPServer(
        "telegram",
        version="1.0.0",
        instructions="Post to the team's Telegram chats by name (list_destinations) or chat id.",
    )

    @server.tool(
        description="Send a message to a Telegram chat (a configured name or a chat id). "
        "Markdown is rendered; if Telegram cannot parse it, the text is sent as plain text. "
        "Long texts are sent as several messages.",
        annotations=ToolAnnotations(
            title="Send Telegram message",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=True,
        ),
    )
    async def send_message(
        chat: Target,
        text: Annotated[str, Field(min_length=1, max_length=40_000, description="Message text")],
        format: Annotated[
            Literal["markdown", "html", "markdownv2", "plain"],
            Field(description="How `text` is written; markdown (default) always delivers"),
        ] = "markdown",
        silent: Annotated[bool, Field(description="Deliver without a notification sound")] = False,
    ) -> dict[str, Any]:
        chat_id = _chat_id(chat)
        service = _service()
        parse_mode = PARSE_MODES[format]
        sent: list[int] = []
        plain_parts: list[int] = []
        for index, (source, rendered) in enumerate(_parts(text, format)):
            params: dict[str, Any] = {
                "chat_id": chat_id,
                "text": rendered,
                "disable_notification": silent,
            }
            if parse_mode:
                params["parse_mode"] = parse_mode
            try:
                message = await _call(service, "sendMessage", params)
            except ApiError as exc:
                if not (parse_mode and exc.status == 400 and "parse entities" in str(exc)):
                    if sent:
                        raise ToolError(f"{exc} (after {len(sent)} part(s) were sent)") from None
                    raise
                plain_parts.append(index + 1)
                message = await _call(
                    service,
                    "sendMessage",
                    {"chat_id": chat_id, "text": source, "disable_notification": silent},
                )
            sent.append(int((message or {}).get("message_id", 0)))
        return {
            "chat_id": chat_id,
            "message_ids": sent,
            "parts": len(sent),
            "sent_as_plain_text": plain_parts,
        }

    @server.tool(
        description="Look up a Telegram chat (a configured name or a chat id): its title, type "
        "and username, to check the name before sending",
        annotations=ToolAnnotations(
            title="Get Telegram chat", read_only_hint=True, open_world_hint=True
        ),
    )
    async def get_chat(chat: Target) -> dict[str, Any]:
        chat_id = _chat_id(chat)
        found = await _call(_service(), "getChat", {"chat_id": chat_id}) or {}
        return {
            "id": found.get("id"),
            "type": found.get("type"),
            "title": found.get("title")
            or " ".join(filter(None, [found.get("first_name"), found.get("last_name")])),
            "username": found.get("username"),
        }

    @server.tool(
        description="The chat names this server knows (from its configuration), with their ids",
        annotations=ToolAnnotations(
            title="List Telegram destinations", read_only_hint=True, open_world_hint=False
        ),
    )
    def list_destinations() -> dict[str, str]:
        return _destinations()

    return server


def main() -> None:
    serve(create_server, [TOKEN_ENV])


if __name__ == "__main__":
    main()
