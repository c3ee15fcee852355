"""`/memory` and `/forget`: what the bot remembers in this chat, and wiping it (with the chat's
conversation context, issue 31)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orchestrator.commands.registry import CommandContext, CommandRegistry, Param
from orchestrator.messages import Reply, ReplyKind
from orchestrator.services import AppHost

PAGE_SIZE = 10


def register_memory_commands(reg: CommandRegistry, app: AppHost) -> None:

    @reg.command(
        "memory",
        "What I remember in this chat, most recent first",
        Param("page", "Page number", kind=int, required=False),
    )
    async def memory(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        store = app.services.memory
        if store is None:
            return [Reply("Long-term memory is switched off in this deployment.")]
        page = max(1, args.get("page", 1))
        items = await store.recent(ctx.message.chat_key, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1)
        if not items:
            return [Reply("Nothing remembered here yet." if page == 1 else "No more memories.")]
        lines = [f"Memories (page {page}):"]
        for item in items[:PAGE_SIZE]:
            when = datetime.fromtimestamp(item.timestamp, UTC).strftime("%Y-%m-%d")
            lines.append(f"- {when}: {item.request[:80]} -> {item.summary[:100]}")
        if len(items) > PAGE_SIZE:
            lines.append(f"More: /memory {page + 1}")
        return [Reply("\n".join(lines))]

    @reg.command(
        "forget",
        "Forget your last remembered request and the recent chat context here (`context`: only "
        "the context; admins: `all` wipes this chat's memory too)",
        Param("scope", "last, context or all", required=False, choices=("last", "context", "all")),
    )
    async def forget(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        scope = args.get("scope") or "last"
        if scope == "all" and not ctx.is_admin:
            return [
                Reply("Only admins can wipe this chat's memory.", ReplyKind.ERROR, ephemeral=True)
            ]
        dropped = await app.conversation.forget(ctx.message)
        said = [f"Dropped the recent chat context ({dropped} messages)."] if dropped else []
        store = app.services.memory
        if scope == "context":
            return [Reply(said[0] if said else "I was keeping no chat context here.")]
        if store is None:
            said.append("Long-term memory is switched off in this deployment.")
        elif scope == "all":
            count = await store.forget_chat(ctx.message.chat_key)
            said.insert(0, f"Forgot everything in this chat ({count} items).")
        else:
            count = await store.forget_last(ctx.message.chat_key, ctx.message.user_id)
            said.insert(0, "Forgot your last request." if count else "I had nothing of yours here.")
        return [Reply(" ".join(said))]
