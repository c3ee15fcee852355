"""Restart delays: exponential with full jitter, so restarted servers do not stampede."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None
) -> float:
    """Delay before restart number `attempt` (0-based): uniform in [base/2, min(cap, base*2^n)]."""
    ceiling = min(cap, base * (2**attempt))
    return (rng or random).uniform(min(base / 2, ceiling), ceiling)
