"""Count the steps of a backtracking regex engine: tests bound work in operations, not seconds.

CPython's `re` exposes no step counter, so this module re-runs a compiled pattern's parse tree
(`re._parser`, the tree `re` itself compiles) through a small backtracking matcher with the same
semantics as `sre`: leftmost alternative first, greedy repeats give back one at a time, atomic
groups and possessive repeats never give back. Each node tried at a position is one step. A
pattern that backtracks exponentially on a phrase does so here too, and the step budget stops it
early (`StepBudgetExceeded`) instead of freezing the test.

`StepMeter` swaps the compiled patterns (and the `re` functions) a parser module uses for
wrappers that count before delegating to the real `re`, so a test measures what the parser does.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from re import _constants as C  # noqa: N812
from re import _parser
from types import ModuleType
from typing import Any

Nodes = list[tuple[Any, Any]]
Cont = Callable[[int], bool]


class StepBudgetExceeded(AssertionError):
    pass


_CATEGORIES: dict[Any, Callable[[str], bool]] = {
    C.CATEGORY_DIGIT: str.isdigit,
    C.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    C.CATEGORY_SPACE: str.isspace,
    C.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    C.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    C.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}


class _Matcher:
    def __init__(self, text: str, budget: int, ignorecase: bool) -> None:
        self.text, self.budget, self.steps, self.icase = text, budget, 0, ignorecase

    def _chars(self, c: str) -> tuple[str, ...]:
        return (c, c.lower(), c.upper()) if self.icase else (c,)

    def _in_class(self, items: Nodes, c: str) -> bool:
        negate, hit = False, False
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                hit = hit or chr(av) in self._chars(c)
            elif op is C.RANGE:
                hit = hit or any(av[0] <= ord(x) <= av[1] for x in self._chars(c))
            elif op is C.CATEGORY:
                hit = hit or _CATEGORIES[av](c)
            else:
                raise NotImplementedError(op)
        return hit != negate

    def _first_end(self, nodes: Nodes, pos: int) -> int | None:
        ends: list[int] = []
        self.run(nodes, 0, pos, lambda p: ends.append(p) is None)
        return ends[0] if ends else None

    def run(self, nodes: Nodes, i: int, pos: int, k: Cont) -> bool:  # noqa: C901, PLR0911, PLR0912
        self.steps += 1
        if self.steps > self.budget:
            raise StepBudgetExceeded(f"more than {self.budget} regex steps")
        if i == len(nodes):
            return k(pos)
        op, av = nodes[i]
        text, n = self.text, len(self.text)
        nxt: Cont = lambda p: self.run(nodes, i + 1, p, k)  # noqa: E731
        if op is C.LITERAL:
            return pos < n and chr(av) in self._chars(text[pos]) and nxt(pos + 1)
        if op is C.NOT_LITERAL:
            return pos < n and chr(av) not in self._chars(text[pos]) and nxt(pos + 1)
        if op is C.ANY:
            return pos < n and text[pos] != "\n" and nxt(pos + 1)
        if op is C.IN:
            return pos < n and self._in_class(av, text[pos]) and nxt(pos + 1)
        if op is C.AT:
            return self._at(av, pos) and nxt(pos)
        if op is C.BRANCH:
            return any(self.run(list(alt), 0, pos, nxt) for alt in av[1])
        if op is C.SUBPATTERN:
            return self.run(list(av[3]), 0, pos, nxt)
        if op is C.ATOMIC_GROUP:
            end = self._first_end(list(av), pos)
            return end is not None and nxt(end)
        if op in (C.ASSERT, C.ASSERT_NOT):
            direction, sub = av
            if direction < 0:
                raise NotImplementedError("lookbehind")
            found = self._first_end(list(sub), pos) is not None
            return found == (op is C.ASSERT) and nxt(pos)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high, item = av
            return self._repeat(op, low, high, list(item), pos, nxt)
        raise NotImplementedError(op)

    def _repeat(self, op: Any, low: int, high: int, item: Nodes, pos: int, k: Cont) -> bool:
        if op is C.POSSESSIVE_REPEAT:
            count = 0
            while count < high:
                end = self._first_end(item, pos)
                if end is None or (end == pos and count >= low):
                    break
                pos, count = end, count + 1
            return count >= low and k(pos)

        def rep(count: int, at: int) -> bool:
            def again(p: int) -> bool:
                return (p != at or count < low) and rep(count + 1, p)

            more = count < high
            if op is C.MIN_REPEAT:
                return (count >= low and k(at)) or (more and self.run(item, 0, at, again))
            return (more and self.run(item, 0, at, again)) or (count >= low and k(at))

        return rep(0, pos)

    def _at(self, code: Any, pos: int) -> bool:
        text, n = self.text, len(self.text)
        if code in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
            return pos == 0
        if code is C.AT_END:
            return pos == n or (pos == n - 1 and text[-1] == "\n")
        if code is C.AT_END_STRING:
            return pos == n
        word = _CATEGORIES[C.CATEGORY_WORD]
        before = pos > 0 and word(text[pos - 1])
        after = pos < n and word(text[pos])
        if code is C.AT_BOUNDARY:
            return before != after
        if code is C.AT_NON_BOUNDARY:
            return before == after
        raise NotImplementedError(code)


def count_steps(pattern: re.Pattern[str] | str, text: str, *, budget: int, mode: str) -> int:
    """Steps to run `pattern` on `text` (`mode`: fullmatch, match or search)."""
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    tree = _parser.parse(compiled.pattern, compiled.flags)
    matcher = _Matcher(text, budget, bool(tree.state.flags & re.IGNORECASE))
    nodes = list(tree)
    end: Cont = (lambda p: p == len(text)) if mode == "fullmatch" else (lambda p: True)
    starts = range(len(text) + 1) if mode == "search" else range(1)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        for start in starts:
            if matcher.run(nodes, 0, start, end):
                break
    finally:
        sys.setrecursionlimit(limit)
    return matcher.steps


class _CountingPattern:
    def __init__(self, meter: StepMeter, pattern: re.Pattern[str]) -> None:
        self._meter, self._pattern = meter, pattern

    def fullmatch(self, text: str) -> re.Match[str] | None:
        self._meter.charge(self._pattern, text, "fullmatch")
        return self._pattern.fullmatch(text)

    def match(self, text: str) -> re.Match[str] | None:
        self._meter.charge(self._pattern, text, "match")
        return self._pattern.match(text)


class _CountingRe:
    """The `re` functions a parser calls with a pattern string, counted."""

    def __init__(self, meter: StepMeter) -> None:
        self._meter = meter

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)

    def fullmatch(self, pattern: str, text: str) -> re.Match[str] | None:
        self._meter.charge(re.compile(pattern), text, "fullmatch")
        return re.fullmatch(pattern, text)

    def findall(self, pattern: str, text: str) -> list[Any]:
        self._meter.charge(re.compile(pattern), text, "search")
        return re.findall(pattern, text)

    def sub(self, pattern: str, repl: str, text: str) -> str:
        self._meter.charge(re.compile(pattern), text, "search")
        return re.sub(pattern, repl, text)


class StepMeter:
    """Counts the regex steps every pattern of one module takes."""

    def __init__(self, budget: int) -> None:
        self.budget, self.steps = budget, 0

    def charge(self, pattern: re.Pattern[str], text: str, mode: str) -> None:
        self.steps += count_steps(pattern, text, budget=self.budget - self.steps, mode=mode)

    @contextmanager
    def patching(self, module: ModuleType) -> Iterator[StepMeter]:
        saved: dict[str, Any] = {}
        for name, value in vars(module).items():
            if (
                isinstance(value, re.Pattern)
                or isinstance(value, list)
                and value
                and all(isinstance(p, re.Pattern) for p in value)
                or value is re
            ):
                saved[name] = value
        try:
            for name, value in saved.items():
                if value is re:
                    setattr(module, name, _CountingRe(self))
                elif isinstance(value, list):
                    setattr(module, name, [_CountingPattern(self, p) for p in value])
                else:
                    setattr(module, name, _CountingPattern(self, value))
            yield self
        finally:
            for name, value in saved.items():
                setattr(module, name, value)
