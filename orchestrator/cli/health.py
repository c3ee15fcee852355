"""`orchestrator health`: a Procfile platform's or container's health check; exit 0 healthy, else 2.

Checks what a restart could fix, one line each: the config loads; Redis answers (when used); the
memory store is writable or its server answers; the bot process is beating (`health.
heartbeat_path`: a worker has no port to probe); the webhook web process answers `GET /healthz`
(when Telegram runs as a webhook: on the `http:` port when set, else the webhook's). `--url`
checks one URL instead.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report
from orchestrator.config import Config

if TYPE_CHECKING:
    from orchestrator.admin.doctor.base import Finding


def add_health_parser(sub: SubParsers) -> None:
    health = sub.add_parser("health", help="exit 0 when this deployment is healthy, else 2")
    add_config_option(health)
    health.add_argument("--url", help="GET this URL instead (e.g. http://127.0.0.1:8443/healthz)")
    health.set_defaults(func=cmd_health)


def http_check(url: str) -> tuple[bool, str]:
    """(answered 200, what happened: 'answers 200', 'answers HTTP 503', 'connection refused')."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - admin-given URL
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return False, f"answers HTTP {exc.code}"
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = getattr(reason, "strerror", None) or str(reason)
        return False, f"does not answer: {str(text).lower()}"
    except (OSError, ValueError) as exc:  # a timeout, a reset, a malformed URL
        return False, f"does not answer: {type(exc).__name__}: {exc}"
    return status == 200, "answers 200" if status == 200 else f"answers HTTP {status}"


async def _stores(config: Config) -> list[Finding]:
    # Imported here, not at the top: `orchestrator <other command>` never loads them.
    from orchestrator.admin.doctor.checks import check_chroma, check_redis

    redis, memory = await asyncio.gather(check_redis(config), check_chroma(config))
    return [*redis, *memory]


def webhook_health_url(config: Config) -> str | None:
    """Where the webhook process answers `/healthz`: the `http:` server when set (the webhook
    is served there), else the webhook's own address; None when Telegram does not use one."""
    hook = config.bots.telegram.webhook
    if hook is None or not config.bots.telegram.token:
        return None
    listen, port = (config.http.host, config.http.port) if config.http else (hook.listen, hook.port)
    host = "127.0.0.1" if listen in ("0.0.0.0", "::", "") else listen
    return f"http://{host}:{port}/healthz"


def health_lines(config: Config) -> list[tuple[bool, str]]:
    """(healthy, 'check: detail') per check, in a fixed order."""
    from orchestrator.admin.doctor.base import Level
    from orchestrator.admin.heartbeat import check_beat

    lines = [(True, f"config: {config.source or 'the embedded default'} loads")]
    lines += [
        (f.level is not Level.FAIL, f"{f.check}: {f.detail}") for f in asyncio.run(_stores(config))
    ]
    if config.health.heartbeat_path:
        beat = check_beat(config.health, time.time())
        lines.append((beat.healthy, f"bot process: {beat.detail}"))
    url = webhook_health_url(config)
    if url is not None:
        answered, said = http_check(url)
        lines.append((answered, f"webhook: {url} {said}"))
    return lines


def cmd_health(ns: argparse.Namespace) -> int:
    if ns.url:
        healthy, said = http_check(ns.url)
        print(f"{'ok' if healthy else 'fail'} {ns.url} {said}")
        return 0 if healthy else 2
    config = load_or_report(ns.config)
    if config is None:
        print("fail config: does not load (see above)")
        return 2
    lines = health_lines(config)
    for healthy, line in lines:
        print(f"{'ok  ' if healthy else 'fail'} {line}")
    return 0 if all(healthy for healthy, _ in lines) else 2
