"""Platform-neutral Markdown splitting: parts within a length limit, code fences kept whole.

Parts break at paragraph boundaries first, then at lines, then at spaces, and only then inside
a word. A code block that has to be cut is closed at the end of one part and reopened, with its
language, at the start of the next, so every part renders on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True, slots=True)
class Block:
    text: str
    fence: str | None = None  # the opening fence line of a code block, e.g. "```python"
    closer: str = "```"


def _blocks(text: str) -> list[Block]:
    """Paragraphs and whole code blocks, in order."""
    blocks: list[Block] = []
    para: list[str] = []
    code: list[str] | None = None
    opener = closer = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        match = _FENCE.match(line)
        if code is not None:
            if match and match.group(1)[0] == closer[0] and not match.group(2).strip():
                blocks.append(Block("\n".join(code), opener, closer))
                code = None
            else:
                code.append(line)
        elif match:
            if para:
                blocks.append(Block("\n".join(para)))
                para = []
            opener, closer, code = line.strip(), match.group(1), []
        elif line.strip():
            para.append(line)
        elif para:
            blocks.append(Block("\n".join(para)))
            para = []
    if code is not None:
        blocks.append(Block("\n".join(code), opener, closer))
    if para:
        blocks.append(Block("\n".join(para)))
    return blocks


def _hard_split(line: str, size: int) -> list[str]:
    """A line longer than `size`: cut at spaces where possible, else mid-word."""
    out: list[str] = []
    while len(line) > size:
        cut = line.rfind(" ", 0, size + 1)
        cut = cut if cut > size // 2 else size
        out.append(line[:cut].rstrip())
        line = line[cut:].lstrip(" ")
    out.append(line)
    return out


def _pack_lines(lines: list[str], size: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for line in (piece for raw in lines for piece in _hard_split(raw, size)):
        extra = len(line) + (1 if current else 0)
        if current and length + extra > size:
            chunks.append("\n".join(current))
            current, length = [], 0
            extra = len(line)
        current.append(line)
        length += extra
    if current:
        chunks.append("\n".join(current))
    return chunks


def _fit(block: Block, limit: int) -> list[str]:
    """The block as one or more pieces of at most `limit` characters."""
    if block.fence is None:
        return _pack_lines(block.text.split("\n"), limit)
    whole = f"{block.fence}\n{block.text}\n{block.closer}"
    if len(whole) <= limit:
        return [whole]
    room = max(1, limit - len(block.fence) - len(block.closer) - 2)
    return [
        f"{block.fence}\n{body}\n{block.closer}"
        for body in _pack_lines(block.text.split("\n"), room)
    ]


def split_markdown(text: str, limit: int) -> list[str]:
    """Split Markdown into parts of at most `limit` characters, every code block closed."""
    if limit < 16:
        raise ValueError("limit too small to hold a code fence")
    parts: list[str] = []
    current = ""
    for block in _blocks(text):
        for piece in _fit(block, limit):
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts
