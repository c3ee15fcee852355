"""The delivery building blocks: per-key order, the bounded TTL map, escaping for Telegram."""

from __future__ import annotations

import asyncio

from bots.telegram.adapter import strip_mention
from bots.telegram.render import render_markdown
from orchestrator.delivery.in_process import TtlSet
from orchestrator.delivery.ordering import KeyedSequencer


async def test_one_key_runs_in_call_order_and_other_keys_do_not_wait() -> None:
    order = KeyedSequencer()
    finished: list[str] = []
    gate = asyncio.Event()

    async def work(key: str, name: str, wait: bool) -> None:
        async with order.turn(key):
            if wait:
                await gate.wait()
            finished.append(name)

    tasks = [asyncio.create_task(work("ann", "ann-1", True))]
    tasks += [asyncio.create_task(work("ann", f"ann-{i}", False)) for i in range(2, 5)]
    tasks.append(asyncio.create_task(work("bob", "bob-1", False)))
    await asyncio.sleep(0.05)
    assert finished == ["bob-1"]  # bob is not held behind ann's slow first message
    gate.set()
    await asyncio.gather(*tasks)
    assert finished == ["bob-1", "ann-1", "ann-2", "ann-3", "ann-4"]
    assert len(order) == 0  # nothing left behind


def test_ttl_set_forgets_expired_and_oldest_keys() -> None:
    now = [0.0]
    keys = TtlSet(ttl=10, max_items=3, now=lambda: now[0])
    for k in "abcd":
        keys.add(k)
    assert "a" not in keys and {"b", "c", "d"} == {k for k in "abcd" if k in keys}
    now[0] = 11
    assert "d" not in keys


def test_angle_brackets_outside_code_survive_and_code_is_untouched() -> None:
    [part] = render_markdown("/run <server> <tool> [arguments] & more, `a <b>` too")
    assert part.text == "/run <server> <tool> [arguments] & more, a <b> too"


def test_mention_is_stripped_whatever_its_case() -> None:
    assert strip_mention("@Team_Ops_Bot /run time now", "team_ops_bot") == "/run time now"
    assert strip_mention("hi @team_ops_botty", "team_ops_bot") == "hi @team_ops_botty"
