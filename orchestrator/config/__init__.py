"""Typed configuration, validated once at the edge.

The seed document's layout stays valid (`orchestrator.llm_settings`, `memory_system`,
`tool_routing`, `mcp_servers.<name>` with `env` as a list of `{name, value}`); the sections
`bots`, `sessions`, `scheduler`, `admins`, `chats` and `limits` are ours.
"""

from orchestrator.config.loader import DEFAULT_CONFIG, load_config, parse_config
from orchestrator.config.models import (
    AuditSettings,
    BotsSettings,
    ChatPolicy,
    Config,
    DashboardSettings,
    DeliverySettings,
    DiscordSettings,
    EnvVar,
    HealthSettings,
    HttpSettings,
    LimitSettings,
    LLMSettings,
    LoggingSettings,
    MemorySettings,
    Model,
    OAuthSettings,
    OrchestratorSettings,
    RoutingSettings,
    ScaleSettings,
    SchedulerSettings,
    ServerSettings,
    SessionSettings,
    TelegramSettings,
    WebhookSettings,
)

__all__ = [
    "DEFAULT_CONFIG",
    "load_config",
    "parse_config",
    "Model",
    "LLMSettings",
    "MemorySettings",
    "RoutingSettings",
    "ScaleSettings",
    "EnvVar",
    "HealthSettings",
    "DashboardSettings",
    "HttpSettings",
    "OAuthSettings",
    "ServerSettings",
    "WebhookSettings",
    "TelegramSettings",
    "DiscordSettings",
    "BotsSettings",
    "SessionSettings",
    "SchedulerSettings",
    "ChatPolicy",
    "DeliverySettings",
    "LimitSettings",
    "OrchestratorSettings",
    "LoggingSettings",
    "AuditSettings",
    "Config",
]
