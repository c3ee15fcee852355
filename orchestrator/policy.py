"""Who may do what where: chat allow-lists, admins, tool allow-lists, per-user rate limits."""

from __future__ import annotations

from fnmatch import fnmatchcase

from aiolimiter import AsyncLimiter

from orchestrator.config import ChatPolicy, Config
from orchestrator.mcp.tools import ToolSpec
from orchestrator.messages import ChatMessage


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


class UserRateLimits:
    """One leaky bucket per user (aiolimiter), so one chatty user cannot starve the bot."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._limiters: dict[str, AsyncLimiter] = {}

    def set_rate(self, per_minute: int) -> None:
        """A reloaded limit: every bucket starts over at the new rate."""
        self.per_minute = per_minute
        self._limiters.clear()

    async def allow(self, user_key: str) -> bool:
        limiter = self._limiters.get(user_key)
        if limiter is None:
            limiter = self._limiters[user_key] = AsyncLimiter(self.per_minute, 60)
        if not limiter.has_capacity():
            return False
        await limiter.acquire()  # returns at once: capacity was just checked
        return True
