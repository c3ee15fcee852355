"""How a tool and a request are turned into text and tokens for matching."""

from __future__ import annotations

import functools
import re

from orchestrator.mcp.tools import ToolSpec

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an the and or of to in on for with from by at is are be it this that these those my our "
    "your their me us you we i can could would should please will do does did what which who "
    "how when where get show tell give let make want need some any all as into about".split()
)
# Step boundaries in a request: sentence ends, semicolons, commas, and the words that join
# steps: English, and the same in the other languages the multilingual encoder reads (German,
# Spanish, French, Portuguese, Italian, Dutch, Polish; "and" only where the word is not also a
# preposition or a pronoun elsewhere: not "e", "i", "en").
_JOINS = (
    "and then|then|after that|and also|as well as|and|plus",
    "und dann|und danach|danach|dann|anschließend|und",
    "y luego|y después|y despues|luego|después|despues|y",
    "et ensuite|et puis|ensuite|puis|et",
    "e depois|depois|e poi|poi|en dan|daarna|a potem|potem|oraz",
)
_SPLIT = re.compile(
    r"(?<=[.!?;])\s+|\s*,?\s+(?:" + "|".join(_JOINS) + r")\s+|,\s+",
    re.IGNORECASE,
)
MAX_STEPS = 8  # more parts are joined, neighbours together: each step costs a row per encoder
MAX_TEXT = 2000
# A path or URL says "a file" / "a web page"; its directories say little about which tool.
_URL = re.compile(r"\bhttps?://[^\s/]+[^\s,;]*?(?=[.,;!?)]?(?:\s|$))")
_PATH = re.compile(r"(?<![\w/])(?:~|\.{1,2})?(?:/[\w.@+\-]+){2,}")


# Chat shorthand, spelled out for the lexical match (the embedding reads the message as sent).
SHORTHAND = {
    "pr": "pull request",
    "prs": "pull requests",
    "mr": "merge request",
    "mrs": "merge requests",
    "db": "database",
    "repo": "repository",
    "repos": "repositories",
    "msg": "message",
    "dm": "direct message",
    "mkdir": "create directory",
    "rn": "now",
    "tldr": "summary",
    "p&l": "profit and loss",  # the dev split's "pull the P&L": every accounting API's words
    "pls": "",
    "plz": "",
}
_SHORTHAND = re.compile(
    r"(?<![\w&])("
    + "|".join(re.escape(k) for k in sorted(SHORTHAND, key=len, reverse=True))
    + r")(?![\w&])",
    re.IGNORECASE,
)


# Everyday words for money owed, as the trade says them (seen in the dev split: "who owes us
# money", "how much do we owe Stark"): the lexical match reads the accounting term too.
_OWED = (
    (re.compile(r"\b(?:owes?|owed|owing) us\b|\bowed to us\b", re.IGNORECASE), " receivables"),
    (re.compile(r"\b(?:do |we |still )owe\b", re.IGNORECASE), " payables"),
)


def expand_shorthand(text: str) -> str:
    """'2 PRs on the repo pls' -> '2 pull requests on the repository '; 'who owes us money' ->
    'who owes us money receivables'."""
    text = _SHORTHAND.sub(lambda m: SHORTHAND[m.group(0).lower()], text)
    for pattern, term in _OWED:
        if pattern.search(text):
            text += term
    return text


def words(name: str) -> str:
    """'get_currentTime' -> 'get current Time': identifiers as words a model can read."""
    return " ".join(_CAMEL.sub(" ", name).replace("_", " ").replace("-", " ").split())


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, identifiers split, stopwords dropped (not stemmed)."""
    return [t for t in _WORD.findall(_CAMEL.sub(" ", text).lower()) if t not in STOPWORDS]


def name_text(tool: ToolSpec) -> str:
    """The short view: the tool's name in words and its description."""
    return f"{words(tool.name)}: {tool.description.strip()}"[:MAX_TEXT]


def tool_text(tool: ToolSpec) -> str:
    """The rich view: server, name in words, description, each parameter with its description."""
    params = []
    props = tool.input_schema.get("properties", {}) or {}
    if isinstance(props, dict):
        for pname, spec in props.items():
            desc = spec.get("description", "") if isinstance(spec, dict) else ""
            params.append(f"{words(pname)} {desc}".strip())
    text = f"{words(tool.server)} {words(tool.name)}: {tool.description.strip()}"
    if params:
        text += " Parameters: " + "; ".join(params)
    return text[:MAX_TEXT]


# A thing to remember (or recall, or forget) about a person or project: the knowledge graph.
# Cues are the user's words, not a tool's; the non-English ones are those of the dev split.
_MEMORY_CUE = re.compile(
    r"\b(?:remember|keep in mind|note (?:that|for later|down)|don'?t forget|forget|"
    r"(?:what do|did) (?:you|i) (?:know|remember|tell you)|your notes? on|recuerda|pami[eę]tasz)\b",
    re.IGNORECASE,
)
MEMORY_WORDS = " knowledge graph entity observation relation"


def plain_request(text: str) -> str:
    """'save it to /root/notes/a.md' -> 'save it to a md file on disk'; URLs: 'the web page at
    this url <host>'; a person or project to remember: the knowledge graph's words added."""
    plain = expand_shorthand(_plain(text))
    return plain + MEMORY_WORDS if remembers_a_thing(text) else plain


def remembers_a_thing(text: str) -> bool:
    """'remember that Lena is our contact at Globex', 'forget Project Falcon': a memory cue and
    something named (a capitalised word past the first, a quoted name, or 'project')."""
    cue = _MEMORY_CUE.search(text)
    return cue is not None and bool(_NAMED_AFTER.search(text[cue.end() :]))


_NAMED_AFTER = re.compile(r"\b[A-Z][\w&-]*|\bproje[ck]t\w*|'[^']+'")


# A file named by its extension, with or without folders ('hours.csv', 'reports/pnl.md').
_FILE = re.compile(r"(?<![\w/@.])(?:[\w-]+/)*[\w-]{2,}\.[A-Za-z][A-Za-z0-9]{0,4}\b(?![\w/.])")
# A message sent to a chat channel ('post the total to #finance', 'ping #eng'): its own step.
_CHANNEL_SEND = re.compile(
    r"\b(?:post|tell|ping|send|share|notify|drop|announce|message)\b.*(?<![\w&])#[\w-]+"
    r"|(?<![\w&])#[\w-]+.*\b(?:know|posted|informed)\b",
    re.IGNORECASE,
)
CHANNEL_STEP = "post a message to the chat channel"
# '#design' is a chat channel ('#482' is an issue or PR number): its kind is said in words.
_CHANNEL = re.compile(r"(?<![\w&])#[A-Za-z][\w-]*")


def without_locations(text: str) -> str:
    """The text with its URLs, paths and file names left out (their words are no language)."""
    return _FILE.sub(" ", _PATH.sub(" ", _URL.sub(" ", text)))


def _plain(text: str) -> str:
    text = _URL.sub(lambda m: " the web page at this url " + m.group(0).split("/")[2] + " ", text)
    text = _PATH.sub(_file_words, text)
    text = _CHANNEL.sub(lambda m: f"{m.group(0)} channel", text)
    return _FILE.sub(_file_words, text)


def _file_words(match: re.Match[str]) -> str:
    """'/root/notes/cnn_example.py' -> ' a py file on disk ': its words would pull towards tools
    that share them (cnn, notes); its kind is what says which tool handles it."""
    name = match.group(0).rsplit("/", 1)[-1].strip(".")
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return f" a {kind} file on disk ".replace("  ", " ")


def request_parts(query: str) -> list[str]:
    """The steps of a multi-step request ('X, then Y and Z'); [] for a one-step request."""
    return list(_request_parts(query))


@functools.lru_cache(maxsize=8)  # the embed and the route of one message split it once
def _request_parts(query: str) -> tuple[str, ...]:
    plain = _plain(query.strip())
    parts = [
        " ".join(expand_shorthand(p).split()) + (MEMORY_WORDS if remembers_a_thing(p) else "")
        for p in _fragments_joined(_SPLIT.split(plain))
    ]
    if len(parts) > MAX_STEPS:
        parts = _joined(parts, MAX_STEPS - 1 if _CHANNEL_SEND.search(query) else MAX_STEPS)
    if _CHANNEL_SEND.search(query):
        parts = [*(parts or [" ".join(expand_shorthand(plain).split())]), CHANNEL_STEP]
    return tuple(parts) if len(parts) > 1 else ()


# Words that link sentences rather than say what to do ("Also, can you ..."): a part of these
# alone is no step. English and the other languages the multilingual encoder reads.
MARKERS = frozenset(
    "also additionally specifically besides moreover furthermore finally first second next "
    "lastly too afterwards además tambien también außerdem zusätzlich aussi également "
    "inoltre anche ook bovendien również".split()
)
MIN_STEP_WORDS = 2  # words a step needs ('save it'); a shorter fragment belongs to the one before


def _fragments_joined(pieces: list[str]) -> list[str]:
    """Split pieces without a step of their own folded back: a linking word alone ('Also')
    is dropped, a fragment of fewer than `MIN_STEP_WORDS` words ('... USD', 'EUR?')
    is joined to the piece before it ('... USD and EUR?'). Measured with `STEP_TOOLS` 3 on
    development data only (a seeded half of MetaTool's two-tool queries; realcat train and
    dev): every step handed 0.720 -> 0.740 and, with 'p&l' spelled out, 0.667 -> 0.778 on
    realcat's nine multi-step training and dev requests; realcat train handed 0.899 -> 0.907."""
    out: list[str] = []
    for piece in pieces:
        words_ = [t for t in _WORD.findall(piece.lower()) if t not in MARKERS]
        if not tokens(piece) or not words_:
            continue
        if len(words_) < MIN_STEP_WORDS and out:
            out[-1] = f"{out[-1]} and {piece.strip()}"
            continue
        out.append(piece)
    return out


def _joined(parts: list[str], limit: int) -> list[str]:
    """`parts` as `limit` runs of neighbours, each run's parts joined by commas."""
    bounds = [round(n * len(parts) / limit) for n in range(limit + 1)]
    return [", ".join(parts[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
