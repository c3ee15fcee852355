"""Configuration: the seed example loads, interpolation works, bad files get clear messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.config import load_config, parse_config
from orchestrator.errors import ConfigError
from tests.conftest import FIXTURES, REPO

SEED_ENV = {
    "XERO_CLIENT_ID": "xero-id-123456",
    "XERO_CLIENT_SECRET": "xero-secret-abcdef",
    "CLICKUP_API_TOKEN": "pk_clickup_token_999",
    "TELEGRAM_BOT_TOKEN": "123456:telegram-token-xyz",
}


def test_seed_example_loads_unchanged() -> None:
    config = load_config(FIXTURES / "seed_config.yaml", env=SEED_ENV)
    assert config.orchestrator.llm_settings.model == "gpt-4"
    assert config.orchestrator.tool_routing.confidence_threshold == 0.8
    assert config.orchestrator.memory_system.persist_directory == "./memory_store"
    xero = config.mcp_servers["xero"]
    assert xero.launch_command() == ("npx", ["-y", "@xeroapi/xero-mcp-server"])
    assert xero.env == {
        "XERO_CLIENT_ID": "xero-id-123456",
        "XERO_CLIENT_SECRET": "xero-secret-abcdef",
    }
    # Resolved against the project, so it starts from any working directory.
    assert config.mcp_servers["clickup"].args == [
        str(REPO / "custom_servers/clickup_mcp_server.py")
    ]
    assert "pk_clickup_token_999" in config.secrets


PROD_ENV = {
    "TELEGRAM_BOT_TOKEN": "t" * 10,
    "DISCORD_BOT_TOKEN": "d" * 10,
    "OPENAI_API_KEY": "sk-test",
    "REDIS_URL": "redis://x:1/0",
    "CLICKUP_API_TOKEN": "c" * 10,
}


def test_embedded_config_needs_no_credentials() -> None:
    config = load_config(REPO / "config/orchestrator.yaml", env={})
    assert list(config.mcp_servers) == ["time"]
    assert not config.orchestrator.llm_settings.configured
    assert config.sessions.backend == "memory"
    assert not config.bots.telegram.token and not config.bots.discord.token
    assert not config.secrets


def test_example_config_loads_every_server_and_its_secrets() -> None:
    path = REPO / "config/orchestrator.example.yaml"
    config = load_config(path, env=PROD_ENV)
    assert set(config.mcp_servers) == set(yaml.safe_load(path.read_text())["mcp_servers"])
    assert config.orchestrator.llm_settings.configured
    assert config.sessions.backend == "redis"
    assert {"sk-test", "c" * 10, "t" * 10} <= set(config.secrets)


def test_example_config_needs_no_discord_bot_token_when_a_webhook_posts() -> None:
    """The README: a Discord webhook URL alone is enough for the Discord tool server."""
    env = {k: v for k, v in PROD_ENV.items() if k != "DISCORD_BOT_TOKEN"}
    env["DISCORD_WEBHOOK_URL"] = "https://discord.com/api/webhooks/1/abc"
    config = load_config(REPO / "config/orchestrator.example.yaml", env=env)
    assert config.mcp_servers["discord"].env["DISCORD_WEBHOOK_URL"] == env["DISCORD_WEBHOOK_URL"]
    assert not config.bots.discord.token  # the Discord bot is simply not run
    with_token = load_config(REPO / "config/orchestrator.example.yaml", env=PROD_ENV)
    assert "d" * 10 in with_token.secrets  # still a secret when it is set


def test_interpolation_with_and_without_defaults() -> None:
    text = (
        "orchestrator:\n  llm_settings:\n    model: ${MODEL}\n"
        "    base_url: ${BASE:-http://localhost:11434/v1}\n"
        "    temperature: ${TEMP:-0.5}\n"
    )
    config = parse_config(text, env={"MODEL": "llama3"})
    llm = config.orchestrator.llm_settings
    assert (llm.model, llm.base_url, llm.temperature) == (
        "llama3",
        "http://localhost:11434/v1",
        0.5,
    )
    config = parse_config(text, env={"MODEL": "m", "BASE": "http://vllm:8000/v1", "TEMP": "1"})
    assert config.orchestrator.llm_settings.base_url == "http://vllm:8000/v1"
    assert config.orchestrator.llm_settings.temperature == 1.0


def test_empty_variable_uses_default_and_embedded_text_is_kept() -> None:
    text = "sessions:\n  url: redis://${HOST:-localhost}:${PORT:-6379}/0\n"
    assert parse_config(text, env={"HOST": ""}).sessions.url == "redis://localhost:6379/0"


MALFORMED = {
    "bad_yaml": (
        "orchestrator:\n  llm_settings: [unclosed\n",
        "3: (yaml): expected ',' or ']', but got '<stream end>' (while parsing a flow "
        "sequence that starts on line 2)",
    ),
    "wrong_type": (
        "orchestrator:\n  llm_settings:\n    temperature: hot\n",
        "3: orchestrator.llm_settings.temperature: Input should be a valid number",
    ),
    "out_of_range": (
        "orchestrator:\n  llm_settings:\n    max_steps: 0\n",
        "3: orchestrator.llm_settings.max_steps: Input should be greater than",
    ),
    "unknown_server_type": (
        "mcp_servers:\n  x:\n    type: docker\n    command: a\n",
        "3: mcp_servers.x.type: Input should be 'existing', 'custom'",
    ),
    "missing_command": (
        "mcp_servers:\n  x:\n    type: custom\n",
        "2: mcp_servers.x: type custom needs a `command`",
    ),
    "missing_package": (
        "mcp_servers:\n  x:\n    type: existing\n",
        "2: mcp_servers.x: type existing needs a `package`",
    ),
    "http_without_url": (
        "mcp_servers:\n  x:\n    type: http\n",
        "2: mcp_servers.x: type http needs a `url`",
    ),
    "missing_env_var": (
        "mcp_servers:\n  x:\n    command: a\n    env:\n"
        "      - name: K\n        value: ${NOT_SET_ANYWHERE}\n",
        "6: mcp_servers.x.env[0].value: environment variable NOT_SET_ANYWHERE is not set",
    ),
    "unknown_key": (
        "orchestrator:\n  tool_routing:\n    stratgy: semantic\n",
        "3: orchestrator.tool_routing.stratgy: unknown key",
    ),
    "root_not_mapping": ("- a\n- b\n", "1: (root): expected a mapping"),
    "env_item_without_name": (
        "mcp_servers:\n  x:\n    command: a\n    env:\n      - value: v\n",
        "4: mcp_servers.x.env.name: required key is missing",
    ),
    "bad_server_name": (
        "mcp_servers:\n  a__b:\n    command: a\n",
        "1: mcp_servers: server name 'a__b'",
    ),
    "duplicate_key": (
        "sessions:\n  backend: memory\n  backend: redis\n",
        "3: sessions.backend: duplicate key",
    ),
    "section_wrong_type": ("mcp_servers: [a, b]\n", "1: mcp_servers: Input should be a valid"),
    "bad_respond_to": (
        "bots:\n  telegram:\n    respond_to: everyone\n",
        "3: bots.telegram.respond_to: Input should be 'mentions' or 'all'",
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_gets_its_own_message_and_exit_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = MALFORMED[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    assert main(["check-config", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:{expected}" in out, out
    assert "Traceback" not in out


def test_every_problem_is_reported_at_once() -> None:
    text = "orchestrator:\n  llm_settings:\n    temperature: hot\n    max_steps: 0\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml", env={})
    assert len(info.value.problems) == 2


def test_valid_file_prints_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("sessions:\n  backend: memory\n")
    assert main(["check-config", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_secrets_from_environment_never_appear_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "leak.yaml"
    path.write_text(
        "orchestrator:\n  llm_settings:\n    max_steps: ${SECRET_STEPS}\n"
        '    api_key: ${SECRET_KEY}\n    base_url: ["${SECRET_KEY}"]\n'
    )
    env = {"SECRET_STEPS": "sk-live-not-a-number", "SECRET_KEY": "sk-live-very-secret"}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "check-config", str(path)],
        capture_output=True,
        text=True,
        env={**env, "PATH": ""},
        cwd=REPO,
    )
    assert proc.returncode == 2
    output = proc.stdout + proc.stderr
    assert "max_steps" in output and "base_url" in output
    assert "sk-live" not in output
    assert "Traceback" not in output


def test_missing_file_is_a_clear_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "/nonexistent/orchestrator.yaml"]) == 2
    assert "cannot read" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("orchestrator:\n  llm_settings:\n    provider: anthropic\n", "llm_settings.provider"),
        ("orchestrator:\n  memory_system:\n    embedding_model: bge-large\n", "embedding_model"),
    ],
)
def test_settings_the_bot_cannot_honour_are_refused(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env={})
    assert key in "\n".join(caught.value.problems)
