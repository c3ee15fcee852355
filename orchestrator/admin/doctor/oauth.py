"""The doctor's OAuth check: the token key, the callback address, and each OAuth server's
sign-in state (signed in, needs sign-in, refresh failed). States only: a token is never read
into a finding."""

from __future__ import annotations

from orchestrator.admin.doctor.base import Finding, fail, ok, warn
from orchestrator.config import Config
from orchestrator.identity.factory import build_gate, oauth_servers
from orchestrator.identity.storage import REFRESH_FAILED, SIGNED_IN
from orchestrator.identity.vault_base import BOT_SLOT, TokenKeyMissing


async def check_oauth(config: Config) -> list[Finding]:
    if not oauth_servers(config):
        return [ok("oauth", "no OAuth servers")]
    try:
        gate = build_gate(config)
    except TokenKeyMissing as exc:
        return [fail("oauth", str(exc), "set the key in the environment and restart")]
    assert gate is not None and config.http is not None
    findings: list[Finding] = []
    public = config.http.public_url or ""
    if not public.startswith("https://") and config.http.host not in ("127.0.0.1", "localhost"):
        findings.append(
            warn(
                "oauth",
                f"sign-in redirects go to {gate.redirect_uri} (not https)",
                "put TLS in front and set http.public_url to its https:// address",
            )
        )
    try:
        for name, settings in sorted(config.mcp_servers.items()):
            if settings.auth is None:
                continue
            if settings.auth.identity == "person":
                people = [s for s in await gate.signed_in(name) if not s.startswith("_")]
                failed = [
                    s
                    for s in await gate.vault.slots(name)
                    if not s.startswith("_") and await gate.state(name, s) == REFRESH_FAILED
                ]
                detail = f"{name}: as each person, {len(people)} signed in"
                if failed:
                    detail += f", {len(failed)} to sign in again (sent a new link on use)"
                findings.append(ok("oauth", detail))
                continue
            state = await gate.state(name, BOT_SLOT)
            if state == SIGNED_IN:
                findings.append(ok("oauth", f"{name}: as the bot, signed in"))
            else:
                findings.append(
                    fail(
                        "oauth",
                        f"{name}: as the bot, {state}",
                        f"stop the bot and run: orchestrator mcp login {name}",
                    )
                )
    finally:
        await gate.close()
    return findings
