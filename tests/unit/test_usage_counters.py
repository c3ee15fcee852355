"""The day counters behind budgets and the console's usage page: kept HISTORY_DAYS, by model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.admin.budgets import HISTORY_DAYS, MemoryCounters, TokenBudgets
from orchestrator.clock import FakeClock


async def test_a_charge_counts_the_chat_the_person_and_each_model_of_the_day() -> None:
    clock = FakeClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    budgets = TokenBudgets(MemoryCounters(), clock)
    await budgets.charge("telegram", "-100", "ann", 45, {"gpt-x": 40, "small": 5})
    await budgets.charge("telegram", "-100", "bob", 10, {"gpt-x": 10})
    assert await budgets.counters.get("chat:telegram:-100:2026-12-07") == 55
    assert await budgets.counters.get("user:telegram:ann:2026-12-07") == 45
    assert await budgets.counters.get("model:gpt-x:2026-12-07") == 50
    assert await budgets.counters.get("model:small:2026-12-07") == 5


async def test_in_process_counters_keep_the_history_days_and_drop_older_ones() -> None:
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    clock = FakeClock(start)
    counters = MemoryCounters()
    budgets = TokenBudgets(counters, clock)
    await budgets.charge("console", "team", "ann", 7, {"m": 7})
    clock.set(start + timedelta(days=HISTORY_DAYS))
    await budgets.charge("console", "team", "ann", 1, {"m": 1})
    assert await counters.get("model:m:2026-11-01") == 7  # exactly HISTORY_DAYS old: kept
    clock.set(start + timedelta(days=HISTORY_DAYS + 1))
    await budgets.charge("console", "team", "ann", 1, {"m": 1})
    assert await counters.get("model:m:2026-11-01") == 0  # older: gone, as its TTL would be
    assert await counters.get("chat:console:team:2026-11-01") == 0
    assert await counters.get(f"model:m:{(start + timedelta(days=HISTORY_DAYS)).date()}") == 1
