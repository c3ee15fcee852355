"""The token vault seam: sealed (encrypted) records per server and slot, and the key that
seals them. A slot is a person (`telegram:42`), `bot`, or `_client` (the registered client)."""

from __future__ import annotations

import os
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken

from orchestrator.errors import OrchestratorError

BOT_SLOT = "bot"
CLIENT_SLOT = "_client"


class TokenKeyMissing(OrchestratorError):
    """No (valid) encryption key for OAuth tokens: OAuth servers cannot start."""


class TokenVault(Protocol):
    """Opaque sealed strings; the vault never sees a token in clear."""

    async def get(self, server: str, slot: str) -> str | None: ...

    async def put(self, server: str, slot: str, sealed: str) -> None: ...

    async def delete(self, server: str, slot: str) -> None: ...

    async def slots(self, server: str) -> list[str]: ...

    async def close(self) -> None: ...


class Sealer:
    """Fernet (AES-128-CBC + HMAC) around each record; a record sealed with another key reads as
    absent (the person signs in again), never as an error that stops the bot."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    @classmethod
    def from_env(cls, env_name: str, servers: list[str]) -> Sealer:
        key = os.environ.get(env_name, "").strip()
        names = ", ".join(servers)
        if not key:
            raise TokenKeyMissing(
                f"the OAuth servers ({names}) need an encryption key for their tokens in "
                f"${env_name}; make one with: python -c 'from cryptography.fernet import "
                f"Fernet; print(Fernet.generate_key().decode())'"
            )
        try:
            return cls(key)
        except (ValueError, TypeError):
            raise TokenKeyMissing(
                f"${env_name} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None
