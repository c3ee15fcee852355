"""`orchestrator mcp login <server>`: sign an `identity: bot` OAuth server in as the bot.

Run on the host while the bot is stopped (the callback is served on the `http:` section's
address, which the running bot holds): it prints the sign-in link, serves `/oauth/callback`,
waits for the redirect, stores the tokens encrypted, connects once and prints the tools.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report
from orchestrator.config import Config


def add_mcp_parser(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("mcp", help="MCP server sign-ins (OAuth)")
    sub = parser.add_subparsers(dest="mcp_command", required=True)
    login = sub.add_parser("login", help="sign an identity: bot OAuth server in as the bot")
    login.add_argument("server", help="the server's name in mcp_servers")
    add_config_option(login)
    login.set_defaults(func=cmd_login)


def cmd_login(ns: argparse.Namespace) -> int:
    config = load_or_report(ns.config)
    if config is None:
        return 2
    settings = config.mcp_servers.get(ns.server)
    if settings is None or settings.auth is None:
        oauth = sorted(n for n, s in config.mcp_servers.items() if s.auth is not None)
        names = ", ".join(oauth) or "none"
        print(f"{ns.server!r} is not an OAuth server in the config (those are: {names})")
        return 2
    if settings.auth.identity == "person":
        print(f"{ns.server} acts for each person: they sign in in the chat with /login {ns.server}")
        return 2
    return asyncio.run(_login(config, ns.server))


async def _login(config: Config, name: str) -> int:
    from orchestrator.identity.factory import build_gate
    from orchestrator.identity.gate import SignInLink
    from orchestrator.identity.routes import oauth_routes
    from orchestrator.identity.vault_base import BOT_SLOT, TokenKeyMissing
    from orchestrator.mcp.hub import ServerConnection
    from orchestrator.web import WebServer, build_app

    async def show(link: SignInLink) -> None:
        print(f"Open this link in a browser to sign {link.server} in as the bot:\n{link.url}")
        print(f"Waiting up to {link.timeout / 60:g} min for the sign-in ...", flush=True)

    try:
        gate = build_gate(config, show)
    except TokenKeyMissing as exc:
        print(f"cannot sign in: {exc}", file=sys.stderr)
        return 2
    assert gate is not None and config.http is not None
    settings = config.mcp_servers[name]
    assert settings.auth is not None
    web = WebServer(build_app(oauth_routes(gate.signins)), config.http)
    await web.start()
    patient = settings.model_copy(
        update={
            "startup_timeout_seconds": settings.startup_timeout_seconds
            + settings.auth.sign_in_timeout_seconds
        }
    )
    connection = ServerConnection(name, patient, auth=gate.provider(name, settings, BOT_SLOT))
    try:
        await connection.start()
        if connection.state != "up":
            print(f"sign-in failed: {connection.last_error}", file=sys.stderr)
            return 1
        print(f"Signed in: {name} has {len(connection.tools)} tools; the bot uses this sign-in.")
        return 0
    finally:
        await connection.stop()
        await web.stop()
        await gate.close()
