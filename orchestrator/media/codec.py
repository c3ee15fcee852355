"""Attachments and files as JSON (the delivery records and the job queue store them)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from orchestrator.messages import Attachment, OutFile


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def files_to_data(files: Sequence[OutFile]) -> list[dict[str, str]]:
    return [{"name": f.name, "mime": f.mime, "data": _b64(f.data)} for f in files]


def files_from_data(data: Sequence[dict[str, Any]] | None) -> tuple[OutFile, ...]:
    return tuple(OutFile(d["name"], d["mime"], base64.b64decode(d["data"])) for d in data or ())


def attachments_to_data(attachments: Sequence[Attachment]) -> list[dict[str, str]]:
    return [
        {"kind": a.kind, "name": a.name, "mime": a.mime, "text": a.text, "data": _b64(a.data)}
        for a in attachments
    ]


def attachments_from_data(data: Sequence[dict[str, Any]] | None) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(d["kind"], d["name"], d["mime"], d["text"], base64.b64decode(d["data"]))
        for d in data or ()
    )
