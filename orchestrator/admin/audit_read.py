"""Reading the audit trail back (`orchestrator audit`): from the rotated files or the stream."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from orchestrator.admin.audit_sink import audit_stream_key, uses_redis
from orchestrator.config import Config

_SPAN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float) -> float:
    """'90m', '1h', '2d' -> an epoch time that long before `now`; or an ISO-8601 time."""
    match = _SPAN.match(text.lower())
    if match:
        return now - int(match.group(1)) * _UNIT[match.group(2)]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(f"--since {text!r}: use e.g. 30m, 1h, 2d or an ISO time") from None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    since: float | None = None
    chat: str | None = None
    user: str | None = None

    def __call__(self, doc: dict[str, Any]) -> bool:
        if self.since is not None and float(doc.get("ts", 0)) < self.since:
            return False
        if self.chat is not None and self.chat not in (
            str(doc.get("chat", "")),
            f"{doc.get('platform', '')}:{doc.get('chat', '')}",
        ):
            return False
        return self.user is None or self.user in (
            str(doc.get("user", "")),
            f"{doc.get('platform', '')}:{doc.get('user', '')}",
        )


def _file_lines(path: Path) -> Iterator[str]:
    """Oldest first: audit.jsonl.N ... audit.jsonl.1, then audit.jsonl."""
    rotated = sorted(
        path.parent.glob(path.name + ".*"),
        key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0,
        reverse=True,
    )
    for file in [*rotated, path]:
        if file.exists():
            yield from file.read_text(encoding="utf-8").splitlines()


def _parse(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict):
            yield doc


def read_file(path: str | Path, keep: AuditFilter) -> list[dict[str, Any]]:
    return [d for d in _parse(_file_lines(Path(path))) if keep(d)]


def read_stream(
    url: str, key: str, keep: AuditFilter, count: int = 100_000
) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    try:
        start = f"{int(keep.since * 1000)}-0" if keep.since is not None else "-"
        entries: Any = client.xrange(key, min=start, max="+", count=count)
    finally:
        client.close()
    lines = [fields.get(b"record", b"{}").decode() for _id, fields in entries]
    return [d for d in _parse(lines) if keep(d)]


def read_audit(config: Config, keep: AuditFilter) -> list[dict[str, Any]]:
    """Every record the configured sink holds that passes `keep`, oldest first."""
    if uses_redis(config) and config.sessions.url:
        return read_stream(config.sessions.url, audit_stream_key(config.sessions.key_prefix), keep)
    return read_file(config.audit.path, keep)


def format_record(doc: dict[str, Any]) -> str:
    """One human line: time, who, action, tool, outcome."""
    when = datetime.fromtimestamp(float(doc.get("ts", 0))).astimezone()
    who = f"{doc.get('platform', '')}:{doc.get('chat', '')} user={doc.get('user', '')}"
    parts = [f"{when:%Y-%m-%d %H:%M:%S}", who, str(doc.get("action", ""))]
    if doc.get("tool"):
        parts.append(str(doc["tool"]))
    if doc.get("arg_keys"):
        parts.append("args=" + ",".join(doc["arg_keys"]))
    parts.append(str(doc.get("outcome", "")))
    if doc.get("duration_ms") is not None:
        parts.append(f"{doc['duration_ms']}ms")
    if doc.get("detail"):
        parts.append(str(doc["detail"]))
    return " ".join(parts)
