"""`orchestrator doctor`'s Discord checks, through discord.py's HTTP client (no gateway).

Login (the token), the message content intent (application flags) against `respond_to`, the
guilds joined, and whether slash commands are synced where the config says.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from orchestrator.admin.doctor.base import Finding, fail, ok, warn
from orchestrator.config import Config

CHECK = "discord"


async def check_discord(config: Config, chat_ids: Sequence[str] = ()) -> list[Finding]:
    settings = config.bots.discord
    assert settings.token
    client = discord.Client(intents=discord.Intents.none())
    try:
        try:
            await client.login(settings.token)
        except discord.LoginFailure:
            return [fail(CHECK, "the bot token was rejected", "check DISCORD_BOT_TOKEN")]
        except (discord.HTTPException, OSError) as exc:
            return [fail(CHECK, f"cannot reach Discord: {type(exc).__name__}", "check network")]
        found = [ok(CHECK, f"logged in as {client.user}")]
        app = await client.application_info()
        found.append(_content_intent(app.flags, config))
        guilds = [g async for g in client.fetch_guilds(limit=200)]
        if not guilds:
            found.append(
                warn(f"{CHECK} guilds", "the bot has joined no server", "invite it (OAuth2 URL)")
            )
        else:
            found.append(ok(f"{CHECK} guilds", f"in {len(guilds)} server(s)"))
        found.extend(await _commands(client, app.id, config, {g.id for g in guilds}))
        for chat_id in chat_ids:
            try:
                await client.fetch_channel(int(chat_id))
            except (discord.HTTPException, ValueError) as exc:
                found.append(
                    fail(
                        f"{CHECK} channel {chat_id}",
                        f"a schedule posts here but the bot cannot reach it ({type(exc).__name__})",
                        "give the bot access to that channel, or change the schedule's target",
                    )
                )
        return found
    finally:
        await client.close()


def _content_intent(flags: discord.ApplicationFlags, config: Config) -> Finding:
    name = f"{CHECK} intents"
    enabled = flags.gateway_message_content or flags.gateway_message_content_limited
    if enabled:
        return ok(name, "message content intent enabled")
    needs = config.bots.discord.respond_to == "all" or any(
        key.startswith("discord:") and p.respond_to == "all" for key, p in config.chats.items()
    )
    text = "the message content intent is off: the bot cannot read messages" + (
        " (respond_to is all)" if needs else " except mentions"
    )
    fix = "Developer Portal -> Bot -> Privileged Gateway Intents -> Message Content Intent"
    return fail(name, text, fix) if needs else warn(name, text, fix)


async def _commands(
    client: discord.Client, app_id: int, config: Config, joined: set[int]
) -> list[Finding]:
    settings = config.bots.discord
    name = f"{CHECK} commands"
    if settings.sync == "none":
        return [ok(name, "sync: none (managed elsewhere)")]
    if settings.sync == "global":
        synced = await client.http.get_global_commands(app_id)
        if not synced:
            return [warn(name, "no global slash commands", "start the bot once (sync: global)")]
        return [ok(name, f"{len(synced)} global slash commands")]
    if not settings.guild_ids:
        return [
            warn(
                name,
                "sync is guild but bots.discord.guild_ids is empty: no slash commands",
                "list your server ids in bots.discord.guild_ids, or use sync: global",
            )
        ]
    found = []
    for guild_id in settings.guild_ids:
        if guild_id not in joined:
            found.append(
                fail(name, f"guild {guild_id} is configured but not joined", "invite the bot")
            )
            continue
        synced = await client.http.get_guild_commands(app_id, guild_id)
        if synced:
            found.append(ok(name, f"guild {guild_id}: {len(synced)} slash commands"))
        else:
            found.append(
                warn(name, f"guild {guild_id}: no slash commands", "start the bot once to sync")
            )
    return found
