"""The OAuth gate of one process: the encrypted vault, the sign-ins under way, and an SDK
`OAuthClientProvider` per server and slot (a person, or `bot`).

The provider does the protocol (metadata discovery, dynamic registration or the configured
client, PKCE, state, refresh); this module decides where its link goes (`notify`), waits for
the callback, and keeps the sign-in state `doctor`, `/status` and `/logins` show.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthMetadata,
)
from pydantic import AnyUrl

from orchestrator.config import OAuthSettings, ServerSettings
from orchestrator.identity.signins import PendingSignIn, SignInBook, SignInError
from orchestrator.identity.storage import (
    REFRESH_FAILED,
    SIGNED_IN,
    SlotRecords,
    VaultTokenStorage,
)
from orchestrator.identity.vault_base import BOT_SLOT, Sealer, TokenVault

log = logging.getLogger(__name__)

METADATA_SLOT = "_metadata"  # the authorization server's metadata, as discovered


@dataclass(frozen=True, slots=True)
class SignInLink:
    """A sign-in the person (or admin) must finish in a browser."""

    server: str
    slot: str
    url: str
    again: bool  # they were signed in, but the token was revoked or its refresh failed
    timeout: float


# Where a link goes: a private message to the person, or the terminal of `mcp login`.
Notify = Callable[[SignInLink], Awaitable[None]]


class StoredOAuthProvider(OAuthClientProvider):
    """The SDK's provider, also restoring across restarts what the SDK keeps in memory only:
    when the stored access token expires and the authorization server's metadata (its token
    endpoint). So a restarted process refreshes an expired token at the right endpoint instead
    of sending it, being refused, and asking the person to sign in again."""

    records: SlotRecords | None = None

    async def _initialize(self) -> None:
        await super()._initialize()
        tokens = self.context.current_tokens
        if tokens is not None and tokens.expires_in is not None:
            self.context.update_token_expiry(tokens)
        found = await self.records.read(METADATA_SLOT) if self.records is not None else None
        if found and self.context.oauth_metadata is None:
            self.context.oauth_metadata = OAuthMetadata.model_validate(found["metadata"])
            self.context.auth_server_url = found.get("auth_server_url")

    async def _handle_token_response(self, response: Any) -> None:
        await super()._handle_token_response(response)
        metadata = self.context.oauth_metadata
        if self.records is not None and metadata is not None:
            await self.records.write(
                METADATA_SLOT,
                {
                    "metadata": metadata.model_dump(mode="json", exclude_none=True),
                    "auth_server_url": self.context.auth_server_url,
                },
            )


def slot_for(settings: ServerSettings, platform: str, user_id: str) -> str:
    auth = settings.auth
    if auth is None or auth.identity == "bot":
        return BOT_SLOT
    return f"{platform}:{user_id}"


class OAuthGate:
    def __init__(
        self,
        vault: TokenVault,
        sealer: Sealer,
        signins: SignInBook,
        redirect_uri: str,
        notify: Notify,
    ) -> None:
        self.vault, self.sealer, self.signins = vault, sealer, signins
        self.redirect_uri = redirect_uri
        self.notify = notify
        self._records: dict[str, SlotRecords] = {}

    def records(self, server: str) -> SlotRecords:
        if server not in self._records:
            self._records[server] = SlotRecords(self.vault, self.sealer, server)
        return self._records[server]

    def storage(self, server: str, auth: OAuthSettings, slot: str) -> VaultTokenStorage:
        configured = None
        if auth.client_id:
            configured = OAuthClientInformationFull(
                client_id=auth.client_id,
                client_secret=auth.client_secret,
                redirect_uris=[AnyUrl(self.redirect_uri)],
                token_endpoint_auth_method="client_secret_post" if auth.client_secret else "none",
                grant_types=["authorization_code", "refresh_token"],
            )
        return VaultTokenStorage(self.records(server), slot, configured)

    def provider(
        self, server: str, settings: ServerSettings, slot: str, interactive: bool = True
    ) -> StoredOAuthProvider:
        """The SDK provider for one server and slot. Not `interactive`: a needed sign-in fails
        at once (the bot identity at run time: an admin signs in with `orchestrator mcp login`)."""
        auth = settings.auth
        assert auth is not None and settings.url
        waiting: list[PendingSignIn] = []
        records = self.records(server)

        async def redirect(url: str) -> None:
            again = await records.state(slot) in (SIGNED_IN, REFRESH_FAILED)
            if again:
                await records.mark(slot, REFRESH_FAILED)
            log.info(
                "oauth_sign_in_needed server=%s identity=%s again=%s",
                server,
                auth.identity,
                str(again).lower(),
            )
            if not interactive:
                raise SignInError(
                    f"{server} needs a sign-in by an admin: orchestrator mcp login {server}"
                )
            pending = await self.signins.expect(server, slot, url)
            try:
                await self.notify(
                    SignInLink(server, slot, url, again, auth.sign_in_timeout_seconds)
                )
            except BaseException:
                await self.signins.cancel(pending)  # the link never reached anyone: nothing waits
                raise
            waiting.append(pending)

        async def callback() -> AuthorizationCodeResult:
            return await self.signins.wait(waiting.pop(), auth.sign_in_timeout_seconds)

        metadata = OAuthClientMetadata(
            client_name="orchestrator",
            redirect_uris=[AnyUrl(self.redirect_uri)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
            scope=" ".join(auth.scopes) or None,
        )
        provider = StoredOAuthProvider(
            server_url=settings.url,
            client_metadata=metadata,
            storage=self.storage(server, auth, slot),
            redirect_handler=redirect,
            callback_handler=callback,
        )
        provider.records = records
        return provider

    async def state(self, server: str, slot: str) -> str:
        return await self.records(server).state(slot)

    async def signed_in(self, server: str) -> list[str]:
        """The slots of `server` holding tokens (never the tokens)."""
        records = self.records(server)
        return [s for s in await self.vault.slots(server) if await records.state(s) == SIGNED_IN]

    async def logout(self, server: str, slot: str) -> bool:
        storage = VaultTokenStorage(self.records(server), slot)
        return await storage.forget()

    async def close(self) -> None:
        await self.vault.close()
