"""`/memory`, `/remember` and `/forget`: what the bot remembers in this chat, adding to it and
wiping it (with the chat's conversation context, issue 31; both audited)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from orchestrator.audit import audit
from orchestrator.commands.registry import CommandContext, CommandRegistry, Param
from orchestrator.embedding.fused import first_block
from orchestrator.memory.base import Memory
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
        items = await store.recent(
            ctx.message.conversation_key, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1
        )
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
            count = await store.forget_chat(ctx.message.conversation_key)
            audit("memory_forget", tool="/forget", detail=f"all: {count} item(s)")
            said.insert(0, f"Forgot everything in this chat ({count} items).")
        else:
            count = await store.forget_last(ctx.message.conversation_key, ctx.message.user_id)
            audit("memory_forget", tool="/forget", detail=f"last: {count} item(s)")
            said.insert(0, "Forgot your last request." if count else "I had nothing of yours here.")
        return [Reply(" ".join(said))]

    @reg.command(
        "remember",
        "Remember a note in this chat's long-term memory (recalled when it is relevant)",
        Param("text", "what to remember", rest=True),
    )
    async def remember(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        store, embedder = app.services.memory, app.services.embedder
        if store is None or embedder is None:
            return [Reply("Long-term memory is switched off in this deployment.")]
        text = " ".join(str(args["text"]).split())
        note = Memory(
            id="",
            chat_key=ctx.message.conversation_key,
            user_id=ctx.message.user_id,
            request=text,
            summary=f"Noted by {ctx.message.user_name or ctx.message.user_id}: {text}"[:500],
            timestamp=time.time(),
        )
        # Memory holds the first encoder's part of a fused vector, as the core stores it.
        vector = first_block((await embedder.embed([text]))[0], embedder)
        await store.remember(note, vector)
        audit("memory_remember", tool="/remember", detail=f"{len(text)} characters")
        return [Reply("Noted. I will recall it here when it is relevant; /memory lists it.")]
