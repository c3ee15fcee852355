"""Sign-in: single-use, signed, expiring links; a signed session cookie; CSRF tokens; roles.

A link carries who it is for and a random nonce, signed with itsdangerous (a forged one fails
the signature, an old one its max age). Redeeming it consumes the nonce atomically (Redis
`SET NX` when sessions use Redis, else an in-process map), so a replayed link is refused
whichever process sees it. The session lives in Starlette's signed cookie; its role is checked
against the running config on every request, so removing an admin ends their session.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from orchestrator.config import Config

log = logging.getLogger(__name__)

LOCAL_USER = "cli:operator"  # the person who started `orchestrator dashboard` (its printed link)
ADMIN, VIEWER = "admin", "viewer"


class LinkRefused(Exception):
    """The sign-in link is forged, expired or already used."""


class NonceLedger(Protocol):
    async def consume(self, nonce: str, ttl_seconds: int) -> bool:
        """True the first time `nonce` is consumed, False after."""
        ...


class MemoryNonces:
    """One process: nonces used within their lifetime, forgotten after it."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._used: dict[str, float] = {}
        self.now = now

    async def consume(self, nonce: str, ttl_seconds: int) -> bool:
        now = self.now()
        for old in [n for n, until in self._used.items() if until < now]:
            del self._used[old]
        if nonce in self._used:
            return False
        self._used[nonce] = now + ttl_seconds
        return True


class RedisNonces:
    """Every process sharing the Redis: `SET <prefix>:dash:link:<nonce> 1 NX EX ttl`."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    async def consume(self, nonce: str, ttl_seconds: int) -> bool:
        key = f"{self.prefix}:dash:link:{nonce}"
        return bool(await self.client.set(key, b"1", nx=True, ex=max(ttl_seconds, 1)))

    async def close(self) -> None:
        await self.client.aclose()


def _clocked(now: Callable[[], float]) -> type[TimestampSigner]:
    """itsdangerous' timestamp signer reading time from `now` (tests expire links)."""

    class Clocked(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now())

    return Clocked


@dataclass(frozen=True, slots=True)
class SignIn:
    user: str
    role: str


class LinkSigner:
    def __init__(
        self,
        secret: str,
        nonces: NonceLedger,
        link_seconds: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret, salt="orchestrator-dashboard-link", signer=_clocked(now)
        )
        self.cookie_secret = secret + ":cookie"  # the session cookie's signing key
        self.nonces, self.link_seconds = nonces, link_seconds

    def token(self, user: str, role: str) -> str:
        return self._serializer.dumps({"u": user, "r": role, "n": secrets.token_urlsafe(12)})

    async def redeem(self, token: str) -> SignIn:
        """The sign-in a link grants, once; LinkRefused (with why) otherwise."""
        try:
            data = self._serializer.loads(token, max_age=int(self.link_seconds))
        except SignatureExpired:
            raise LinkRefused("expired") from None
        except BadSignature:
            raise LinkRefused("forged") from None
        if not isinstance(data, dict) or not {"u", "r", "n"} <= set(data):
            raise LinkRefused("forged")
        if not await self.nonces.consume(str(data["n"]), int(self.link_seconds) + 60):
            raise LinkRefused("used")
        return SignIn(str(data["u"]), str(data["r"]))


def role_of(config: Config, user: str) -> str | None:
    """The console role of `platform:user_id` under the running config (None: no access)."""
    if user == LOCAL_USER:
        return ADMIN
    bare = user.split(":", 1)[-1]
    if user in config.admins or bare in config.admins:
        return ADMIN
    viewers = config.dashboard.viewers
    if user in viewers or bare in viewers:
        return VIEWER
    return None


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and secrets.compare_digest(str(given), str(expected))
