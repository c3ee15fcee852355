"""What Discord's REST API refuses in a message body, answered with Discord's own error shapes.

The limits are Discord's documented ones (discord.com/developers/docs/resources/message and
.../interactions/message-components): content up to 2,000 characters, up to 10 embeds of at most
6,000 characters in all, up to 5 action rows of up to 5 buttons, a `nonce` of up to 25
characters, `allowed_mentions` that does not both parse and list users (or roles), a
`message_reference` to a message that exists unless `fail_if_not_exists` is false.
A refusal is `{"message": "Invalid Form Body", "code": 50035, "errors": {...}}` with the
field's path, as Discord answers.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

CONTENT_LIMIT = 2000
EMBED_LIMITS = {"title": 256, "description": 4096}
EMBEDS_TOTAL = 6000
MAX_EMBEDS = 10
MAX_ROWS = 5
MAX_IN_ROW = 5
LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
NONCE_LIMIT = 25
EPHEMERAL = 1 << 6
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
SENDABLE_FLAGS = EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS
MENTION_KINDS = {"roles", "users", "everyone"}

Problem = tuple[str, str, str]  # (field path, Discord's error code, message)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with Discord's exact content type (discord.py parses only `application/json`)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def error(status: int, message: str, code: int) -> web.Response:
    return json_response({"message": message, "code": code}, status=status)


def form_error(problems: list[Problem]) -> web.Response:
    """Discord's 50035 with each problem under its field path (`embeds.0.title`)."""
    errors: dict[str, Any] = {}
    for path, code, message in problems:
        node = errors
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return json_response(
        {"message": "Invalid Form Body", "code": 50035, "errors": errors}, status=400
    )


def message_problems(body: Any, *, flags_allowed: int = SENDABLE_FLAGS) -> list[Problem]:
    """Every rule a message body breaks (empty: Discord accepts it)."""
    if not isinstance(body, dict):
        return [("_body", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    problems: list[Problem] = []
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        problems.append(("content", "BASE_TYPE_STRING", "Must be a string."))
    elif content and len(content) > CONTENT_LIMIT:
        problems.append(("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."))
    problems += _embed_problems(body.get("embeds"))
    problems += _component_problems(body.get("components"))
    problems += _mention_problems(body.get("allowed_mentions"))
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > NONCE_LIMIT:
        problems.append(("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    flags = body.get("flags") or 0
    if flags & ~flags_allowed:
        problems.append(("flags", "MESSAGE_FLAGS_INVALID", "Invalid message flags."))
    return problems


def is_empty(body: Any) -> bool:
    """Nothing to show: Discord answers 50006 'Cannot send an empty message'."""
    body = body if isinstance(body, dict) else {}
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("attachments")
        or body.get("sticker_ids")
        or body.get("poll")
    )


def _embed_problems(embeds: Any) -> list[Problem]:
    if embeds is None:
        return []
    if not isinstance(embeds, list) or len(embeds) > MAX_EMBEDS:
        return [("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")]
    problems: list[Problem] = []
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            value = str(embed.get(key) or "")
            total += len(value)
            if len(value) > limit:
                problems.append(
                    (
                        f"embeds.{index}.{key}",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {limit} or fewer in length.",
                    )
                )
        for field in embed.get("fields") or []:
            total += len(str(field.get("name", ""))) + len(str(field.get("value", "")))
        total += len(str((embed.get("footer") or {}).get("text", "")))
    if total > EMBEDS_TOTAL:
        problems.append(("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size"))
    return problems


def _component_problems(rows: Any) -> list[Problem]:
    if rows is None:
        return []
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        return [("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for r, row in enumerate(rows):
        if row.get("type") != 1:
            problems.append(
                (f"components.{r}.type", "UNION_TYPE_CHOICES", "Expected an action row.")
            )
            continue
        items = row.get("components") or []
        if not 1 <= len(items) <= MAX_IN_ROW:
            problems.append(
                (f"components.{r}.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5.")
            )
        for c, item in enumerate(items):
            where = f"components.{r}.components.{c}"
            if item.get("type") != 2:
                continue  # selects and text inputs: not used by the bot, accepted as they come
            custom_id = item.get("custom_id")
            if item.get("style") == 5:
                if not item.get("url"):
                    problems.append(
                        (f"{where}.url", "BASE_TYPE_REQUIRED", "This field is required")
                    )
            elif not custom_id:
                problems.append(
                    (f"{where}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
                )
            elif len(custom_id) > CUSTOM_ID_LIMIT:
                problems.append(
                    (
                        f"{where}.custom_id",
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 100 or fewer in length.",
                    )
                )
            elif custom_id in seen:
                problems.append(
                    (f"{where}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Duplicate custom id")
                )
            seen.add(custom_id or "")
            if len(str(item.get("label") or "")) > LABEL_LIMIT:
                problems.append(
                    (f"{where}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
                )
    return problems


def _mention_problems(allowed: Any) -> list[Problem]:
    if allowed is None:
        return []
    problems: list[Problem] = []
    parse = allowed.get("parse") or []
    for index, kind in enumerate(parse):
        if kind not in MENTION_KINDS:
            problems.append(
                (
                    f"allowed_mentions.parse.{index}",
                    "BASE_TYPE_CHOICES",
                    f"Value must be one of {sorted(MENTION_KINDS)}.",
                )
            )
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            problems.append(
                (
                    "allowed_mentions",
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            )
        if len(allowed.get(kind) or []) > 100:
            problems.append(
                (f"allowed_mentions.{kind}", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer.")
            )
    return problems


def reference_problems(body: Any, known: set[str]) -> list[Problem]:
    """A reply to a message the channel does not hold, unless it may be dropped."""
    reference = (body or {}).get("message_reference") if isinstance(body, dict) else None
    if not reference:
        return []
    if str(reference.get("message_id")) in known:
        return []
    if reference.get("fail_if_not_exists") is False:
        return []
    return [
        (
            "message_reference",
            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
            "Unknown message",
        )
    ]
