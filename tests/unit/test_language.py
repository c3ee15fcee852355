"""Which requests the router reads as English (the multilingual encoder's weight follows)."""

from __future__ import annotations

import pytest

from orchestrator.routing.language import ENGLISH, OTHER, english
from orchestrator.routing.router import ENGLISH_SECOND_WEIGHT, second_weight


@pytest.mark.parametrize(
    "text",
    [
        "which invoices are still unpaid?",
        "post the total to #finance on discord",
        "git status",  # no function word at all: the bot's default
        "P&L for 2025 please",
        "invoice Müller GmbH for 800 euros",  # a name with an umlaut counts once
        "send Renée the report",
        "summarise https://lemonde.fr/article/123",  # a URL's words are no language
        "show me /srv/app/config.yaml",
    ],
)
def test_english_requests(text: str) -> None:
    assert english(text)


@pytest.mark.parametrize(
    "text",
    [
        "welche Rechnungen sind noch offen?",
        "Rechnung an Müller GmbH über 800 Euro erstellen",
        "¿qué facturas siguen sin pagar?",
        "busca la página de vacaciones en notion",
        "résume cette page https://lemonde.fr/article/123",
        "qual foi o lucro do último trimestre?",
        "mostrami i movimenti bancari di ieri",
        "zoek op internet naar de nieuwste versie van python",
        "co pamiętasz o projekcie Falcon?",
        "покажи неоплаченные счета",  # other scripts, which only the multilingual encoder reads
        "сделай PR в github",
        "显示未付发票",
        "미결제 송장 보여줘",
        "ödenmemiş faturaları göster",
    ],
)
def test_other_languages(text: str) -> None:
    assert not english(text)


def test_no_word_is_evidence_both_ways() -> None:
    assert not ENGLISH & OTHER


def test_the_multilingual_encoder_counts_less_on_english() -> None:
    assert second_weight("which invoices are still unpaid?") == ENGLISH_SECOND_WEIGHT < 1.0
    assert second_weight("welche Rechnungen sind noch offen?") == 1.0
