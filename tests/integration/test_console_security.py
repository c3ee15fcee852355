"""The console's guards, through a plain HTTP client against the real web server of a running
core: sign-in links (forged, expired, replayed), the session cookie, CSRF on every form, the
viewer role, escaping of user text, and no secret on any page."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from orchestrator.admin.audit_sink import audit_trail
from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.console.auth import LinkSigner, MemoryNonces
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage
from orchestrator.scheduling.store import Schedule
from orchestrator.scheduling.when import when_from_dict

SECRET_KEY = "console-signing-key-0123456789"
LLM_KEY = "sk-live-abcdef0123456789"
PAGES = [
    "/",
    "/schedules",
    "/approvals",
    "/chats",
    "/audit",
    "/config",
    "/delivery",
    "/usage",
    "/servers",
    "/doctor",
]
HOSTILE = "<script>window.pwned=1</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Orchestrator]:
    tmp = tmp_path_factory.mktemp("console")
    config = parse_config(
        "orchestrator:\n"
        f"  llm_settings: {{base_url: 'http://127.0.0.1:9/v1', api_key: {LLM_KEY}}}\n"
        "  memory_system: {type: none}\n"
        f"scheduler: {{path: '{tmp / 'schedules.json'}'}}\n"
        "http: {port: 0}\n"
        f"audit: {{path: '{tmp / 'audit.jsonl'}'}}\n"
        "admins: ['telegram:42']\n"
        f"dashboard: {{viewers: ['telegram:43'], secret_key: {SECRET_KEY}}}\n"
        "mcp_servers:\n"
        "  notes:\n    type: http\n    url: 'http://127.0.0.1:9/mcp?token=mcp-url-token-777'\n"
        "    enabled: false\n",
        env={},
    )
    orchestrator = build_orchestrator(config)
    with audit_trail(config):
        await orchestrator.start()
        assert orchestrator.scheduler is not None
        await orchestrator.scheduler.store.add(  # type: ignore[attr-defined]
            Schedule(
                id="evil2",
                platform="telegram",
                chat_id="-100",
                creator_id="7",
                creator_name=HOSTILE,
                when_text="daily at 9",
                when=when_from_dict({"kind": "cron", "expr": "0 9 * * *", "tz": "UTC"}),
                what=f"post {HOSTILE}",
                timezone="UTC",
                next_run_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
            ),
            20,
        )
        try:
            yield orchestrator
        finally:
            await orchestrator.stop()


def client(bot: Orchestrator) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=bot.web.base_url, follow_redirects=False)


@asynccontextmanager
async def signed_in(
    bot: Orchestrator, user: str = "telegram:42", role: str = "admin"
) -> AsyncIterator[httpx.AsyncClient]:
    async with client(bot) as c:
        page = await c.get("/dashboard/signin", params={"token": bot.web.signer.token(user, role)})
        assert page.status_code == 303 and page.headers["location"] == "/dashboard/"
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def test_without_a_session_every_page_and_form_redirects_to_sign_in(
    bot: Orchestrator,
) -> None:
    async with client(bot) as c:
        for page in PAGES:
            answer = await c.get(f"/dashboard{page}")
            assert answer.status_code == 303, page
            assert answer.headers["location"] == "/dashboard/signin"
        posted = await c.post("/dashboard/config/reload", data={"csrf": "x"})
        assert posted.status_code == 303 and posted.headers["location"] == "/dashboard/signin"
        assert (await c.get("/dashboard/audit.json")).status_code == 303


async def test_forged_expired_and_replayed_links_are_refused(bot: Orchestrator) -> None:
    other = LinkSigner("another-key", MemoryNonces(), 600)
    hour_ago = LinkSigner(SECRET_KEY, MemoryNonces(), 600, now=lambda: time.time() - 3600)
    good = bot.web.signer.token("telegram:42", "admin")
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    async with client(bot) as c:
        cases = {
            "forged": other.token("telegram:42", "admin"),
            "tampered": tampered,
            "expired": hour_ago.token("telegram:42", "admin"),
        }
        for name, token in cases.items():
            answer = await c.get("/dashboard/signin", params={"token": token})
            assert answer.status_code == 403, name
            assert "session" not in str(answer.headers.get("set-cookie", "")), name
        assert (await c.get("/dashboard/signin", params={"token": good})).status_code == 303
    async with client(bot) as again:
        replay = await again.get("/dashboard/signin", params={"token": good})
        assert replay.status_code == 403 and "used" in replay.text
        assert (await again.get("/dashboard/")).status_code == 303  # still signed out


async def test_a_link_for_someone_who_is_neither_admin_nor_viewer_is_refused(
    bot: Orchestrator,
) -> None:
    async with client(bot) as c:
        token = bot.web.signer.token("telegram:99", "admin")
        assert (await c.get("/dashboard/signin", params={"token": token})).status_code == 403


async def test_forms_need_their_csrf_token(bot: Orchestrator) -> None:
    async with signed_in(bot) as c:
        page = await c.get("/dashboard/schedules")
        token = csrf_of(page.text)
        url = "/dashboard/schedules/evil2/pause"
        assert (await c.post(url)).status_code == 403
        assert (await c.post(url, data={"csrf": "wrong"})).status_code == 403
        assert not (await bot.scheduler.store.get("evil2")).paused  # type: ignore[union-attr]
        done = await c.post(url, data={"csrf": token})
        assert done.status_code == 303
        assert (await bot.scheduler.store.get("evil2")).paused  # type: ignore[union-attr]
        await c.post("/dashboard/schedules/evil2/resume", data={"csrf": token})
        assert (await c.post("/dashboard/logout")).status_code == 403  # logout is a form too
        assert (await c.post("/dashboard/logout", data={"csrf": token})).status_code == 303
        assert (await c.get("/dashboard/")).status_code == 303


async def test_chat_rules_are_edited_and_forgetting_memory_needs_the_chat_typed(
    bot: Orchestrator,
) -> None:
    async with signed_in(bot) as c:
        token = csrf_of((await c.get("/dashboard/chats")).text)
        form = {"csrf": token, "chat": "telegram:-100", "pattern": "notes/*"}
        assert (await c.post("/dashboard/chats/deny", data=form)).status_code == 303
        assert bot.chat_rules.rules("telegram:-100") == ((), ("notes/*",))
        bad = {**form, "pattern": "<b>x</b>"}
        await c.post("/dashboard/chats/allow", data=bad)
        assert "Give a pattern" in (await c.get("/dashboard/chats")).text
        forget = {"csrf": token, "chat": "telegram:-100", "confirm": "yes"}
        await c.post("/dashboard/chats/forget", data=forget)
        assert "Type telegram:-100 to confirm" in (await c.get("/dashboard/chats")).text
        page = (await c.get("/dashboard/audit?action=dashboard")).text
        assert "chat_deny" in page and "42" in page


async def test_a_viewer_sees_every_page_but_cannot_act(bot: Orchestrator) -> None:
    async with signed_in(bot, "telegram:43", "viewer") as c:
        for page in PAGES:
            answer = await c.get(f"/dashboard{page}")
            assert answer.status_code == 200, page
            assert "data-action" not in answer.text, page  # no action buttons shown
        token = csrf_of((await c.get("/dashboard/")).text)  # the logout form's
        for url in (
            "/dashboard/schedules/evil2/pause",
            "/dashboard/config/reload",
            "/dashboard/chats/allow",
        ):
            assert (await c.post(url, data={"csrf": token})).status_code == 403
    assert not (await bot.scheduler.store.get("evil2")).paused  # type: ignore[union-attr]


async def test_html_in_user_text_is_shown_as_text_and_no_secret_is_on_any_page(
    bot: Orchestrator,
) -> None:
    await bot.handle(ChatMessage("telegram", "-100", "42", "/config"))  # an audited command
    async with signed_in(bot) as c:
        pages = {p: (await c.get(f"/dashboard{p}")).text for p in PAGES}
        pages["audit.json"] = (await c.get("/dashboard/audit.json")).text
        pages["metrics"] = (await c.get("/metrics")).text
    schedules = pages["/schedules"]
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in schedules
    assert "<script>" not in schedules and "<img src=x" not in schedules
    assert "admin_command" in pages["audit.json"]
    for name, html in pages.items():
        for secret in (LLM_KEY, SECRET_KEY, "mcp-url-token-777"):
            assert secret not in html, (name, secret)
    assert "secret_key: &#39;***&#39;" in pages["/config"]  # masked, and shown as masked
