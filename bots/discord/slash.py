"""Slash commands, built from the core's command registry (one declaration for every
platform). An interaction is deferred whenever the work may outlast Discord's 3-second deadline,
then answered by follow-up; admin-only commands answer ephemerally. A replayed interaction is
dropped: its command ran the first time."""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
from collections.abc import Sequence
from typing import Any, cast

import discord
from discord import app_commands

from bots.discord.base import ERROR_TEXT, PLATFORM, BotBase
from bots.discord.confirm import ConfirmHost, ConfirmView
from bots.discord.parts import command_text, render
from bots.discord.threads import conversation_of
from orchestrator.commands.registry import Command
from orchestrator.media.long_answers import long_answers_as_files
from orchestrator.messages import ChatMessage, Reply, ReplyKind

log = logging.getLogger(__name__)

DEFER_AFTER = 1.0  # seconds of work before an interaction is deferred


class SlashCommands(BotBase):
    def slash_command(self, command: Command) -> app_commands.Command[Any, Any, Any]:
        async def callback(interaction: discord.Interaction, **kwargs: Any) -> None:
            await self.run_slash(interaction, command, kwargs)

        parameters = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        for param in command.params:
            default = inspect.Parameter.empty if param.required else None
            annotation = param.kind if param.required else (param.kind | None)
            parameters.append(
                inspect.Parameter(
                    param.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=annotation,
                    default=default,
                )
            )
        callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        slash: app_commands.Command[Any, ..., Any] = app_commands.Command(
            name=command.name, description=command.help[:100], callback=callback
        )
        for param in command.params:
            described = slash._params[param.name]
            described.description = param.description[:100]
            if param.choices:
                described.choices = [app_commands.Choice(name=c, value=c) for c in param.choices]
        return slash

    async def run_slash(
        self, interaction: discord.Interaction, command: Command, kwargs: dict[str, Any]
    ) -> None:
        """Run a registry command; defer at once if it may outlast Discord's deadline."""
        ephemeral = command.admin_only
        text = command_text(command, kwargs)
        message = self.chat_message(interaction.user, interaction.channel, text)
        key = f"{PLATFORM}:interaction:{interaction.id}"
        if not await self.inflight.begin(key, {"kind": "interaction", "command": text}):
            return  # a replayed interaction: answered (and its command run) the first time
        try:
            await self._run_slash(interaction, command, message, ephemeral)
        finally:
            await self.inflight.end(key)

    async def _run_slash(
        self,
        interaction: discord.Interaction,
        command: Command,
        message: ChatMessage,
        ephemeral: bool,
    ) -> None:
        task = asyncio.create_task(self.orchestrator.handle(message))
        wait = 0 if command.slow else DEFER_AFTER
        done, _ = await asyncio.wait({task}, timeout=wait) if wait else (set(), set())
        if not done:
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        try:
            replies = await task
        except Exception:  # noqa: BLE001 - handle() never raises; belt and braces for the bot
            log.exception("discord_command_failed command=%s", command.name)
            replies = [Reply(ERROR_TEXT, ReplyKind.ERROR)]
        await self.followup(interaction, replies, ephemeral=ephemeral)

    async def followup(
        self,
        interaction: discord.Interaction,
        replies: Sequence[Reply],
        ephemeral: bool = False,
        *,
        key: str | None = None,
    ) -> None:
        """Answer an interaction as `post` answers a message: part by part, a long answer as
        one file (the same rule, so the parts are numbered alike), then each reply's files (a
        tool's images and documents) as attachments. `key`: a recorded request's (an accepted
        press's): each part is marked once sent, as `post` marks them, so a resume after a
        crash sends only the parts still missing."""
        host = cast(ConfirmHost, self)  # the bot: its sending part (a subclass) posts
        limit = self.orchestrator.config.files.answer_as_file_after_parts
        replies = long_answers_as_files(replies, limit, lambda t: len(render(Reply(t))))
        for r_index, reply in enumerate(replies):
            parts = render(reply)
            private = ephemeral or reply.ephemeral
            for index, part in enumerate(parts):
                view = (
                    ConfirmView(host, reply, conversation_of(interaction.channel)[0])
                    if reply.choices and index == len(parts) - 1
                    else None
                )
                kwargs: dict[str, Any] = {"ephemeral": private}
                if view is not None:
                    kwargs["view"] = view
                if not interaction.response.is_done():
                    await interaction.response.send_message(part, **kwargs)
                else:
                    await interaction.followup.send(part, **kwargs)
                if key is not None:
                    await self.store.mark_sent(key, f"{r_index}.{index}", "followup")
            for f_index, file in enumerate(reply.files):
                upload = discord.File(io.BytesIO(file.data), filename=file.name)
                await interaction.followup.send(file=upload, ephemeral=private)
                if key is not None:
                    await self.store.mark_sent(key, f"{r_index}.f{f_index}", "followup")
