"""How a tool and a request are turned into text and tokens for matching."""

from __future__ import annotations

import re

from orchestrator.tools import ToolSpec

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an the and or of to in on for with from by at is are be it this that these those my our "
    "your their me us you we i can could would should please will do does did what which who "
    "how when where get show tell give let make want need some any all as into about".split()
)
_SPLIT = re.compile(
    r"\s*(?:;|,?\s+and then\s+|,?\s+then\s+|,\s*and\s+|\s+and\s+|,\s+)\s*", re.IGNORECASE
)


def words(name: str) -> str:
    """'get_currentTime' -> 'get current time'."""
    return " ".join(_CAMEL.sub(" ", name).replace("_", " ").replace("-", " ").split())


def tokens(text: str) -> list[str]:
    return [t for t in _WORD.findall(_CAMEL.sub(" ", text).lower()) if t not in STOPWORDS]


def tool_text(tool: ToolSpec) -> str:
    """Server, name in words, description, and each parameter with its description."""
    params = []
    props = tool.input_schema.get("properties", {}) or {}
    for pname, spec in props.items():
        desc = (spec or {}).get("description", "") if isinstance(spec, dict) else ""
        params.append(f"{words(pname)} {desc}".strip())
    text = f"{words(tool.server)} {words(tool.name)}: {tool.description.strip()}"
    if params:
        text += " Parameters: " + "; ".join(params)
    return text[:2000]


def request_parts(query: str) -> list[str]:
    """Split a multi-step request into its steps ('X, then Y and Z')."""
    parts = [p for p in _SPLIT.split(query.strip()) if len(tokens(p)) >= 2]
    return parts if len(parts) > 1 else []
