"""An answer longer than a set number of platform messages, sent as one Markdown file
(`files.answer_as_file_after_parts`): a short message says so, the file holds the whole answer.

Adapters apply it when they render, with their own part count; the same replies always give the
same result, so a resumed request sends the same parts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from orchestrator.messages import OutFile, Reply, ReplyKind

FILE_NAME = "answer.md"
HEAD_CHARS = 300


def long_answers_as_files(
    replies: Sequence[Reply], max_parts: int | None, count_parts: Callable[[str], int]
) -> list[Reply]:
    if not max_parts:
        return list(replies)
    out = []
    for reply in replies:
        if reply.kind is not ReplyKind.ANSWER or reply.choices:
            out.append(reply)
            continue
        parts = count_parts(reply.text)
        if parts <= max_parts:
            out.append(reply)
            continue
        head = reply.text.split("\n\n", 1)[0][:HEAD_CHARS].strip()
        text = f"{head}\n\n(The whole answer, {parts} messages long, is in {FILE_NAME}.)"
        file = OutFile(FILE_NAME, "text/markdown", reply.text.encode())
        out.append(dataclasses.replace(reply, text=text, files=(file, *reply.files)))
    return out
