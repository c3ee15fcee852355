"""Which tool calls wait for a person's approval, and how a waiting call is described to them.

Config wins over the server's own hints: `write_tools` always wait, `safe_tools` never do. Then
the MCP annotations: `destructiveHint: true` without `readOnlyHint: true` waits, `readOnlyHint:
true` runs. A tool with neither hint follows its server's `approve_unannotated` (default: run).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.config import Config
from orchestrator.mcp.tools import ToolSpec


@dataclass(frozen=True, slots=True)
class ApprovalRules:
    write: frozenset[str]  # "server/tool"
    safe: frozenset[str]
    approve_unannotated: frozenset[str]  # server names

    @classmethod
    def from_config(cls, config: Config) -> ApprovalRules:
        servers = config.mcp_servers.items()
        return cls(
            write=frozenset(f"{name}/{t}" for name, s in servers for t in s.write_tools),
            safe=frozenset(f"{name}/{t}" for name, s in servers for t in s.safe_tools),
            approve_unannotated=frozenset(n for n, s in servers if s.approve_unannotated),
        )

    def needs_approval(self, spec: ToolSpec) -> bool:
        if spec.key in self.safe:
            return False
        if spec.key in self.write:
            return True
        read_only = spec.annotations.get("readOnlyHint")
        destructive = spec.annotations.get("destructiveHint")
        if read_only is True:
            return False
        if destructive is True:
            return True
        if read_only is None and destructive is None:
            return spec.server in self.approve_unannotated
        return False


def describe_call(spec: ToolSpec, arguments: Mapping[str, Any]) -> str:
    """One line a person can approve: "Create task (clickup): name 'Follow up INV-101', ..."."""
    title = str(spec.annotations.get("title") or spec.name.replace("_", " ").capitalize())
    parts = []
    for key, value in arguments.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        shown = shown if len(shown) <= 120 else shown[:119] + "…"
        parts.append(f"{key.replace('_', ' ')} '{shown}'")
    detail = ", ".join(parts) if parts else "no arguments"
    return f"{title} ({spec.server}): {detail}"
