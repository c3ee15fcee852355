"""Text helpers shared by the chat servers: named destinations, splitting, Markdown to HTML.

Why: Telegram (4096) and Discord (2000) both cap a message's length, and a code block cut in two
must be closed at the end of one part and reopened at the start of the next, or both parts render
wrong. Destination names come from the server's own environment, never from the model.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping

from mcp.server.mcpserver.exceptions import ToolError

FENCE = "```"
CLOSE = "\n" + FENCE


def parse_destinations(raw: str) -> dict[str, str]:
    """Names to ids from `{"team": "-100123"}` or `team=-100123,ops=-100456`; names lowercased."""
    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("destinations are not valid JSON") from None
        if not isinstance(doc, dict):
            raise ValueError("destinations must be a JSON object of name: id")
        pairs = [(str(k), str(v)) for k, v in doc.items()]
    else:
        pairs = []
        for item in raw.split(","):
            name, sep, value = item.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise ValueError("destinations must look like name=id,name=id")
            pairs.append((name, value))
    return {name.strip().lower(): value.strip() for name, value in pairs}


def resolve_destination(
    target: str, destinations: Mapping[str, str], is_id: Callable[[str], bool]
) -> str:
    """The id for a configured name, or the target itself when it already is an id."""
    key = target.strip().lstrip("#").lower()
    if key in destinations:
        return destinations[key]
    if is_id(target.strip()):
        return target.strip()
    known = ", ".join(sorted(destinations)) or "none configured"
    raise ToolError(f"unknown destination {target!r}; use a chat id or a name ({known})")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fence_state(text: str, open_fence: str | None) -> str | None:
    """The opening fence line still open after `text`, given the one open before it."""
    for line in text.split("\n"):
        if line.lstrip().startswith(FENCE):
            open_fence = None if open_fence is not None else line.strip()
    return open_fence


def split_message(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Parts of at most `limit` (by `size`), cut at paragraph, line or word ends where possible.

    A code block open at a cut is closed in that part and reopened, with its language, in the next.
    """
    if size(text) <= limit:
        return [text]
    parts: list[str] = []
    rest, prefix = text, ""
    while rest:
        whole = prefix + rest
        if size(whole) <= limit:
            parts.append(whole)
            break
        budget = limit - size(prefix) - size(CLOSE)
        if budget < 16:
            raise ValueError("limit too small for this text")
        window = rest[:budget]
        while size(window) > budget:  # characters outside the BMP count twice for Telegram
            window = window[: len(window) - (size(window) - budget)]
        cut, skip = _cut_point(window)
        piece = rest[:cut]
        open_fence = _fence_state(prefix + piece, None)
        chunk = prefix + piece
        if open_fence is not None:
            chunk += CLOSE
            prefix = open_fence + "\n"
        else:
            prefix = ""
        parts.append(chunk)
        rest = rest[cut + skip :]
    return parts


def _cut_point(window: str) -> tuple[int, int]:
    """(cut index, separator length to drop): a paragraph, line or word end, else a hard cut."""
    floor = len(window) // 3
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at > floor:
            return at, len(separator)
    return len(window), 0


_CODE = re.compile(r"```([^\n`]*)\n?(.*?)(?:```|\Z)|`([^`\n]+)`", re.S)
_INLINE = [
    (re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)"), r'<a href="\2">\1</a>'),
    (re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.S), None),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])|(?<!\w)_(?!\s)([^_\n]+?)_(?!\w)"), None),
    (re.compile(r"~~(.+?)~~"), r"<s>\1</s>"),
]
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.M)


def markdown_to_telegram_html(text: str) -> str:
    """Common Markdown (what LLMs write) as the HTML subset Telegram's parse_mode=HTML accepts."""
    out: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        out.append(_inline_html(text[last : match.start()]))
        if match.group(3) is not None:
            out.append(f"<code>{html.escape(match.group(3), quote=False)}</code>")
        else:
            language = match.group(1).strip()
            body = html.escape(match.group(2).rstrip("\n"), quote=False)
            attr = f' class="language-{html.escape(language)}"' if language else ""
            out.append(f"<pre><code{attr}>{body}</code></pre>")
        last = match.end()
    out.append(_inline_html(text[last:]))
    return "".join(out)


def _inline_html(text: str) -> str:
    text = html.escape(text, quote=False)
    text = _HEADING.sub(r"<b>\1</b>", text)
    link, bold, italic, strike = _INLINE
    text = link[0].sub(link[1], text)  # type: ignore[arg-type]
    text = bold[0].sub(lambda m: f"<b>{m.group(1) or m.group(2)}</b>", text)
    text = italic[0].sub(lambda m: f"<i>{m.group(1) or m.group(2)}</i>", text)
    return strike[0].sub(strike[1], text)  # type: ignore[arg-type]
