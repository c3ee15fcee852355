"""YAML with `${VAR}` / `${VAR:-default}` interpolation and a line number for every key path.

The config models never see raw YAML; this module turns text into plain data plus the two facts
error messages need: where each key sits in the file, and which environment values went into each
value. Whether a value is a secret is decided later by the config model
(orchestrator.config.secrets); a scalar tagged `!secret` is one whatever its key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

KeyPath = tuple[str | int, ...]
SECRET_TAG = "!secret"  # `api_key: !secret ${KEY}`: this value is a secret whatever its key


@dataclass
class YamlSource:
    """The parsed document plus what the loader learned while reading it."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    env_parts: dict[str, set[str]] = field(default_factory=dict)  # value -> env values in it
    marked: set[str] = field(default_factory=set)  # values tagged `!secret`
    problems: list[tuple[KeyPath, str]] = field(default_factory=list)

    def line_of(self, path: KeyPath) -> int:
        """Line of the longest prefix of `path` that exists in the file (1 for the root)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, list[str], list[str]]:
    """Substitute variables; return (value, missing names, the environment values used)."""
    missing: list[str] = []
    used: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value:
            used.append(value)
            return value
        if default is not None:
            return default
        if value is None:
            missing.append(name)
        return ""

    return _VAR.sub(sub, text), missing, used


MAX_ALIAS_EXPANSIONS = 100  # a config reuses a block a few times; a bomb reuses it billions
MAX_DEPTH = 64


class YamlLimitError(Exception):
    """The document is hostile or broken past what a config needs: an alias bomb, a recursive
    alias, nesting too deep. `line` is where in the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Builder:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.constructor = yaml.SafeLoader("")
        self.source = YamlSource(data=None)
        self.built: set[int] = set()  # ids of collection nodes built once (a second is an alias)
        self.open: set[int] = set()  # collection nodes being built (an alias to one recurses)
        self.expansions = 0

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if not isinstance(node, yaml.CollectionNode):
            return self._scalar(node, path)
        self._enter(node, path)
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def _enter(self, node: yaml.Node, path: KeyPath) -> None:
        line = self.source.line_of(path)
        if id(node) in self.open:
            raise YamlLimitError(line, f"{format_path(path)}: an alias refers to itself")
        if len(path) > MAX_DEPTH:
            raise YamlLimitError(line, f"nested more than {MAX_DEPTH} levels deep")
        if id(node) in self.built:
            self.expansions += 1
            if self.expansions > MAX_ALIAS_EXPANSIONS:
                raise YamlLimitError(
                    line,
                    f"{format_path(path)}: aliases expand more than {MAX_ALIAS_EXPANSIONS} "
                    "times (the block anchored on this line is reused too often; an alias bomb?)",
                )
        self.built.add(id(node))
        self.open.add(id(node))

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.constructor.construct_object(key_node)
            child = (*path, key)
            if key in out:
                self.source.problems.append((child, "duplicate key"))
            self.source.lines[child] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child)
        return out

    def _scalar(self, node: yaml.Node, path: KeyPath) -> Any:
        if node.tag == SECRET_TAG:
            value = self._interpolated(str(node.value), path)
            if value:
                self.source.marked.add(value)
            return value
        if node.tag != "tag:yaml.org,2002:str" or "${" not in str(node.value):
            return self.constructor.construct_object(node)
        return self._interpolated(str(node.value), path)

    def _interpolated(self, text: str, path: KeyPath) -> str:
        value, missing, used = interpolate(text, self.env)
        for name in missing:
            self.source.problems.append(
                (
                    path,
                    f"environment variable {name} is not set "
                    f"(set it, or write ${{{name}:-default}})",
                )
            )
        if used and value:
            self.source.env_parts.setdefault(value, set()).update(used)
        return value


def load_yaml(text: str, env: Mapping[str, str]) -> YamlSource:
    """Parse `text`; raise yaml.YAMLError on syntax errors and YamlLimitError past the limits
    (the caller formats both)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # PyYAML composes nested collections recursively
        raise YamlLimitError(1, f"nested more than {MAX_DEPTH} levels deep") from None
    builder = _Builder(env)
    builder.source.data = {} if node is None else builder.build(node, ())
    return builder.source
