"""Shorten a tool's output to a token budget by its structure, and say what was left out.

A JSON list keeps its first items (the biggest list inside an object, when the object is the
result); other text is cut at a line boundary. The shortened JSON stays valid JSON, and a note
after it tells the model how much it did not see and how to ask for more.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.sessions.model import estimate_tokens

CHARS_PER_TOKEN = 4
PAGING_WORDS = ("page", "offset", "cursor", "limit", "start", "page_size", "per_page", "after")


def fit_output(text: str, max_tokens: int, schema: dict[str, Any] | None = None) -> str:
    """`text` itself when it fits; else a shortened version and a note."""
    if estimate_tokens(text) <= max_tokens:
        return text
    room = max(200, max_tokens * CHARS_PER_TOKEN - 300)  # leave room for the note
    shortened = _shorten_json(text, room)
    if shortened is not None:
        body, what = shortened
    else:
        body = _cut_lines(text, room)
        what = f"the first {len(body):,} of {len(text):,} characters"
    return f"{body}\n\n[shortened to fit: you see {what}. {_more_hint(schema)}]"


def _shorten_json(text: str, room: int) -> tuple[str, str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list):
        kept = _fit_list(value, room, lambda items: items)
        return json.dumps(kept, ensure_ascii=False), _count(len(kept), len(value))
    if isinstance(value, dict):
        lists = [(k, v) for k, v in value.items() if isinstance(v, list) and v]
        if not lists:
            return None
        key, items = max(lists, key=lambda kv: len(json.dumps(kv[1], ensure_ascii=False)))
        kept = _fit_list(items, room, lambda part: {**value, key: part})
        doc = {**value, key: kept}
        encoded = json.dumps(doc, ensure_ascii=False)
        if len(encoded) > room:
            return None  # the rest of the object alone is too big: cut it as text
        return encoded, f"{_count(len(kept), len(items))} in `{key}`"
    return None


def _fit_list(items: list[Any], room: int, wrap: Any) -> list[Any]:
    """The longest prefix of `items` whose JSON (wrapped as the result) fits in `room`."""
    low, high = 0, len(items)
    while low < high:
        mid = (low + high + 1) // 2
        if len(json.dumps(wrap(items[:mid]), ensure_ascii=False)) <= room:
            low = mid
        else:
            high = mid - 1
    return items[:low]


def _count(kept: int, total: int) -> str:
    return f"the first {kept} items … and {total - kept} more of {total}"


def _cut_lines(text: str, room: int) -> str:
    head = text[:room]
    cut = head.rfind("\n")
    return head[:cut] if cut > room // 2 else head


def _more_hint(schema: dict[str, Any] | None) -> str:
    properties = (schema or {}).get("properties", {}) or {}
    paging = [name for name in properties if name.lower() in PAGING_WORDS]
    if paging:
        names = ", ".join(f"`{n}`" for n in paging)
        return f"To see more, call the tool again with {names}."
    return "To see more, call the tool again with narrower arguments (filters)."
