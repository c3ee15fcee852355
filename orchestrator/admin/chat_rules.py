"""Per-chat tool rules set by admins with /allow and /deny, kept in the chat's session settings.

The config's `chats.<chat>.tools` / `deny` stay the baseline; these rules extend the allow-list
and add denials on top, without a config edit. Each process caches a chat's rules briefly so a
message costs no extra store read; another process's change is seen within `ttl_seconds`.
"""

from __future__ import annotations

import json
import time

from orchestrator.config import ChatPolicy
from orchestrator.sessions.base import SessionStore

ALLOW_KEY = "tools_allow"
DENY_KEY = "tools_deny"


def _decode(raw: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(raw or "[]")
    except json.JSONDecodeError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def normalise(pattern: str) -> str:
    """'server' means every tool of that server."""
    pattern = pattern.strip()
    return pattern if "/" in pattern else f"{pattern}/*"


class ChatToolRules:
    def __init__(self, sessions: SessionStore, ttl_seconds: float = 30.0) -> None:
        self.sessions = sessions
        self.ttl_seconds = ttl_seconds
        self._cache: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {}

    async def refresh(self, chat_key: str) -> None:
        """Read the chat's rules unless a fresh copy is cached."""
        cached = self._cache.get(chat_key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_seconds:
            return
        settings = (await self.sessions.load(chat_key)).settings
        allow, deny = _decode(settings.get(ALLOW_KEY)), _decode(settings.get(DENY_KEY))
        self._cache[chat_key] = (time.monotonic(), allow, deny)

    def rules(self, chat_key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        cached = self._cache.get(chat_key)
        return (cached[1], cached[2]) if cached else ((), ())

    def apply(self, chat_key: str, policy: ChatPolicy) -> ChatPolicy:
        """The config policy with this chat's /allow and /deny rules on top."""
        allow, deny = self.rules(chat_key)
        if not allow and not deny:
            return policy
        tools = None if policy.tools is None else [*policy.tools, *allow]
        return policy.model_copy(update={"tools": tools, "deny": [*policy.deny, *deny]})

    async def change(self, chat_key: str, pattern: str, *, allow: bool) -> tuple[str, ...]:
        """Add `pattern` to the allow (or deny) rules, dropping it from the other list."""
        pattern = normalise(pattern)
        async with self.sessions.lock(chat_key):
            session = await self.sessions.load(chat_key)
            allows = [p for p in _decode(session.settings.get(ALLOW_KEY)) if p != pattern]
            denies = [p for p in _decode(session.settings.get(DENY_KEY)) if p != pattern]
            (allows if allow else denies).append(pattern)
            session.settings[ALLOW_KEY] = json.dumps(allows)
            session.settings[DENY_KEY] = json.dumps(denies)
            await self.sessions.save(chat_key, session)
        self._cache[chat_key] = (time.monotonic(), tuple(allows), tuple(denies))
        return tuple(allows if allow else denies)
