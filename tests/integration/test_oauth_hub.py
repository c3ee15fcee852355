"""OAuth 2.1 sign-in to a remote MCP server, at the wire (issue 32).

A real MCP server over streamable HTTP behind the SDK's server-side auth, an authorization server
run by the test, the bot's own `/oauth/callback`, and the SDK's client OAuth in the hub: the
"person" follows the sign-in link with an HTTP client, as a browser would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from orchestrator.audit import bind_requester
from orchestrator.config import HttpSettings
from orchestrator.errors import ServerDown
from orchestrator.identity.gate import OAuthGate, SignInLink
from orchestrator.identity.people import oauth_connections
from orchestrator.identity.routes import callback_url, oauth_routes
from orchestrator.identity.signins_redis import RedisSignIns
from orchestrator.identity.storage import REFRESH_FAILED, SIGNED_IN
from orchestrator.identity.vault_base import Sealer
from orchestrator.identity.vault_file import FileVault
from orchestrator.identity.vault_redis import RedisVault
from orchestrator.mcp.hub import McpHub
from orchestrator.web import WebServer, build_app
from tests.oauth_kit import KEY, BotSide, Stand, bot_side, follow, oauth_stand


@pytest.fixture
async def stand() -> AsyncIterator[Stand]:
    async with oauth_stand() as running:
        yield running


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotSide]:
    async with bot_side(FileVault(tmp_path / "oauth_tokens.json")) as side:
        yield side


@pytest.fixture(autouse=True)
def every_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


async def hub_for(stand: Stand, bot: BotSide, **auth: Any) -> McpHub:
    hub = McpHub({"notes": stand.server("person", **auth)}, oauth_connections(bot.gate))
    await hub.start()
    return hub


async def call_as(hub: McpHub, user: str) -> asyncio.Task[Any]:
    """A tool call in its own task, made for `telegram:<user>` (asked in group -100)."""

    async def call() -> Any:
        bind_requester("telegram", "-100", user)
        return await hub.call("notes", "my_notes", {})

    return asyncio.create_task(call())


async def signed_in_call(hub: McpHub, bot: BotSide, user: str, as_user: str) -> str:
    task = await call_as(hub, user)
    link = await bot.next_link()
    page = await follow(link.url, as_user)
    assert page.status_code == 200 and "Signed in to notes" in page.text
    return (await asyncio.wait_for(task, 20)).text


def assert_no_token_leaked(stand: Stand, *texts: str) -> None:
    tokens = stand.auth_server.all_tokens()
    assert tokens
    for text in texts:
        assert not [t for t in tokens if t in text]


async def test_a_person_signs_in_through_the_callback_and_their_call_resumes(
    stand: Stand, bot: BotSide, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_for(stand, bot)
    try:
        assert hub.status()[0].state == "needs sign-in"  # nobody has signed in yet
        task = await call_as(hub, "1")
        link = await bot.next_link()
        assert (link.server, link.slot, link.again) == ("notes", "telegram:1", False)
        assert link.url.startswith(stand.auth_server.base_url + "/authorize?")
        assert "code_challenge_method=S256" in link.url and "state=" in link.url
        page = await follow(link.url, "alice")
        assert page.status_code == 200
        assert str(page.url).startswith(bot.web.base_url + "/oauth/callback?code=")
        assert (await asyncio.wait_for(task, 20)).text == "notes of alice: buy milk (alice)"
        assert stand.auth_server.grants == ["authorization_code"]  # PKCE checked at /token
        assert not stand.auth_server.problems
        assert await bot.gate.state("notes", "telegram:1") == SIGNED_IN
        # The second call uses the same session and token: no new link, no new grant.
        again = await call_as(hub, "1")
        assert (await asyncio.wait_for(again, 20)).text.startswith("notes of alice")
        assert bot.links.empty() and stand.auth_server.grants == ["authorization_code"]
        # The callback replayed is refused, and so is a state the bot never issued.
        async with httpx2.AsyncClient() as browser:
            replayed = await browser.get(str(page.url))
            forged = await browser.get(
                bot.web.base_url + "/oauth/callback", params={"code": "x", "state": "forged"}
            )
        assert replayed.status_code == 400 and "already used" in replayed.text
        assert forged.status_code == 400 and "unknown state" in forged.text
        # The tools are known to everyone now (the catalogue, not anyone's data).
        assert [t.key for t in hub.catalogue()] == ["notes/my_notes"]
        # Tokens are stored encrypted: neither the access nor the refresh token is in the file.
        stored = (tmp_path / "oauth_tokens.json").read_text()
        assert "telegram:1" in stored
        assert_no_token_leaked(stand, stored, caplog.text)
    finally:
        await hub.stop()


async def test_two_people_in_one_group_each_see_their_own_data(
    stand: Stand, bot: BotSide, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_for(stand, bot)
    try:
        assert await signed_in_call(hub, bot, "1", "alice") == "notes of alice: buy milk (alice)"
        assert await signed_in_call(hub, bot, "2", "bob") == "notes of bob: buy milk (bob)"
        for user, name in (("1", "alice"), ("2", "bob"), ("1", "alice")):
            result = await asyncio.wait_for(await call_as(hub, user), 20)
            assert result.text == f"notes of {name}: buy milk ({name})"
        assert bot.links.empty()
        assert sorted(await bot.gate.signed_in("notes")) == ["telegram:1", "telegram:2"]
        assert_no_token_leaked(stand, caplog.text)
    finally:
        await hub.stop()


async def test_an_expired_token_is_refreshed_after_a_restart_without_a_new_sign_in(
    stand: Stand, bot: BotSide
) -> None:
    hub = await hub_for(stand, bot)
    assert (await signed_in_call(hub, bot, "1", "alice")).startswith("notes of alice")
    await hub.stop()
    # Time passes: the access token has expired, at the server and in the bot's record.
    for issued in stand.auth_server.access.values():
        issued.expires_at = 0
    records = bot.gate.records("notes")
    record = await records.read("telegram:1")
    assert record is not None
    await records.write("telegram:1", {**record, "expires_at": 0})
    hub = await hub_for(stand, bot)
    try:
        result = await asyncio.wait_for(await call_as(hub, "1"), 20)
        assert result.text.startswith("notes of alice")
        assert stand.auth_server.grants == ["authorization_code", "refresh_token"]
        assert bot.links.empty()
    finally:
        await hub.stop()


async def test_a_revoked_token_sends_a_new_sign_in_link_and_the_call_goes_on(
    stand: Stand, bot: BotSide
) -> None:
    hub = await hub_for(stand, bot)
    try:
        assert (await signed_in_call(hub, bot, "1", "alice")).startswith("notes of alice")
        stand.auth_server.revoke_subject("alice")
        task = await call_as(hub, "1")
        link = await bot.next_link()
        assert link.again and link.slot == "telegram:1"
        assert await bot.gate.state("notes", "telegram:1") == REFRESH_FAILED
        assert (await follow(link.url, "alice")).status_code == 200
        assert (await asyncio.wait_for(task, 20)).text.startswith("notes of alice")
        assert await bot.gate.state("notes", "telegram:1") == SIGNED_IN
        assert hub.status()[0].state == "up"  # never disabled for everyone
    finally:
        await hub.stop()


async def test_a_person_who_never_signs_in_gets_a_clear_error_and_nothing_waits(
    stand: Stand, bot: BotSide
) -> None:
    hub = await hub_for(stand, bot, sign_in_timeout_seconds=2)
    try:
        assert (await signed_in_call(hub, bot, "2", "bob")).startswith("notes of bob")
        task = await call_as(hub, "1")
        link = await bot.next_link()
        # While Ann's request waits for her sign-in, Bob's calls go on: nothing else waits.
        bobs = await asyncio.wait_for(await call_as(hub, "2"), 20)
        assert bobs.text.startswith("notes of bob") and not task.done()
        with pytest.raises(ServerDown, match="was not completed within 2 s; send /login notes"):
            await asyncio.wait_for(task, 20)
        assert await bot.gate.signins.waiting("notes") == []
        people = hub.connections["notes"]._people  # type: ignore[attr-defined]
        assert list(people) == ["telegram:2"]  # Ann has no session left behind
        late = await follow(link.url, "alice")  # the link followed after it expired
        assert late.status_code == 400
        assert stand.auth_server.grants == ["authorization_code"]  # Bob's only
    finally:
        await hub.stop()


async def test_an_authorization_server_that_is_down_fails_the_call_clearly(
    stand: Stand, bot: BotSide
) -> None:
    stand.auth_server.down = True
    hub = await hub_for(stand, bot)
    try:
        with pytest.raises(ServerDown, match="notes: "):
            await asyncio.wait_for(await call_as(hub, "1"), 20)
        assert bot.links.empty()  # no link to a sign-in that cannot work
        stand.auth_server.down = False  # back up: the next call signs in
        assert (await signed_in_call(hub, bot, "1", "alice")).startswith("notes of alice")
    finally:
        await hub.stop()


async def test_tokens_in_redis_are_encrypted_per_server_and_person(
    stand: Stand, redis_client: Any, key_prefix: str
) -> None:
    async with bot_side(RedisVault(redis_client, key_prefix)) as bot:
        hub = await hub_for(stand, bot)
        try:
            assert (await signed_in_call(hub, bot, "7", "carol")).startswith("notes of carol")
        finally:
            await hub.stop()
        stored = await redis_client.hgetall(f"{key_prefix}:oauth:notes")
        assert {k.decode() for k in stored} == {"telegram:7", "_client", "_catalogue", "_metadata"}
        assert_no_token_leaked(stand, *(v.decode() for v in stored.values()))
        assert await bot.gate.logout("notes", "telegram:7")
        assert await bot.gate.state("notes", "telegram:7") == "needs sign-in"


async def test_the_callback_may_reach_another_process_than_the_waiting_request(
    stand: Stand, redis_client: Any, redis_url: str, key_prefix: str
) -> None:
    """Distributed mode: the request waits in a worker, the browser lands on a front end."""
    import redis.asyncio as aioredis

    front_redis = aioredis.Redis.from_url(redis_url)
    front = WebServer(
        build_app(oauth_routes(RedisSignIns(front_redis, key_prefix))), HttpSettings(port=0)
    )
    await front.start()
    links: asyncio.Queue[SignInLink] = asyncio.Queue()

    async def notify(link: SignInLink) -> None:
        await links.put(link)

    worker = OAuthGate(
        RedisVault(redis_client, key_prefix),
        Sealer(KEY),
        RedisSignIns(redis_client, key_prefix),
        callback_url(front.base_url),
        notify,
    )
    hub = McpHub({"notes": stand.server("person")}, oauth_connections(worker))
    await hub.start()
    try:
        task = await call_as(hub, "1")
        link = await asyncio.wait_for(links.get(), 10)
        assert await worker.signins.waiting("notes") == ["telegram:1"]
        page = await follow(link.url, "alice")
        assert page.status_code == 200 and str(page.url).startswith(front.base_url)
        assert (await asyncio.wait_for(task, 20)).text.startswith("notes of alice")
        async with httpx2.AsyncClient() as browser:
            replayed = await browser.get(str(page.url))
            forged = await browser.get(
                front.base_url + "/oauth/callback", params={"code": "x", "state": "forged"}
            )
        assert replayed.status_code == 400 and "already used" in replayed.text
        assert forged.status_code == 400 and "unknown state" in forged.text
        assert await worker.signins.waiting("notes") == []
    finally:
        await hub.stop()
        await front.stop()
        await front_redis.aclose()


async def test_a_refresh_the_server_refuses_sends_that_person_a_new_sign_in_link(
    stand: Stand, bot: BotSide
) -> None:
    hub = await hub_for(stand, bot)
    assert (await signed_in_call(hub, bot, "1", "alice")).startswith("notes of alice")
    assert (await signed_in_call(hub, bot, "2", "bob")).startswith("notes of bob")
    await hub.stop()
    # Ann's access token has expired and the server revoked her refresh token meanwhile.
    stand.auth_server.revoke_subject("alice")
    records = bot.gate.records("notes")
    record = await records.read("telegram:1")
    assert record is not None
    await records.write("telegram:1", {**record, "expires_at": 0})
    hub = await hub_for(stand, bot)
    try:
        task = await call_as(hub, "1")
        link = await bot.next_link()
        assert link.again and link.slot == "telegram:1"
        assert stand.auth_server.grants[-1] == "refresh_token"  # tried, refused
        assert await bot.gate.state("notes", "telegram:1") == REFRESH_FAILED
        # Bob is not affected: his calls go on with his own token meanwhile.
        bobs = await asyncio.wait_for(await call_as(hub, "2"), 20)
        assert bobs.text.startswith("notes of bob")
        assert (await follow(link.url, "alice")).status_code == 200
        assert (await asyncio.wait_for(task, 20)).text.startswith("notes of alice")
    finally:
        await hub.stop()
