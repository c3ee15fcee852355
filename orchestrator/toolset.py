"""The tool side of a request: a chat's policy with its /allow and /deny rules, the tools it
allows (by server, for the directory), and the few a message needs (semantic routing)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from orchestrator import tracing
from orchestrator.admin.chat_rules import ChatToolRules
from orchestrator.config import ChatPolicy, Config
from orchestrator.mcp.extras import named_resource_tools
from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.tools import ToolSpec
from orchestrator.memory.base import Memory
from orchestrator.messages import ChatMessage
from orchestrator.policy import AllowedTools, tool_allowed
from orchestrator.recollection import Embedded
from orchestrator.routing.base import past_uses
from orchestrator.routing.directory import ToolGroups
from orchestrator.services import Services

log = logging.getLogger(__name__)


class ChatTools:
    """Which tools a chat may use and which of them a message is offered. `config` is read on
    every call: a reload swaps it."""

    def __init__(
        self,
        config: Callable[[], Config],
        services: Services,
        names: ToolNameMap,
        rules: ChatToolRules,
    ) -> None:
        self._config, self._services, self._rules = config, services, rules
        self._allowed = AllowedTools(lambda t: names.safe_name(t.server, t.name))
        self._indexed: tuple[int, frozenset[str]] | None = None

    def chat_policy(self, chat_key: str) -> ChatPolicy:
        """The config's policy for this chat with its /allow and /deny rules on top."""
        return self._rules.apply(chat_key, self._config().policy_for(chat_key))

    def allowed_tools(self, chat_key: str) -> list[ToolSpec]:
        catalogue = self._services.hub.catalogue()
        return list(self._allowed.get(self.chat_policy(chat_key), catalogue)[0])

    def tool_groups(self, chat_key: str) -> ToolGroups:
        """The allowed tools by server, named as the model calls them (for the directory)."""
        return self._allowed.get(self.chat_policy(chat_key), self._services.hub.catalogue())[1]

    async def select_tools(
        self, message: ChatMessage, embedded: Embedded | None, memories: Sequence[Memory] = ()
    ) -> list[ToolSpec]:
        """The few tools this message needs (semantic routing), or all allowed ones."""
        strategy = self._config().orchestrator.tool_routing.strategy
        with tracing.span("route", strategy=strategy) as traced:
            tools = await self._select(message, embedded, memories, strategy)
            traced.set(tools=len(tools))
        return tools

    async def _select(
        self,
        message: ChatMessage,
        embedded: Embedded | None,
        memories: Sequence[Memory],
        strategy: str,
    ) -> list[ToolSpec]:
        router = self._services.router
        if strategy == "all" or router is None or embedded is None:
            return self.allowed_tools(message.chat_key)  # filtered only when all are offered
        await self.refresh_router()
        policy = self.chat_policy(message.chat_key)
        past = past_uses(memories)
        routed = router.route(
            message.text,
            embedded.vector,
            part_vectors=embedded.steps,
            past=past,
            allowed=lambda t: tool_allowed(policy, t),
        )
        log.info(
            "tools_routed chat=%s past_uses=%d tools=%s",
            message.chat_key,
            len(past),
            ",".join(r.tool.key for r in routed),
        )
        picked = [r.tool for r in routed]
        if "://" in message.text:  # a resource named by its URI gets its reader (issue 32)
            allowed = self.allowed_tools(message.chat_key)
            named = named_resource_tools(message.text, self._services.hub, allowed)
            picked += [t for t in named if t not in picked]
        return picked

    async def refresh_router(self) -> None:
        """Re-index the router when the hub's catalogue changed (a server came up, a reload)."""
        router = self._services.router
        if router is None:
            return
        hub = self._services.hub
        catalogue = hub.catalogue()
        signature = (getattr(hub, "version", 0), frozenset(t.key for t in catalogue))
        if signature != self._indexed:
            await router.refresh(catalogue)
            self._indexed = signature
