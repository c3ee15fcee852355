"""The fake Discord REST API refuses what Discord refuses (so the wire tests prove something)."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.fakes.discord_api import APP_ID, FakeDiscord
from tests.fakes.discord_interactions import APPLICATION_COMMAND, COMPONENT

GENERAL = "444444444444444441"


async def post(session: aiohttp.ClientSession, url: str, body: Any, token: str = "") -> Any:
    headers = {"Authorization": f"Bot {token}"} if token else {}
    async with session.post(url, json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def test_message_bodies_past_discords_limits_are_refused_with_its_errors() -> None:
    async with FakeDiscord() as api, aiohttp.ClientSession() as session:
        url = f"{api.base_url}/channels/{GENERAL}/messages"
        status, body = await post(session, url, {"content": "x" * 2001}, api.token)
        assert (status, body["code"]) == (400, 50035) and "content" in body["errors"]
        status, body = await post(session, url, {"content": ""}, api.token)
        assert (status, body["code"]) == (400, 50006)
        rows = [{"type": 1, "components": [{"type": 2, "style": 1, "label": "x"}]}]
        status, body = await post(session, url, {"content": "a", "components": rows}, api.token)
        assert "custom_id" in str(body["errors"])
        mentions = {"parse": ["users"], "users": ["1"]}
        status, body = await post(
            session, url, {"content": "a", "allowed_mentions": mentions}, api.token
        )
        assert "allowed_mentions" in body["errors"]
        reply = {"content": "a", "message_reference": {"message_id": "1"}}
        status, body = await post(session, url, reply, api.token)
        assert "message_reference" in body["errors"]
        assert api.messages == []


async def test_interactions_are_answered_once_in_time_and_followed_up_after() -> None:
    async with FakeDiscord() as api, aiohttp.ClientSession() as session:
        asked = api.interaction(APPLICATION_COMMAND, GENERAL)
        callback = f"{api.base_url}/interactions/{asked.id}/{asked.token}/callback"
        follow_up = f"{api.base_url}/webhooks/{APP_ID}/{asked.token}?wait=true"
        status, body = await post(session, follow_up, {"content": "early"})
        assert (status, body["code"]) == (404, 10015)  # nothing answered yet
        status, _ = await post(session, callback, {"type": 6})
        assert status == 400  # a deferred update is for component interactions only
        status, body = await post(session, callback, {"type": 5})
        assert status == 200 and body["interaction"]["response_message_loading"] is True
        status, body = await post(session, callback, {"type": 4, "data": {"content": "x"}})
        assert (status, body["code"]) == (400, 40060)
        status, body = await post(session, follow_up, {"content": "done"})
        assert status == 200 and body["content"] == "done"

        late = api.interaction(COMPONENT, GENERAL, age=3.5)
        url = f"{api.base_url}/interactions/{late.id}/{late.token}/callback"
        status, body = await post(session, url, {"type": 6})
        assert (status, body["code"]) == (404, 10062)

        api.routes.follow_up_for = 0.0  # the 15 minutes have passed
        status, body = await post(session, follow_up, {"content": "too late"})
        assert (status, body["code"]) == (401, 50027)
