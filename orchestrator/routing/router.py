"""The router: which tools get full schemas for a message, best first; the rest of the chat's
catalogue stays reachable through the directory (`Routing.directory`) and the meta-tool.

The message is embedded once by the caller; routing itself is one matrix product (the message,
mapped by the learned query adapter, and its steps against the catalogue) and one batched BM25
look-up: well under a millisecond for a thousand tools (bench/results/routing.md).

Scores (weights are fixed constants; the adapter and the margin are learned from training
splits only, by bench/train_router.py):
  message  = cosine(adapter(message), tool) + LEXICAL_WEIGHT * bm25(message, tool), the
             cosine of both encoders fused, the multilingual one at ENGLISH_SECOND_WEIGHT
             on a request in English
  steps    = max over the request's steps of cosine(adapter(step), tool) (when step vectors
             are given) + STEP_LEXICAL_WEIGHT * bm25(step, tool)
  fused    = message + PART_WEIGHT * steps + SERVER_WEIGHT * best fused score of the tool's server
             - BALANCE * the tool's rank within its server (so one big server cannot fill the
             list by size alone)
  + EXPERIENCE_WEIGHT * similarity, for each tool an earlier successful request of this chat
    used, per such request (recalled from long-term memory: a similarity-weighted vote).
Cosines for ranking are taken against the centred catalogue (see `ToolIndex`).

How many full schemas: the best `MIN_TOOLS`, then (a request of several steps) each step's
reserved share, then every tool within the calibrated margin of the best score, up to top_k.
The share: each step's scores z-scored over the catalogue; tools in order of their least gap to
some step's best, so every step's best comes first and a step whose best stands out leaves its
next places to a step whose candidates are close (`_by_gap`; chosen over a round-robin by rank
on synthetic two-ask training requests: bench/results/routing-steps.md). A step's BM25 counts
less than the message's (`STEP_LEXICAL_WEIGHT`), so one shared word does not make a short step's
best stand out. Measured and left off (bench/results/routing-share.md): a step with a weaker
best starting behind (`STEP_PULL`), a step's scale from its own short-list (`STEP_SPREAD`).
The margin is measured, not chosen: the gap under the best score
that covers the needed tools of 97% of cross-fitted training requests whose tools rank within
top_k. It decides the prompt's size, never whether a tool can be found.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.adapter import Calibration, QueryAdapter
from orchestrator.routing.base import PastUse, RoutedTool, Routing
from orchestrator.routing.index import SECOND_WEIGHT, ToolIndex
from orchestrator.routing.language import english
from orchestrator.routing.text import plain_request, request_parts

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.15
# A step's BM25 weight, under the message's: a step is a few words, and BM25 normalised to the
# best document gives one shared word full weight, so a step's best "stands out" in the share
# (`_by_gap`) on a word match alone (training data only: 0-0.15 tried, 0.15 before;
# bench/results/routing-share.md).
STEP_LEXICAL_WEIGHT = 0.1
PART_WEIGHT = 1.0
SERVER_WEIGHT = 0.2
BALANCE = 0.01  # per-server balance: a server's n-th best tool gives up n * BALANCE
EXPERIENCE_WEIGHT = 0.4
# The multilingual encoder's weight against MiniLM's: full for a request in another language,
# a quarter for an English one, where MiniLM alone ranks better (training data only: 0, 0.25,
# 0.5, 0.75, 1, 1.5 tried; bench/results/routing-language.md).
ENGLISH_SECOND_WEIGHT = 0.25
MIN_TOOLS = 3
STEP_GAPS = True  # a step's share by z-gap to its best; False: round-robin by rank, below
FLOOR_GIVES_WAY = False  # True: fewer of the overall best when the steps would not fit (measured
# on synthetic training requests, bench/results/routing-steps.md: no better, so off)
# Off: on training data neither raised every-step handed on both synthetic multi-step sets
# (bench/results/routing-share.md). STEP_PULL: a step's weaker best starts this much (in z)
# behind the strongest step's; STEP_SPREAD "head": a step's scale is best - STEP_HEAD-th best.
STEP_PULL = 0.0
STEP_SPREAD = "catalogue"
STEP_HEAD = 8
PREFIX = 32  # tools of the score order read before the whole order is (see `_pick`)
STEP_TOOLS = 3  # round-robin share: each step's best tools, within top_k (2 -> 3: MetaTool
# two-tool train half, every step handed 0.720 -> 0.740, 0.4 more schemas a multi-step request)


def best_first(scores: np.ndarray, count: int) -> np.ndarray:
    """A prefix of at least `count` of `np.argsort(-scores, kind="stable")` (all of it for a
    short array): the tools tied with the `count`-th are all in, so the prefix is exact."""
    if count >= len(scores):
        return np.argsort(-scores, kind="stable")
    negative = -scores
    cut = np.partition(negative, count - 1)[count - 1]
    candidates = np.flatnonzero(negative <= cut)  # catalogue order: ties stay in it
    return candidates[np.argsort(negative[candidates], kind="stable")]


def second_weight(query: str) -> float:
    """How much the multilingual encoder counts for this request (see ENGLISH_SECOND_WEIGHT)."""
    return ENGLISH_SECOND_WEIGHT if english(query) else SECOND_WEIGHT


def _floor(k: int, steps: np.ndarray | None) -> int:
    """How many of the overall best come first: `MIN_TOOLS`; with `FLOOR_GIVES_WAY` and more
    steps than the rest of the budget holds, fewer (at least one), so every step's best fits."""
    if not FLOOR_GIVES_WAY or steps is None or len(steps) < 2:
        return MIN_TOOLS
    return max(1, min(MIN_TOOLS, k - len(steps)))


def _by_gap(steps: np.ndarray, count: int) -> list[int]:
    """The `count` tools nearest the top of some step: each step's scores z-scored over the
    catalogue, a tool's gap is the least, over steps, of (that step's best z - its z). Every
    step's best comes first (gap 0); then a step whose best stands out gives up its next
    tools to a step whose candidates are close together. Disallowed tools score -inf.

    `STEP_PULL` > 0: a step whose best is weaker than the strongest step's best also starts
    that much (times STEP_PULL, in z) behind, so a fragment that names no tool ("that would be
    very useful", "specifically within the past month") does not take places from the asks.
    `STEP_SPREAD` "head": a step's scale is its best minus its `STEP_HEAD`-th best instead of
    its spread over the catalogue, so steps share by depth into their own short-lists."""
    usable = np.isfinite(steps[0])  # an allow-list masks the same tools in every step
    rows = steps if usable.all() else steps[:, usable]
    top = rows.max(axis=1, keepdims=True)
    spread = np.maximum(rows.std(axis=1, keepdims=True), 1e-6)
    if STEP_SPREAD == "head" and rows.shape[1] > STEP_HEAD:
        head = -np.partition(-rows, STEP_HEAD - 1, axis=1)[:, STEP_HEAD - 1 : STEP_HEAD]
        behind = (top - steps) / np.maximum(top - head, 1e-6)
    else:
        behind = (top - steps) / spread  # the mean cancels
    if STEP_PULL:
        best = (top - rows.mean(axis=1, keepdims=True)) / spread  # each step's best, in z
        behind = behind + STEP_PULL * (best.max() - best)
    gap = behind.min(axis=0)
    return [int(i) for i in best_first(-gap, count)[:count] if np.isfinite(gap[i])]


class ToolRouter:
    """`threshold` (optional, legacy) is a floor on plain cosine for schemas past the first
    `MIN_TOOLS`; leave it None: the calibrated `margin` under the best score decides how many
    full schemas a message gets, and the directory keeps every other tool reachable."""

    def __init__(
        self,
        embedder: Embedder,
        top_k: int = 8,
        threshold: float | None = None,
        *,
        adapter: QueryAdapter | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.embedder = embedder
        self.top_k = top_k
        self.threshold = threshold
        self.adapter = adapter if adapter is not None else QueryAdapter.load()
        self.calibration = calibration if calibration is not None else Calibration.load()
        self.index = ToolIndex(embedder)
        self.server_descriptions: dict[str, str] = {}

    @property
    def tools(self) -> list[ToolSpec]:
        return self.index.tools

    @property
    def encoded(self) -> int:
        return self.index.encoded

    @property
    def margin(self) -> float:
        return self.calibration.margin

    async def refresh(
        self, tools: Sequence[ToolSpec], servers: Mapping[str, str] | None = None
    ) -> None:
        """Rebuild the index; only new or changed tools are embedded again. `servers`: what
        each server says about itself (`initialize`: serverInfo title or name, instructions),
        for the directory."""
        await self.index.refresh(tools)
        if servers is not None:
            self.server_descriptions = {k: v for k, v in servers.items() if v}

    async def request_vectors(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's vector and its steps' vectors, from one (micro-batched) embed call."""
        parts = request_parts(query)
        vectors = np.asarray(await self.embedder.embed([query, *parts]), dtype=np.float32)
        return vectors[0], vectors[1:]

    def scores(
        self, query: str, vector: np.ndarray, part_vectors: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(fused score, best plain cosine) for every indexed tool."""
        fused, confidence, _ = self.step_scores(query, vector, part_vectors)
        return fused, confidence

    def step_scores(
        self,
        query: str,
        vector: np.ndarray,
        part_vectors: np.ndarray | None = None,
        *,
        confidence_needed: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(fused score, best plain cosine, each step's own score or None) for every tool.
        `confidence_needed=False` (no plain-cosine threshold): the cosine is not computed and
        comes back as zeros."""
        index = self.index
        parts = request_parts(query)
        stepped = part_vectors is not None and len(parts) > 0 and len(part_vectors) == len(parts)
        rows = np.vstack([vector, part_vectors]) if stepped else vector  # type: ignore[list-item]
        adapt = self.adapter if self.adapter.active else None
        second = second_weight(query)
        if confidence_needed:
            ranked, cosine = index.similarity(rows, adapt, second=second)
            confidence = cosine.max(axis=0)
        else:
            ranked = index.ranked(rows, adapt, second=second)
            confidence = np.zeros(len(self.tools), dtype=np.float32)
        lexical = index.lexical.scores_many([plain_request(query), *parts])
        lexical[0] *= LEXICAL_WEIGHT
        lexical[1:] *= STEP_LEXICAL_WEIGHT
        fused = ranked[0] + lexical[0]
        steps = None
        if parts:
            steps = lexical[1:]
            if stepped:
                steps += ranked[1:]
            fused += PART_WEIGHT * steps.max(axis=0)
        if index.server_count > 1:
            fused += SERVER_WEIGHT * index.server_max(fused)
            if BALANCE:
                fused -= BALANCE * index.server_rank(fused)
        return fused, confidence, steps

    def route(
        self,
        query: str,
        vector: np.ndarray,
        *,
        allowed: Callable[[ToolSpec], bool] | None = None,
        top_k: int | None = None,
        past: Sequence[PastUse] = (),
        part_vectors: np.ndarray | None = None,
        margin: float | None = None,
        threshold: float | None = None,
    ) -> Routing:
        """The allowed tools that get full schemas, best first: the best `MIN_TOOLS`, then
        every next one whose score is within the calibrated `margin` of the best, up to top_k.
        The rest stay reachable: `Routing.directory` lists them, the meta-tool loads them."""
        if not self.tools:
            return Routing([], self.server_descriptions)
        floor = self.threshold if threshold is None else threshold
        needed = floor is not None and floor > -np.inf
        fused, confidence, steps = self.step_scores(
            query, vector, part_vectors, confidence_needed=needed
        )
        if past:
            votes, closest = self.experience(past)
            fused = fused + EXPERIENCE_WEIGHT * votes
            confidence = np.maximum(confidence, closest)
        k = top_k or self.top_k
        return Routing(
            self._pick(
                fused,
                confidence,
                allowed,
                k,
                self.margin if margin is None else margin,
                floor,
                self._step_bests(steps, allowed, k) if margin is None else [],
                _floor(k, steps),
            ),
            self.server_descriptions,
        )

    def _pick(
        self,
        fused: np.ndarray,
        confidence: np.ndarray,
        allowed: Callable[[ToolSpec], bool] | None,
        k: int,
        margin: float,
        threshold: float | None,
        musts: Sequence[int] = (),
        floor: int = MIN_TOOLS,
    ) -> list[RoutedTool]:
        """The best `floor` allowed tools whatever their score, then each step's reserved
        share (`musts`, best first), then the next allowed ones within `margin` of the best
        allowed score (and over the legacy plain-cosine threshold, if one is set), up to k.

        Tools are taken in score order, from the best `PREFIX` of it (no full sort of the
        catalogue); if that prefix runs out before the picks are settled (an allow-list that
        leaves few of the best), the whole order is read instead, so the picks are the same."""
        order = best_first(fused, PREFIX)
        picked, floored = self._pick_from(
            order, fused, confidence, allowed, k, margin, threshold, musts, floor
        )
        if len(order) < len(fused):
            # Settled within the prefix: the floor came from it, and either k are picked or
            # the tools after it (scores under its last) fall outside the margin.
            last = float(fused[order[-1]])
            if not floored or (len(picked) < k and last >= picked[0].score - margin):
                order = np.argsort(-fused, kind="stable")
                picked, _ = self._pick_from(
                    order, fused, confidence, allowed, k, margin, threshold, musts, floor
                )
        return picked

    def _pick_from(
        self,
        order: np.ndarray,
        fused: np.ndarray,
        confidence: np.ndarray,
        allowed: Callable[[ToolSpec], bool] | None,
        k: int,
        margin: float,
        threshold: float | None,
        musts: Sequence[int],
        floor: int,
    ) -> tuple[list[RoutedTool], bool]:
        """`_pick` over `order`, and whether its `floor` was filled from it."""
        tools, floor = self.tools, min(floor, k)
        picked: list[RoutedTool] = []
        taken = np.zeros(len(tools), dtype=bool)
        rest = order[:0]
        for n, i in enumerate(order):
            if len(picked) >= floor:
                rest = order[n:]
                break
            if allowed is None or allowed(tools[i]):
                picked.append(RoutedTool(tools[i], float(fused[i])))
                taken[i] = True
        floored = len(picked) >= floor
        if not picked:
            return picked, floored
        for i in musts:
            if len(picked) < k and not taken[i]:
                picked.append(RoutedTool(tools[i], float(fused[i])))
                taken[i] = True
        picked.sort(key=lambda r: -r.score)
        if musts:
            rest = rest[~taken[rest]]
        keep = fused[rest] >= picked[0].score - margin
        if threshold is not None:
            keep &= confidence[rest] >= threshold
        for i in rest[keep]:
            if len(picked) >= k:
                break
            if allowed is None or allowed(tools[i]):
                picked.append(RoutedTool(tools[i], float(fused[i])))
        return picked, floored

    def _step_bests(
        self,
        steps: np.ndarray | None,
        allowed: Callable[[ToolSpec], bool] | None,
        k: int = 8,
    ) -> list[int]:
        """Each step's reserved share, best first, by the steps' own scores: a step that a big
        server's tools outscore as a whole message ("... and post the total on discord") still
        gets its own. `STEP_GAPS`: up to k tools by their z-gap to a step's best (`_by_gap`).
        Otherwise round by round (every step's best, then every step's second, ...), each step
        `STEP_TOOLS`, or its share of the budget `k` when that is more."""
        if steps is None or len(steps) < 2:
            return []
        scored, usable = steps, len(self.tools)
        if allowed is not None:
            ok = np.array([allowed(t) for t in self.tools], dtype=bool)
            usable = int(ok.sum())
            scored = np.where(ok, steps, -np.inf)
        if not usable:
            return []
        if STEP_GAPS:
            return _by_gap(scored, min(k, usable))
        take = min(max(STEP_TOOLS, k // len(steps)), usable)
        top = np.argpartition(-scored, take - 1, axis=1)[:, :take]  # no full sort per step
        order = np.argsort(-np.take_along_axis(scored, top, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(top, order, axis=1)
        return list(dict.fromkeys(int(i) for i in best.T.ravel()))

    def ranking(
        self,
        query: str,
        vector: np.ndarray,
        *,
        limit: int = 10,
        allowed: Callable[[ToolSpec], bool] | None = None,
        past: Sequence[PastUse] = (),
        part_vectors: np.ndarray | None = None,
    ) -> list[RoutedTool]:
        """The best `limit` allowed tools, no margin (benchmarks, the meta-tool's search)."""
        return self.route(
            query,
            vector,
            allowed=allowed,
            top_k=limit,
            past=past,
            part_vectors=part_vectors,
            margin=float("inf"),
            threshold=-float("inf"),
        )

    def experience(self, past: Sequence[PastUse]) -> tuple[np.ndarray, np.ndarray]:
        """The vote of earlier successful requests, per tool: the sum of their similarities to
        this request (so a tool that similar requests kept using rises, however its description
        is worded), and the closest one's similarity (a cosine too, so it counts towards the
        confidence threshold: a tool that served a request like this one is not weak)."""
        votes = np.zeros(len(self.tools), dtype=np.float32)
        closest = np.full(len(self.tools), -1.0, dtype=np.float32)
        for use in past:
            row = self.index.position.get(use.tool_key)
            if row is not None and use.similarity > 0:
                votes[row] += use.similarity
                closest[row] = max(closest[row], use.similarity)
        return votes, closest

    async def route_text(self, query: str, **kwargs: object) -> list[RoutedTool]:
        """Embed the request (message and steps in one call), then route it."""
        vector, parts = await self.request_vectors(query)
        return self.route(query, vector, part_vectors=parts, **kwargs)  # type: ignore[arg-type]
