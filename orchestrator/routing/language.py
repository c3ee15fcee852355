"""Is a request written in English?

The router reads each request with two encoders: MiniLM, trained on English, and
USE-multilingual. On English requests MiniLM alone ranks better than the two summed; on other
languages the multilingual one is what finds the tool (bench/results/routing-language.md, on
training data only). So the second encoder's weight depends on the request's language, and this
module says which it is: English unless the request's function words (articles, pronouns,
prepositions, question words: the most frequent words of a language, not words of any tool or
data set), accented words and words in another script (Russian, Chinese, ...) outnumber its
English function words. The function words are those of the other languages the multilingual
encoder reads and the step splitter knows (German, Spanish, French, Portuguese, Italian, Dutch,
Polish). A request with neither ("git status", "P&L 2025") is English, the bot's default. URLs
and paths are left out: their words are no language.

About 6 µs a request; no model, nothing to load.
"""

from __future__ import annotations

import re

from orchestrator.routing.text import without_locations

_LETTERS = re.compile(r"[^\W\d_]+")
_ACCENTS = re.compile(r"[äöüßéèêëàâçñãõìíòóùúłśżźąęćń]", re.IGNORECASE)
# A letter of another script than Latin (Cyrillic, Greek, Arabic, Thai, CJK, Hangul, ...):
# MiniLM reads English, USE-multilingual reads Russian, Arabic, Chinese, Japanese, Korean,
# Thai and Turkish too.
_NOT_LATIN = re.compile(r"[^\x00-\u024f]")

ENGLISH = frozenset(
    "the a an and or of to in on for with from by at is are was were be been it its this that "
    "these those my our your their me us you we i can could would should please will do does did "
    "what which who whom how when where why get show tell give let make want need some any all "
    "as into about there here not has have had just up out new last next today yesterday".split()
)
_OTHER = (
    # German
    "der die das den dem des und ist sind ein eine einen einem einer nicht mit für von zu zum "
    "zur auf bitte mir mich wir uns ich du sie es wie was welche welcher welches wer wo noch "
    "schon auch aus bei nach über heute gestern morgen alle "
    # Spanish
    "el los las del y que en un una unos unas por para con es son está están mi mis nuestro "
    "nuestra qué cuál cuáles quién cómo dónde cuándo hay hoy ayer mañana también todos todas "
    # French
    "le les des et est sont une du au aux pour avec dans sur ce cette ces qui quoi quel quelle "
    "quels quelles où comment mon ma mes notre nos je tu nous vous il elle ils hui hier demain "
    "aussi tous toutes moi "
    # Portuguese
    "os um uma uns umas do da dos das em não com pelo pela qual quais quem onde quando hoje "
    "ontem amanhã também meu minha nosso nossa eu você "
    # Italian
    "il lo gli della dello delle degli di che è sono uno nel nella sul sulla chi dove quale "
    "quali oggi ieri domani anche tutti mio mia io "
    # Dutch
    "het een en van voor met op niet zijn wat welke wie waar wanneer vandaag gisteren ook "
    "mijn onze ik jij naar "
    # Polish
    "w na z nie się jest są to że co jak gdzie kiedy który która które dzisiaj wczoraj jutro "
    "też wszystkie mój moja nasz nasza ja"
)
OTHER = frozenset(_OTHER.split()) - ENGLISH  # a word both ways ("a", "in", "is") is no evidence


def english(text: str) -> bool:
    """True unless the text has more of another language's function words, accented words
    (a name like "Müller" counts once) and words in another script than English function
    words; ties, and text with neither, are English."""
    text = without_locations(text)
    words = [w.lower() for w in _LETTERS.findall(text)]
    ours = sum(w in ENGLISH for w in words)
    theirs = sum(
        w in OTHER or _ACCENTS.search(w) is not None or _NOT_LATIN.search(w) is not None
        for w in words
    )
    theirs += text.count("¿") + text.count("¡")
    return theirs <= ours
