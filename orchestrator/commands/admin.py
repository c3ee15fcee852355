"""Admin commands: /doctor, /config, /allow, /deny (every one admin-only, every one audited)."""

from __future__ import annotations

from typing import Any

from orchestrator.admin.chat_rules import ChatToolRules
from orchestrator.admin.config_view import redacted_config
from orchestrator.admin.doctor.base import exit_code, format_report
from orchestrator.admin.doctor.runner import diagnose
from orchestrator.commands.registry import CommandContext, CommandRegistry, Param
from orchestrator.messages import Reply
from orchestrator.services import AppHost

VERDICT = {0: "All checks passed.", 1: "Warnings found.", 2: "Problems found."}


def register_admin_commands(reg: CommandRegistry, app: AppHost, rules: ChatToolRules) -> None:

    @reg.command(
        "doctor", "Check every part and say what to fix (admins)", admin_only=True, slow=True
    )
    async def doctor(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        async def statuses() -> list[Any]:
            return app.services.hub.status()

        findings = await diagnose(app.config, statuses, app.schedule_targets)
        verdict = VERDICT[exit_code(findings)]
        return [Reply(f"{verdict}\n```\n{format_report(findings)}\n```", ephemeral=True)]

    @reg.command("config", "Show the running config, secrets hidden (admins)", admin_only=True)
    async def config(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        return [Reply(f"```yaml\n{redacted_config(app.config)}```", ephemeral=True)]

    def rule(name: str, allow: bool, help_text: str) -> None:
        @reg.command(
            name,
            help_text,
            Param("pattern", "server/tool, server/* or server"),
            admin_only=True,
        )
        async def handler(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
            chat_key = ctx.message.chat_key
            listed = await rules.change(chat_key, args["pattern"], allow=allow)
            verb = "allowed" if allow else "denied"
            return [Reply(f"Tools {verb} in this chat: {', '.join(listed)}")]

    rule("allow", True, "Allow a tool pattern in this chat (admins)")
    rule("deny", False, "Deny a tool pattern in this chat (admins)")
