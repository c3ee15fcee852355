"""`orchestrator doctor`'s Telegram checks, through python-telegram-bot's Bot API client.

Token (`getMe`), privacy mode (`can_read_all_group_messages`) against `respond_to` and the
conversation context (which privacy mode leaves empty), webhook
state (`getWebhookInfo`), and whether each schedule's target chat is reachable (`getChat`).
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from orchestrator.admin.doctor.base import Finding, fail, ok, warn
from orchestrator.config import Config

CHECK = "telegram"
PENDING_WARN = 100


def _respond_to_all(config: Config) -> bool:
    if config.bots.telegram.respond_to == "all":
        return True
    return any(
        key.startswith("telegram:") and policy.respond_to == "all"
        for key, policy in config.chats.items()
    )


async def check_telegram(config: Config, chat_ids: Sequence[str] = ()) -> list[Finding]:
    settings = config.bots.telegram
    assert settings.token
    bot = Bot(settings.token, base_url=settings.base_url or "https://api.telegram.org/bot")
    try:
        await bot.initialize()  # calls getMe
    except InvalidToken:
        return [fail(CHECK, "the bot token was rejected", "check TELEGRAM_BOT_TOKEN (@BotFather)")]
    except NetworkError as exc:
        return [fail(CHECK, f"cannot reach the Bot API: {exc.message}", "check network/base_url")]
    try:
        return await _checks(bot, config, chat_ids)
    finally:
        await bot.shutdown()


async def _checks(bot: Bot, config: Config, chat_ids: Sequence[str]) -> list[Finding]:
    me = bot.bot
    found = [ok(CHECK, f"token valid: @{me.username}")]
    if _respond_to_all(config) and not me.can_read_all_group_messages:
        found.append(
            fail(
                f"{CHECK} privacy",
                "privacy mode is on: in groups the bot sees only commands, mentions and replies, "
                "but respond_to is all",
                "@BotFather: /setprivacy -> Disable, then remove and re-add the bot to each group",
            )
        )
    elif not me.can_read_all_group_messages and config.context.enabled:  # issue 31
        found.append(
            warn(
                f"{CHECK} privacy",
                "privacy mode is on: in groups the bot sees only commands, mentions and replies, "
                "so it keeps no conversation context (the chat around a question)",
                "@BotFather: /setprivacy -> Disable, then remove and re-add the bot to each group "
                "(or set context.enabled: false to silence this)",
            )
        )
    else:
        mode = "off" if me.can_read_all_group_messages else "on (fine for respond_to: mentions)"
        found.append(ok(f"{CHECK} privacy", f"privacy mode {mode}"))
    found.extend(await _webhook(bot, config))
    for chat_id in chat_ids:
        try:
            await bot.get_chat(chat_id)
        except TelegramError as exc:
            found.append(
                fail(
                    f"{CHECK} chat {chat_id}",
                    f"a schedule posts here but the bot cannot reach it: {exc.message}",
                    "add the bot to that chat, or change the schedule's target",
                )
            )
    return found


async def _webhook(bot: Bot, config: Config) -> list[Finding]:
    hook = config.bots.telegram.webhook
    info = await bot.get_webhook_info()
    name = f"{CHECK} webhook"
    found: list[Finding] = []
    if hook is None:
        if info.url:
            return [
                fail(
                    name,
                    f"a webhook is set ({info.url}) but this deployment polls: it gets no updates",
                    "start `orchestrator run telegram` in polling mode (it deletes the webhook), "
                    "or configure bots.telegram.webhook",
                )
            ]
        return [ok(name, "none (long polling)")]
    if not info.url:
        # A first deploy checks before the web process has ever run: that process sets the
        # webhook, so "not set yet" is a warning the release step (`test $? -lt 2`) passes.
        found.append(
            warn(
                name,
                "no webhook is set yet (normal before the first `orchestrator run telegram`)",
                "start `orchestrator run telegram`; it sets the webhook",
            )
        )
    elif info.url != hook.url:
        found.append(
            warn(
                name,
                f"set to {info.url}, config says {hook.url}",
                "restart `orchestrator run telegram` to set the configured URL",
            )
        )
    else:
        found.append(ok(name, f"{info.url}, {info.pending_update_count} pending update(s)"))
    if info.last_error_message:
        when = f" at {info.last_error_date:%Y-%m-%d %H:%M} UTC" if info.last_error_date else ""
        found.append(
            fail(
                name,
                f"Telegram's last delivery failed{when}: {info.last_error_message}",
                "check that the URL is public over HTTPS and the web process is up (/healthz)",
            )
        )
    if info.pending_update_count > PENDING_WARN:
        found.append(
            warn(
                name,
                f"{info.pending_update_count} updates waiting",
                "the web process is down or too slow; check its logs and /healthz",
            )
        )
    return found
