"""Sign-ins shared through Redis: the browser's redirect may reach any process (a front end
behind a load balancer) while the request waits in another (a queue worker).

`<prefix>:oauth:pending:<state>` names the server and slot until the callback takes it
(GETDEL: exactly once); `<prefix>:oauth:used:<state>` tells a replay from a forgery; the code
travels on the list `<prefix>:oauth:result:<state>`, which the waiting flow pops (BLPOP).
"""

from __future__ import annotations

import json

import redis.asyncio as aioredis
from mcp.shared.auth import AuthorizationCodeResult

from orchestrator.identity.signins import (
    FORGED,
    REPLAYED,
    CallbackOutcome,
    PendingSignIn,
    SignInError,
    accepted,
    expired,
    refused,
    state_of,
)

USED_TTL_SECONDS = 7 * 86400


class RedisSignIns:
    def __init__(self, client: aioredis.Redis, prefix: str, ttl_seconds: int = 3600) -> None:
        self._redis, self._prefix, self._ttl = client, prefix, ttl_seconds

    def _key(self, kind: str, state: str) -> str:
        return f"{self._prefix}:oauth:{kind}:{state}"

    async def expect(self, server: str, slot: str, authorization_url: str) -> PendingSignIn:
        state = state_of(authorization_url)
        if not state:
            raise SignInError(f"the sign-in link for {server} carries no state")
        value = json.dumps({"server": server, "slot": slot})
        await self._redis.set(self._key("pending", state), value, ex=self._ttl)
        return PendingSignIn(state, server, slot)

    async def waiting(self, server: str) -> list[str]:
        slots = []
        async for key in self._redis.scan_iter(match=self._key("pending", "*"), count=500):
            raw = await self._redis.get(key)
            data = json.loads(raw) if raw else {}
            if data.get("server") == server:
                slots.append(str(data.get("slot")))
        return slots

    async def wait(self, pending: PendingSignIn, timeout: float) -> AuthorizationCodeResult:
        result_key = self._key("result", pending.state)
        try:
            popped = await self._redis.blpop([result_key], timeout=max(timeout, 0.01))
        finally:
            await self.cancel(pending)
        if popped is None:
            raise expired(pending, timeout)
        data = json.loads(popped[1])
        if data.get("error") or not data.get("code"):
            raise SignInError(
                f"the sign-in to {pending.server} was refused ({data.get('error') or 'no code'})"
            )
        return AuthorizationCodeResult(code=data["code"], state=pending.state, iss=data.get("iss"))

    async def cancel(self, pending: PendingSignIn) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key("pending", pending.state))
            pipe.set(self._key("used", pending.state), 1, ex=USED_TTL_SECONDS)
            pipe.delete(self._key("result", pending.state))
            await pipe.execute()

    async def complete(
        self, state: str, code: str, iss: str | None = None, error: str = ""
    ) -> CallbackOutcome:
        if not state:
            return REPLAYED
        raw = await self._redis.getdel(self._key("pending", state))
        if raw is None:
            return REPLAYED if await self._redis.exists(self._key("used", state)) else FORGED
        server = json.loads(raw)["server"]
        body = json.dumps({"code": code, "iss": iss, "error": error})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("used", state), 1, ex=USED_TTL_SECONDS)
            pipe.rpush(self._key("result", state), body)
            pipe.expire(self._key("result", state), self._ttl)
            await pipe.execute()
        return refused(server) if error or not code else accepted(server)
