"""Sign-ins waiting for the browser's redirect, keyed by the OAuth `state` the SDK made.

`expect` registers the state of an authorization URL before the link is sent; the callback
route `complete`s it exactly once (an unknown state is refused as forged, a used one as
replayed); the flow `wait`s for the code or gives up after the sign-in timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from mcp.shared.auth import AuthorizationCodeResult

from orchestrator.errors import ToolError

log = logging.getLogger(__name__)

USED_STATES_KEPT = 10_000


class SignInError(ToolError):
    """A sign-in did not complete (expired, refused at the authorization server)."""


@dataclass
class PendingSignIn:
    state: str
    server: str
    slot: str
    started: float = field(default_factory=time.monotonic)
    result: asyncio.Future[AuthorizationCodeResult] | None = None  # in this process only


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    status: int  # the HTTP status of the page the browser gets
    text: str


def state_of(authorization_url: str) -> str:
    values = parse_qs(urlsplit(authorization_url).query).get("state") or [""]
    return values[0]


class SignInBook(Protocol):
    """Sign-ins under way: in this process (`SignIns`), or in Redis (`RedisSignIns`) when the
    callback may land on another process than the one whose request waits."""

    async def expect(self, server: str, slot: str, authorization_url: str) -> PendingSignIn: ...

    async def waiting(self, server: str) -> list[str]: ...

    async def wait(self, pending: PendingSignIn, timeout: float) -> AuthorizationCodeResult: ...

    async def cancel(self, pending: PendingSignIn) -> None: ...

    async def complete(
        self, state: str, code: str, iss: str | None = None, error: str = ""
    ) -> CallbackOutcome: ...


def expired(pending: PendingSignIn, timeout: float) -> SignInError:
    log.info("oauth_sign_in_expired server=%s slot=%s", pending.server, pending.slot)
    return SignInError(
        f"the sign-in to {pending.server} was not completed within "
        f"{_minutes(timeout)}; send /login {pending.server} and ask again"
    )


REPLAYED = CallbackOutcome(400, "This sign-in link was already used or has expired.")
FORGED = CallbackOutcome(400, "This sign-in was not started here (unknown state).")


def accepted(server: str) -> CallbackOutcome:
    return CallbackOutcome(
        200, f"Signed in to {server}. You can close this page and go back to the chat."
    )


def refused(server: str) -> CallbackOutcome:
    return CallbackOutcome(400, f"The sign-in to {server} was refused.")


class SignIns:
    """In this process: the callback must reach the process that started the sign-in."""

    def __init__(self) -> None:
        self._pending: dict[str, PendingSignIn] = {}
        self._used: OrderedDict[str, float] = OrderedDict()

    async def expect(self, server: str, slot: str, authorization_url: str) -> PendingSignIn:
        state = state_of(authorization_url)
        if not state:
            raise SignInError(f"the sign-in link for {server} carries no state")
        pending = PendingSignIn(state, server, slot)
        pending.result = asyncio.get_running_loop().create_future()
        self._pending[state] = pending
        return pending

    async def waiting(self, server: str) -> list[str]:
        """The slots with a sign-in under way for `server`."""
        return [p.slot for p in self._pending.values() if p.server == server]

    async def wait(self, pending: PendingSignIn, timeout: float) -> AuthorizationCodeResult:
        assert pending.result is not None
        try:
            return await asyncio.wait_for(asyncio.shield(pending.result), timeout)
        except TimeoutError:
            raise expired(pending, timeout) from None
        finally:
            if self._pending.get(pending.state) is pending:
                del self._pending[pending.state]
                self._remember(pending.state)

    async def cancel(self, pending: PendingSignIn) -> None:
        if self._pending.pop(pending.state, None) is not None:
            self._remember(pending.state)

    async def complete(
        self, state: str, code: str, iss: str | None = None, error: str = ""
    ) -> CallbackOutcome:
        if not state or state in self._used:
            log.warning("oauth_callback_refused reason=%s", "replayed" if state else "no_state")
            return REPLAYED
        pending = self._pending.pop(state, None)
        if pending is None:
            log.warning("oauth_callback_refused reason=unknown_state")
            return FORGED
        self._remember(state)
        if pending.result is None or pending.result.done():
            return CallbackOutcome(400, "This sign-in has expired; start it again.")
        if error or not code:
            pending.result.set_exception(
                SignInError(f"the sign-in to {pending.server} was refused ({error or 'no code'})")
            )
            return refused(pending.server)
        pending.result.set_result(AuthorizationCodeResult(code=code, state=state, iss=iss))
        log.info("oauth_callback_accepted server=%s slot=%s", pending.server, pending.slot)
        return accepted(pending.server)

    def _remember(self, state: str) -> None:
        self._used[state] = time.monotonic()
        while len(self._used) > USED_STATES_KEPT:
            self._used.popitem(last=False)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
