"""The effective config as admins may see it (`/config`): every secret value masked."""

from __future__ import annotations

import re
from typing import Any

import yaml

from orchestrator.config import Config
from orchestrator.redact import MASK, Redactor

SECRET_KEY = re.compile(r"token|secret|password|passwd|api_?key|authorization|auth|cookie", re.I)
MASK_ALL_VALUES = {"env", "headers"}  # server env vars and HTTP headers carry credentials


def _mask(value: Any, key: str = "", parent: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, str(k), key) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key, parent) for v in value]
    if value in (None, "", [], {}):
        return value
    if parent in MASK_ALL_VALUES or SECRET_KEY.search(key):
        return MASK
    if isinstance(value, str) and re.search(r"://[^/\s:@]+:[^/\s@]+@", value):
        return re.sub(r"(://[^/\s:@]+:)[^/\s@]+@", rf"\1{MASK}@", value)  # user:pass@ in URLs
    return value


def redacted_config(config: Config) -> str:
    """YAML of the running config; secrets by key name, by position and by value are masked."""
    data = _mask(config.model_dump(mode="json"))
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    return Redactor(config.secrets)(text)
