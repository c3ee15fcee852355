"""The effective config as admins may see it (`/config`): every secret value masked.

What is a secret is the config model's decision (`orchestrator.config.secrets`); every other value
is shown as it is, whether it was written in the file or came from the environment.
"""

from __future__ import annotations

from typing import Any

import yaml

from orchestrator.config import Config
from orchestrator.config.secrets import secret_values, url_secrets
from orchestrator.redact import MASK, Redactor


def _mask(value: Any, secrets: frozenset[str], redactor: Redactor) -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, secrets, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secrets, redactor) for v in value]
    if isinstance(value, str) and value:
        if value in secrets:
            return MASK
        for password in url_secrets(value):  # user:pass@ and ?token= in URLs, however short
            value = value.replace(f":{password}@", f":{MASK}@").replace(f"={password}", f"={MASK}")
        return redactor(value)
    return value


def redacted_config(config: Config) -> str:
    """YAML of the running config, secrets masked (whole values, and inside larger strings)."""
    secrets = config.secrets | secret_values(config)  # the model decides, even after a copy
    redactor = Redactor(secrets)
    data = _mask(config.model_dump(mode="json"), secrets, redactor)
    return redactor(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100))
