"""`auth:` on HTTP servers (issue 32): what validates, what is refused and how it is said, the
client secret masked as a credential, and the token vault's sealing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from orchestrator.admin.config_view import redacted_config
from orchestrator.config import parse_config
from orchestrator.errors import ConfigError
from orchestrator.identity.signins import SignIns
from orchestrator.identity.storage import SlotRecords, VaultTokenStorage
from orchestrator.identity.vault_base import Sealer, TokenKeyMissing
from orchestrator.identity.vault_file import FileVault

SERVER = "mcp_servers:\n  docs:\n    type: {type}\n    {where}\n    auth: {auth}\n"


def server_yaml(auth: str, type_: str = "http", where: str = "url: https://mcp.example/mcp") -> str:
    return SERVER.format(type=type_, where=where, auth=auth)


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.yaml", env={})
    return "\n".join(caught.value.problems)


def test_an_oauth_server_loads_with_defaults_and_a_configured_client() -> None:
    config = parse_config(server_yaml("{type: oauth}"), env={})
    auth = config.mcp_servers["docs"].auth
    assert auth is not None and (auth.identity, auth.client_id, auth.scopes) == ("bot", None, [])
    text = server_yaml(
        "{type: oauth, identity: person, client_id: bot-app, client_secret: '${DOCS_SECRET}',"
        " scopes: [read, write]}"
    )
    config = parse_config(text, env={"DOCS_SECRET": "s3cr3t-value"})
    auth = config.mcp_servers["docs"].auth
    assert auth is not None and auth.identity == "person" and auth.scopes == ["read", "write"]
    assert "s3cr3t-value" in config.secrets  # a credential: masked in replies, logs, /config
    shown = redacted_config(config)
    assert "s3cr3t-value" not in shown and "bot-app" in shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (server_yaml("{type: oauth}", "stdio", "command: mcp-x"), "works only on `type: http`"),
        (server_yaml("{type: oauth, identity: everyone}"), "'bot' or 'person'"),
        (server_yaml("{type: basic}"), "'oauth'"),
        (server_yaml("{type: oauth, client_secret: x}"), "`client_secret` needs the `client_id`"),
        (server_yaml("{type: oauth, scope: read}"), "scope"),
    ],
)
def test_bad_auth_sections_say_what_is_wrong_and_where(text: str, expected: str) -> None:
    said = problems(text)
    assert expected in said and "mcp_servers.docs" in said


def test_the_vault_seals_records_and_another_key_reads_as_absent(tmp_path: Path) -> None:
    async def scenario() -> None:
        vault = FileVault(tmp_path / "tokens.json")
        sealer = Sealer(Fernet.generate_key().decode())
        storage = VaultTokenStorage(SlotRecords(vault, sealer, "docs"), "telegram:1")
        from mcp.shared.auth import OAuthToken

        await storage.set_tokens(OAuthToken(access_token="at-secret", refresh_token="rt-secret"))
        assert (await storage.get_tokens()).access_token == "at-secret"  # type: ignore[union-attr]
        raw = (tmp_path / "tokens.json").read_text()
        assert "at-secret" not in raw and "rt-secret" not in raw
        assert oct((tmp_path / "tokens.json").stat().st_mode & 0o777) == "0o600"
        other = VaultTokenStorage(
            SlotRecords(vault, Sealer(Fernet.generate_key().decode()), "docs"), "telegram:1"
        )
        assert await other.get_tokens() is None  # a changed key: sign in again, no crash
        assert await storage.forget() and await storage.get_tokens() is None

    import asyncio

    asyncio.run(scenario())


def test_a_missing_or_malformed_key_is_refused_with_how_to_make_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ORCHESTRATOR_TOKEN_KEY", raising=False)
    with pytest.raises(TokenKeyMissing, match="Fernet.generate_key"):
        Sealer.from_env("ORCHESTRATOR_TOKEN_KEY", ["docs"])
    monkeypatch.setenv("ORCHESTRATOR_TOKEN_KEY", "not-a-key")
    with pytest.raises(TokenKeyMissing, match="not a Fernet key"):
        Sealer.from_env("ORCHESTRATOR_TOKEN_KEY", ["docs"])


def test_a_callback_is_accepted_once_and_a_forged_state_never() -> None:
    async def scenario() -> None:
        signins = SignIns()
        pending = await signins.expect("docs", "telegram:1", "https://as/authorize?state=abc&x=1")
        assert (await signins.complete("forged", "code")).status == 400
        assert (await signins.complete("abc", "code-1")).status == 200
        assert (await signins.wait(pending, 1)).code == "code-1"
        assert (await signins.complete("abc", "code-1")).status == 400  # replayed
        assert await signins.waiting("docs") == []

    import asyncio

    asyncio.run(scenario())
