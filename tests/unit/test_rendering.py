"""Markdown splitting shared by the Telegram and Discord backends."""

from __future__ import annotations

import random
import re

import pytest

from bots.rendering import split_markdown
from bots.telegram.render import render_markdown


def random_markdown(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(1, 30)):
        kind = rng.random()
        if kind < 0.3:
            lang = rng.choice(["", "python", "json"])
            lines = [
                f"code_{rng.randint(0, 999)} = {'x' * rng.randint(0, 150)}"
                for _ in range(rng.randint(1, 80))
            ]
            blocks.append(f"```{lang}\n" + "\n".join(lines) + "\n```")
        elif kind < 0.4:
            blocks.append("y" * rng.randint(100, 5000))  # one giant word
        else:
            words = " ".join(
                rng.choice(["alpha", "**beta**", "_gamma_", "delta"])
                for _ in range(rng.randint(1, 400))
            )
            blocks.append(words)
    return "\n\n".join(blocks)


def words_of(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", re.sub(r"```\w*", " ", text)) if w]


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("limit", [200, 2000, 4096])
def test_parts_fit_keep_order_and_close_every_code_block(seed: int, limit: int) -> None:
    text = random_markdown(random.Random(seed))
    parts = split_markdown(text, limit)
    assert all(len(p) <= limit for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts)
    assert "".join(words_of(" ".join(parts))) == "".join(words_of(text))


def test_short_text_is_one_part_unchanged() -> None:
    assert split_markdown("hello **world**", 2000) == ["hello **world**"]


def test_a_cut_code_block_reopens_with_its_language() -> None:
    code = "\n".join(f"line {i}" for i in range(400))
    parts = split_markdown(f"Intro\n\n```python\n{code}\n```", 500)
    assert all(p.startswith("```python\n") for p in parts[1:])
    assert all(p.rstrip().endswith("```") for p in parts[1:])


def test_paragraph_boundaries_are_preferred() -> None:
    para = "word " * 150
    parts = split_markdown(f"{para.strip()}\n\n{para.strip()}\n\n{para.strip()}", 1600)
    assert [p.count("word") for p in parts] == [300, 150]


def test_telegram_parts_carry_entities_not_markup() -> None:
    parts = render_markdown("**bold** and `code`\n\n```python\nprint(1)\n```")
    assert len(parts) == 1
    types = {str(e.type) for e in parts[0].entities}
    assert {"bold", "code", "pre"} <= types
    assert "**" not in parts[0].text and "```" not in parts[0].text
