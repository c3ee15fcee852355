"""Build the OAuth gate a config needs: None without OAuth servers, else the vault (Redis when
sessions use it, else a file beside the schedules) sealed with the key from the environment."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from orchestrator.config import Config
from orchestrator.identity.gate import Notify, OAuthGate
from orchestrator.identity.routes import callback_url
from orchestrator.identity.signins import SignInBook, SignIns
from orchestrator.identity.signins_redis import RedisSignIns
from orchestrator.identity.vault_base import Sealer, TokenKeyMissing, TokenVault
from orchestrator.identity.vault_file import FileVault
from orchestrator.identity.vault_redis import RedisVault

TOKEN_FILE = "oauth_tokens.json"


def oauth_servers(config: Config) -> dict[str, str]:
    """Each OAuth server's name -> the env var naming its key."""
    return {n: s.auth.key_env for n, s in config.mcp_servers.items() if s.auth is not None}


async def _nobody(link: object) -> None:
    return None


def make_vault(config: Config) -> tuple[TokenVault, SignInBook]:
    """Redis when sessions use it (every process sees every sign-in and callback), else a
    file and this process's memory."""
    sessions = config.sessions
    if sessions.backend == "redis" and sessions.url:
        client = aioredis.Redis.from_url(sessions.url, client_name=f"{sessions.key_prefix}:oauth")
        prefix = f"{sessions.key_prefix}:{config.orchestrator.name}"
        return RedisVault(client, prefix), RedisSignIns(client, prefix)
    return FileVault(Path(config.scheduler.path).parent / TOKEN_FILE), SignIns()


def build_gate(config: Config, notify: Notify = _nobody) -> OAuthGate | None:
    """Raises TokenKeyMissing (a clear message) when OAuth servers have no key."""
    servers = oauth_servers(config)
    if not servers:
        return None
    envs = sorted(set(servers.values()))
    if len(envs) > 1:
        raise TokenKeyMissing(f"OAuth servers must share one key env var, not {envs}")
    if config.http is None:
        raise TokenKeyMissing(
            f"the OAuth servers ({', '.join(servers)}) need the `http:` section: the sign-in "
            "redirect lands on <http.public_url>/oauth/callback"
        )
    sealer = Sealer.from_env(envs[0], sorted(servers))
    vault, signins = make_vault(config)
    return OAuthGate(vault, sealer, signins, callback_url(config.http.base_url), notify)
