"""Delivery: duplicates dropped and requests resumed (this process), and the reply parts a
worker died while sending (the queue's `unconfirmed` stream), each to resend or dismiss.

A resend goes through the platform's sender as a worker's would, once: the entry is deleted
(XDEL answers 1 to one caller only) before the part is sent."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from orchestrator import metrics
from orchestrator.config import Config
from orchestrator.console.pages import acting, audited, back, console_of, render, signed_in
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.senders import load_senders

SHOWN = 200


def _client(config: Config) -> tuple[aioredis.Redis, QueueKeys] | None:
    if not config.queue_url:
        return None
    client = aioredis.Redis.from_url(config.queue_url, socket_timeout=5, socket_connect_timeout=2)
    return client, QueueKeys(config.sessions.key_prefix, config.scale.partitions)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(entry_id: Any, fields: Any) -> dict[str, Any]:
    ident = _text(entry_id)
    values = {_text(k): _text(v) for k, v in (fields or {}).items()}
    at = datetime.fromtimestamp(int(ident.split("-")[0]) / 1000, UTC).astimezone()
    return {"id": ident, "at": at, **values}


async def delivery(request: Request) -> Response:
    person = signed_in(request)
    config = console_of(request).host.config
    entries: list[dict[str, Any]] = []
    queue = _client(config)
    if queue is not None:
        client, keys = queue
        try:
            raw: Any = await client.xrevrange(keys.unconfirmed, count=SHOWN)
            entries = [_entry(i, f) for i, f in raw or []]
        finally:
            await client.aclose()
    return render(
        request,
        "delivery",
        person,
        queue=queue is not None,
        entries=entries,
        duplicates=metrics.totals(metrics.DUPLICATES),
        resumes=metrics.totals(metrics.RESUMES),
        unconfirmed=metrics.totals(metrics.UNCONFIRMED),
    )


async def delivery_action(request: Request) -> Response:
    person, form = await acting(request)
    action, entry_id = request.path_params["action"], str(form.get("entry", ""))
    config = console_of(request).host.config
    queue = _client(config)
    if action not in ("resend", "dismiss") or queue is None or not entry_id:
        raise HTTPException(404)
    client, keys = queue
    try:
        found: Any = await client.xrange(keys.unconfirmed, min=entry_id, max=entry_id)
        if not found or not await client.xdel(keys.unconfirmed, entry_id):
            return back(request, "/dashboard/delivery", "Already handled by someone else.")
        entry = _entry(*found[0])
        if action == "dismiss":
            audited(person, "delivery_dismiss", f"{entry.get('job')}:{entry.get('part')}")
            return back(request, "/dashboard/delivery", "Dismissed.")
        text = await _resend(config, client, keys, entry)
    finally:
        await client.aclose()
    audited(person, "delivery_resend", f"{entry.get('job')}:{entry.get('part')} {text}")
    return back(request, "/dashboard/delivery", text)


async def _resend(
    config: Config, client: aioredis.Redis, keys: QueueKeys, entry: dict[str, Any]
) -> str:
    job, index = str(entry.get("job", "")), int(entry.get("part", "-1"))
    platform, _, chat_id = str(entry.get("target", "")).partition(":")
    outbox = RedisOutbox(client, keys, config.scale.dedupe_ttl_seconds)
    replies = await outbox.recorded(job)
    if replies is None or not chat_id:
        return "Cannot resend: the job's replies or target are no longer recorded."
    senders = load_senders(config)
    sender = senders.get(platform)
    try:
        if sender is None:
            return f"Cannot resend: no {platform} sender is configured here."
        part = next((p for p in sender.render(replies) if p.index == index), None)
        if part is None:
            return "Cannot resend: that part is not in the recorded replies."
        await sender.start()
        platform_id = await sender.send(
            chat_id, part, None, f"{job}:{index}", thread_id=entry.get("thread") or None
        )
        await outbox.part_sent(job, index, platform_id)
        return f"Resent part {index} of {job}."
    finally:
        for each in senders.values():
            with contextlib.suppress(Exception):
                await each.close()
