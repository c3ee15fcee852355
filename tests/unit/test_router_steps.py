"""How a request is split into steps, and how many tools each step gets within top_k."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing import router as router_module
from orchestrator.routing.router import ToolRouter
from orchestrator.routing.text import MAX_STEPS, request_parts


def test_steps_are_split_on_the_joining_words_of_other_languages() -> None:
    assert request_parts("revisa las facturas pendientes y luego crea una tarea en ClickUp") == [
        "revisa las facturas pendientes",
        "crea una tarea en ClickUp",
    ]
    assert request_parts("Prüfe die offenen Rechnungen und dann schreib dem Team") == [
        "Prüfe die offenen Rechnungen",
        "schreib dem Team",
    ]
    assert request_parts("liste les factures impayées puis crée une tâche") == [
        "liste les factures impayées",
        "crée une tâche",
    ]
    assert request_parts("exporte le rapport en PDF") == []  # "en" is a preposition here


def test_a_long_list_of_steps_is_joined_to_at_most_max_steps_keeping_every_word() -> None:
    steps = [f"file chore{n}" for n in range(20)]
    parts = request_parts(", ".join(steps))
    assert len(parts) == MAX_STEPS
    assert ", ".join(parts) == ", ".join(steps)


class _Keyed:
    """An embedder whose vectors are fixed per text (tests of the pick, not of the model)."""

    dim = 8

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    async def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors.get(t, np.ones(8, np.float32) / np.sqrt(8)) for t in texts])


@contextlib.contextmanager
def patched_round_robin() -> Iterator[None]:
    router_module.STEP_GAPS = False
    try:
        yield
    finally:
        router_module.STEP_GAPS = True


async def test_two_steps_each_get_half_of_the_budget() -> None:
    tools = [ToolSpec("s", f"t{n}", f"tool {n}", {}) for n in range(12)]
    router = ToolRouter(_Keyed({}), top_k=8, threshold=None)  # type: ignore[arg-type]
    await router.refresh(tools)
    # Step 0 prefers tools 0..5, step 1 tools 6..11 (descending), both far below the message.
    steps = np.full((2, 12), -1.0, dtype=np.float32)
    steps[0, :6] = np.linspace(1.0, 0.5, 6)
    steps[1, 6:] = np.linspace(1.0, 0.5, 6)
    picked = router._step_bests(steps, None, 8)
    assert picked == [0, 6, 1, 7, 2, 8, 3, 9]
    assert router._step_bests(np.vstack([steps, steps, steps]), None, 8) == picked
    with patched_round_robin():
        assert router._step_bests(np.vstack([steps, steps, steps]), None, 8) == [0, 6, 1, 7, 2, 8]


async def test_a_step_with_one_clear_tool_leaves_its_places_to_a_step_with_close_ones() -> None:
    tools = [ToolSpec("s", f"t{n}", f"tool {n}", {}) for n in range(12)]
    router = ToolRouter(_Keyed({}), top_k=8, threshold=None)  # type: ignore[arg-type]
    await router.refresh(tools)
    steps = np.full((2, 12), -1.0, dtype=np.float32)
    steps[0, 0] = 1.0  # step 0: tool 0 and nothing close
    steps[0, 1:6] = np.linspace(-0.6, -0.8, 5)
    steps[1, 6:] = np.linspace(0.9, 0.8, 6)  # step 1: six tools close together
    picked = router._step_bests(steps, None, 6)
    assert picked[:2] == [0, 6]  # every step's best first
    assert picked[2:] == [7, 8, 9, 10]  # then step 1's close seconds before step 0's far ones
    assert router._step_bests(steps, lambda t: t.name != "t6", 6)[:2] == [0, 7]


def test_a_linking_word_alone_is_no_step_and_a_fragment_joins_the_step_before() -> None:
    assert request_parts(
        "What is the exchange rate between USD and EUR? Also, which airlines fly to London?"
    ) == [
        "What is the exchange rate between USD and EUR?",
        "which airlines fly to London?",
    ]
    assert request_parts("Is it a good time to buy bitcoin? Also, list the sights of Tokyo") == [
        "Is it a good time to buy bitcoin?",
        "list the sights of Tokyo",
    ]


def test_chat_shorthand_for_profit_and_loss_reads_as_the_accounting_term() -> None:
    from orchestrator.routing.text import expand_shorthand

    assert expand_shorthand("pull the P&L") == "pull the profit and loss"
