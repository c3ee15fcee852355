"""The routing benchmark's realcat sections each have requests (an empty split would write an
empty section), counted without reading any request of the frozen test split."""

from __future__ import annotations

from bench.routing import realcat_sets
from bench.routing_data import realcat


def test_every_realcat_section_has_requests() -> None:
    sets = realcat_sets(realcat())
    assert [title for title, _, cases in sets if not cases] == []
    multi = next(cases for title, _, cases in sets if "multi-step" in title)
    assert all(len(case.needs) > 1 for case in multi)
