"""Who may do what where: chat allow-lists, admins, tool allow-lists, per-user rate limits."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from enum import StrEnum
from fnmatch import fnmatchcase

from aiolimiter import AsyncLimiter

from orchestrator.config import ChatPolicy, Config
from orchestrator.mcp.tools import ToolSpec
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.routing.directory import ToolGroups

log = logging.getLogger(__name__)


def is_admin(config: Config, message: ChatMessage) -> bool:
    """Admins: flagged by the platform, or listed as `platform:user_id` or `user_id`."""
    if message.is_admin:
        return True
    ids = {f"{message.platform}:{message.user_id}", message.user_id}
    listed = set(config.admins) | set(config.policy_for(message.chat_key).admins)
    return bool(ids & listed)


def _matches(pattern: str, tool: ToolSpec) -> bool:
    return fnmatchcase(tool.key, pattern if "/" in pattern else f"{pattern}/*")


def tool_allowed(policy: ChatPolicy, tool: ToolSpec) -> bool:
    """`tools: [server/tool, server/*, server]`; no list means every tool; `deny` wins."""
    if any(_matches(p, tool) for p in policy.deny):
        return False
    if policy.tools is None:
        return True
    for pattern in policy.tools:
        if "/" not in pattern:
            pattern = f"{pattern}/*"
        if fnmatchcase(tool.key, pattern):
            return True
    return False


class AllowedTools:
    """The tools a chat policy allows out of the catalogue, and their directory groups, kept per
    policy and catalogue: a message costs a look-up, not a pass over every tool (500 tools:
    about 1.2 ms a message). The catalogue is keyed by its objects (the hub hands out new ones
    when a server's tools change) and held, so the key cannot outlive them."""

    def __init__(self, name_of: Callable[[ToolSpec], str], size: int = 64) -> None:
        self.name_of, self.size = name_of, size
        self._cache: OrderedDict[Hashable, tuple[tuple[ToolSpec, ...], ToolGroups, object]] = (
            OrderedDict()
        )

    def get(
        self, policy: ChatPolicy, catalogue: Sequence[ToolSpec]
    ) -> tuple[tuple[ToolSpec, ...], ToolGroups]:
        tools = None if policy.tools is None else tuple(policy.tools)
        key = (tools, tuple(policy.deny), tuple(map(id, catalogue)))
        found = self._cache.get(key)
        if found is None:
            allowed = tuple(t for t in catalogue if tool_allowed(policy, t))
            found = allowed, ToolGroups.of(allowed, self.name_of), tuple(catalogue)
            self._cache[key] = found
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return found[0], found[1]


class RateVerdict(StrEnum):
    ALLOW = "allow"
    NOTICE = "notice"  # over the limit: the first refusal of this burst, tell the sender
    QUIET = "quiet"  # over the limit again in the same burst: drop without a word


class UserRateLimits:
    """One leaky bucket per user (aiolimiter), so one chatty user cannot starve the bot.

    A burst over the limit gets one notice: the sender hears it on the first refused message,
    and the next refused ones are dropped silently until a message is allowed again."""

    def __init__(self, per_minute: int, keep: int = 10_000) -> None:
        self.per_minute = per_minute
        self._limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._noticed: set[str] = set()
        self._keep = keep

    def set_rate(self, per_minute: int) -> None:
        """A reloaded limit: every bucket starts over at the new rate."""
        self.per_minute = per_minute
        self._limiters.clear()
        self._noticed.clear()

    async def allow(self, user_key: str) -> bool:
        return await self.check(user_key) is RateVerdict.ALLOW

    async def check(self, user_key: str) -> RateVerdict:
        limiter = self._limiters.get(user_key)
        if limiter is None:
            limiter = self._limiters[user_key] = AsyncLimiter(self.per_minute, 60)
            if len(self._limiters) > self._keep:  # the least recently seen first
                old, _ = self._limiters.popitem(last=False)
                self._noticed.discard(old)
        self._limiters.move_to_end(user_key)
        if not limiter.has_capacity():
            if user_key in self._noticed:
                return RateVerdict.QUIET
            self._noticed.add(user_key)
            return RateVerdict.NOTICE
        self._noticed.discard(user_key)
        await limiter.acquire()  # returns at once: capacity was just checked
        return RateVerdict.ALLOW


async def rate_refusal(
    limits: UserRateLimits, policy: ChatPolicy, message: ChatMessage
) -> list[Reply] | None:
    """Count a person's message against their rate: None to go on, else what to answer
    instead (one notice a burst, then nothing)."""
    if not message.from_person or not message.text.strip():
        return None  # a schedule has its own limits (min_interval_seconds)
    if not policy.allowed:
        return None  # dropped by the core without a word, and not counted
    verdict = await limits.check(f"{message.platform}:{message.user_id}")
    if verdict is RateVerdict.ALLOW:
        return None
    log.warning(
        "rate_limited platform=%s chat=%s user=%s notice=%d",
        message.platform,
        message.chat_id,
        message.user_id,
        verdict is RateVerdict.NOTICE,
    )
    if verdict is RateVerdict.QUIET:
        return []
    return [
        Reply(
            f"You are sending messages too fast (limit {limits.per_minute} a minute); I skip "
            "the rest of this burst. Please wait a minute.",
            ReplyKind.ERROR,
        )
    ]
