"""What is a secret: decided by the config model, never by where a value came from.

A value is a secret when
- its model field carries the `SECRET` marker (`api_key`, bot tokens, the webhook's secret token);
- it sits in a free-form mapping (an MCP server's `env` or `headers`) under a key that names a
  credential (`CLICKUP_API_TOKEN`, `Authorization`, `X-Api-Key`, `DB_PASSWORD` ...);
- it is the password of a URL (`redis://:pw@host`) or a URL query parameter that names a credential;
- the config file marks it with the `!secret` tag (`value: !secret ${ANYTHING}`).

From each secret value the pieces a server may echo alone are secrets too: the part after an
authorization scheme (`Bearer tok-…` -> `tok-…`) and every `${VAR}` substituted into it. A value
from the environment that is none of these (`LLM_MODEL`, `TZ_NAME`) is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel


class _SecretMarker:
    """Put in a field's `Annotated[...]` metadata: the field holds a credential."""

    def __repr__(self) -> str:
        return "SECRET"


SECRET = _SecretMarker()

_WORDS = re.compile(r"[^a-z0-9]+")
_SECRET_WORDS = {"secret", "password", "passwd", "pwd", "auth", "authorization", "cookie"}
_SECRET_WORDS |= {"credential", "credentials", "bearer", "pat", "apikey", "token"}
_KEY_PAIR = re.compile(r"(^|_)(api|access|private|secret|signing|encryption|client|auth)_?key(_|$)")
_SCHEME = re.compile(r"^(bearer|basic|token|bot|digest|apikey)\s+(\S+)$", re.I)


def names_credential(name: str) -> bool:
    """True when a key names a credential: `token`, `*_SECRET`, `api_key`, `Authorization` ...

    Whole words only, so `max_tokens` or `key_prefix` are not credentials.
    """
    norm = _WORDS.sub("_", name.lower()).strip("_")
    words = norm.split("_")
    if any(w in _SECRET_WORDS or w.endswith(("token", "secret", "password")) for w in words):
        return True
    return norm == "key" or bool(_KEY_PAIR.search(norm))


def is_marked(model: type[BaseModel], field: str) -> bool:
    info = model.model_fields.get(field)
    return info is not None and any(m is SECRET for m in info.metadata)


def url_secrets(value: str) -> Iterator[str]:
    """The password of a URL and its query parameters that name a credential."""
    if "://" not in value:
        return
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return
    if password:
        yield password
    for key, item in parse_qsl(parts.query):
        if item and names_credential(key):
            yield item


def _pieces(value: str, env_parts: Mapping[str, Iterable[str]]) -> Iterator[str]:
    yield value
    scheme = _SCHEME.match(value.strip())
    if scheme:
        yield scheme.group(2)
    yield from env_parts.get(value, ())


def _walk(value: Any, secret: bool, env_parts: Mapping[str, Iterable[str]]) -> Iterator[str]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            marked = secret or is_marked(type(value), name)
            yield from _walk(getattr(value, name), marked, env_parts)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, secret or names_credential(str(key)), env_parts)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _walk(item, secret, env_parts)
    elif isinstance(value, str) and value:
        if secret:
            yield from _pieces(value, env_parts)
        yield from url_secrets(value)


def secret_values(
    model: BaseModel,
    env_parts: Mapping[str, Iterable[str]] | None = None,
    marked: Iterable[str] = (),
) -> frozenset[str]:
    """Every secret value in `model` (a whole Config or one section, e.g. a server's settings).

    `env_parts` maps a value to the environment values substituted into it; `marked` are the
    values the file tagged `!secret`.
    """
    parts = env_parts or {}
    found = set(_walk(model, False, parts))
    for value in marked:
        found.update(_pieces(value, parts))
    return frozenset(s for s in found if s)
