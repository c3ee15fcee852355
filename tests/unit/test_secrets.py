"""What is a secret is decided by the config model, and secrets are masked in every log format,
tracebacks included."""

from __future__ import annotations

import io
import json
import logging
import sys
import typing

import pytest
from pydantic import BaseModel

from orchestrator import config as config_pkg
from orchestrator.config import parse_config
from orchestrator.config.secrets import is_marked, names_credential
from orchestrator.logsetup import configure_logging
from orchestrator.redact import Redactor

TOKEN = "tok-4f9c2a7e1b"
YAML = (
    "orchestrator:\n  llm_settings: {model: '${LLM_MODEL}'}\n"
    "scheduler: {default_timezone: '${TZ_NAME}'}\n"
    "mcp_servers:\n  remote:\n    type: http\n    url: https://mcp.example.com/mcp\n"
    "    headers: {Authorization: 'Bearer ${TOKEN}'}\n"
)
ENV = {"LLM_MODEL": "llama3.1", "TZ_NAME": "Europe/London", "TOKEN": TOKEN}


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "secret_token",
        "api_key",
        "CLICKUP_API_TOKEN",
        "XERO_CLIENT_SECRET",
        "Authorization",
        "X-Api-Key",
        "DB_PASSWORD",
        "PGPASSWORD",
        "Cookie",
        "GITHUB_PAT",
        "AWS_SECRET_ACCESS_KEY",
    ],
)
def test_names_that_hold_credentials(name: str) -> None:
    assert names_credential(name)


@pytest.mark.parametrize(
    "name",
    [
        "max_tokens",
        "request_tokens",
        "llm_tokens_per_chat_per_day",
        "key_prefix",
        "model",
        "TZ_NAME",
        "XERO_CLIENT_ID",
        "TELEGRAM_DESTINATIONS",
        "PATH",
        "default_timezone",
    ],
)
def test_names_that_do_not(name: str) -> None:
    assert not names_credential(name)


def _models() -> list[type[BaseModel]]:
    return [
        m for m in vars(config_pkg).values() if isinstance(m, type) and issubclass(m, BaseModel)
    ]


def test_every_field_named_as_a_credential_is_marked_secret() -> None:
    """A new `*_token` or `password` field cannot be added without the marker."""
    unmarked = [
        f"{model.__name__}.{name}"
        for model in _models()
        for name in model.model_fields
        if names_credential(name)
        and not is_marked(model, name)
        and typing.get_origin(model.model_fields[name].annotation) is not dict
        and not _is_section(model.model_fields[name].annotation)
    ]
    assert unmarked == []


def _is_section(annotation: object) -> bool:
    """A nested model (`auth: OAuthSettings | None`): its own fields are checked above."""
    options = typing.get_args(annotation) or (annotation,)
    return any(isinstance(o, type) and issubclass(o, BaseModel) for o in options)


def test_secrets_by_what_they_are_not_where_they_came_from() -> None:
    config = parse_config(YAML, env=ENV)
    assert TOKEN in config.secrets and "Bearer " + TOKEN in config.secrets
    assert "llama3.1" not in config.secrets and "Europe/London" not in config.secrets


def test_a_value_tagged_secret_is_one_whatever_its_key() -> None:
    config = parse_config(
        "orchestrator: {system_prompt: !secret '${CODE}'}\n", env={"CODE": "x" * 8}
    )
    assert config.orchestrator.system_prompt == "x" * 8 and "x" * 8 in config.secrets


def test_url_passwords_are_secrets() -> None:
    config = parse_config(
        "sessions: {backend: redis, url: 'redis://:hunter22@db:6379/0'}\n", env={}
    )
    assert "hunter22" in config.secrets and "redis://:hunter22@db:6379/0" not in config.secrets


@pytest.mark.parametrize("fmt", ["kv", "json"])
def test_traceback_and_bearer_error_are_redacted_in_every_log_format(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config(YAML + f"logging: {{format: {fmt}}}\n", env=ENV)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(config.logging, Redactor(config.secrets))
    log = logging.getLogger("test.secrets")
    try:
        log.warning("server_error server=remote error=%s", f"401:invalid-token:{TOKEN}")
        try:
            raise PermissionError(f'401 {{"detail": "invalid token {TOKEN}"}}')
        except PermissionError:
            log.exception("call_failed model=%s zone=%s", "llama3.1", "Europe/London")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count("***") >= 2 and "PermissionError" in output and "Traceback" in output
    assert "llama3.1" in output and "Europe/London" in output
    if fmt == "json":
        docs = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert "exc" in docs[-1] and "***" in docs[-1]["exc"]
