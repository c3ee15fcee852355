"""The SDK's `TokenStorage` over the vault: one server and one slot (a person, or `bot`).

A record holds the tokens, when the access token expires (so a restarted process refreshes an
expired token instead of signing in again) and the sign-in state `doctor` and `/logins` show.
The registered client (dynamic registration) is shared by every slot of a server.
"""

from __future__ import annotations

import json
import time
from typing import Any

from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from orchestrator.identity.vault_base import CLIENT_SLOT, Sealer, TokenVault

SIGNED_IN = "signed in"
NEEDS_SIGN_IN = "needs sign-in"
REFRESH_FAILED = "refresh failed"


class SlotRecords:
    """Sealed JSON records of one server in the vault."""

    def __init__(self, vault: TokenVault, sealer: Sealer, server: str) -> None:
        self.vault, self.sealer, self.server = vault, sealer, server

    async def read(self, slot: str) -> dict[str, Any] | None:
        sealed = await self.vault.get(self.server, slot)
        text = self.sealer.open(sealed) if sealed else None
        if text is None:
            return None
        data = json.loads(text)
        return data if isinstance(data, dict) else None

    async def write(self, slot: str, record: dict[str, Any]) -> None:
        await self.vault.put(self.server, slot, self.sealer.seal(json.dumps(record)))

    async def state(self, slot: str) -> str:
        record = await self.read(slot)
        if record is None or not record.get("tokens"):
            return (record or {}).get("state", NEEDS_SIGN_IN)
        return str(record.get("state", SIGNED_IN))

    async def mark(self, slot: str, state: str) -> None:
        record = await self.read(slot) or {}
        if record.get("state") != state:
            record["state"] = state
            await self.write(slot, record)


class VaultTokenStorage:
    """Implements `mcp.client.auth.TokenStorage` for one server and slot."""

    def __init__(
        self,
        records: SlotRecords,
        slot: str,
        configured_client: OAuthClientInformationFull | None = None,
    ) -> None:
        self.records, self.slot = records, slot
        self._configured = configured_client

    async def get_tokens(self) -> OAuthToken | None:
        record = await self.records.read(self.slot)
        if not record or not record.get("tokens"):
            return None
        token = OAuthToken.model_validate(record["tokens"])
        expires_at = record.get("expires_at")
        if expires_at is not None:  # the time left now (negative: expired, so refreshed first)
            token.expires_in = int(expires_at - time.time())
        return token

    async def set_tokens(self, tokens: OAuthToken) -> None:
        expires_at = time.time() + tokens.expires_in if tokens.expires_in is not None else None
        record = {
            "tokens": tokens.model_dump(mode="json", exclude_none=True),
            "expires_at": expires_at,
            "state": SIGNED_IN,
        }
        await self.records.write(self.slot, record)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        if self._configured is not None:
            return self._configured
        record = await self.records.read(CLIENT_SLOT)
        return OAuthClientInformationFull.model_validate(record) if record else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        if self._configured is None:
            await self.records.write(CLIENT_SLOT, client_info.model_dump(mode="json"))

    async def forget(self) -> bool:
        """Sign out: drop this slot's tokens; True when there were any."""
        had = (await self.records.read(self.slot) or {}).get("tokens") is not None
        await self.records.vault.delete(self.records.server, self.slot)
        return had
