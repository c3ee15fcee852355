"""Reading a config file: YAML with ${VAR} interpolation, validated into `Config`; every
problem names the file, the line and the key path."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from orchestrator.config.models import Config
from orchestrator.config.paths import resolve_config_paths
from orchestrator.config.secrets import secret_values
from orchestrator.config.yamlsource import YamlLimitError, YamlSource, format_path, load_yaml
from orchestrator.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "orchestrator.yaml"


def _validation_problems(error: ValidationError, source: YamlSource, file: str) -> list[str]:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see config/orchestrator.example.yaml)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{file}:{source.line_of(loc)}: {format_path(loc)}: {message}")
    return problems


def parse_config(text: str, file: str = "<config>", env: Mapping[str, str] | None = None) -> Config:
    """Validate config text; raise ConfigError listing every problem as FILE:LINE: path: msg."""
    try:
        source = load_yaml(text, os.environ if env is None else env)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        where = ""
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            where = f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        problem = exc.problem or "invalid YAML"
        raise ConfigError([f"{file}:{line}: (yaml): {problem}{where}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}:1: (yaml): {type(exc).__name__}"]) from None
    except YamlLimitError as exc:
        raise ConfigError([f"{file}:{exc.line}: (yaml): {exc}"]) from None
    problems = [f"{file}:{source.line_of(p)}: {format_path(p)}: {m}" for p, m in source.problems]
    if not isinstance(source.data, dict):
        raise ConfigError([*problems, f"{file}:1: (root): expected a mapping of sections"])
    try:
        config = Config.model_validate({**source.data, "source": file})
    except ValidationError as exc:
        raise ConfigError(problems + _validation_problems(exc, source, file)) from None
    if problems:
        raise ConfigError(problems)
    secrets = secret_values(config, source.env_parts, source.marked)
    return config.model_copy(update={"secrets": secrets})


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file (the embedded default when `path` is None)."""
    file = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{file}:1: (file): cannot read: {exc.strerror}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            [
                f"{file}:{line}: (file): not UTF-8 text "
                f"(byte 0x{raw[exc.start]:02x}); save it as UTF-8"
            ]
        ) from None
    return resolve_config_paths(parse_config(text, str(file), env), str(file))
