"""`orchestrator health`: a Procfile platform's health check; exit 0 healthy, 2 not.

Checks what a restart could fix: the config loads, Redis answers (when used), and the webhook
web process answers `GET /healthz` (when Telegram runs as a webhook). `--url` checks any URL.
"""

from __future__ import annotations

import argparse
import asyncio
import urllib.error
import urllib.request

from orchestrator.admin.doctor.base import Level
from orchestrator.admin.doctor.checks import check_redis
from orchestrator.cli.common import SubParsers, add_config_option, load_or_report


def add_health_parser(sub: SubParsers) -> None:
    health = sub.add_parser("health", help="exit 0 when this deployment is healthy, else 2")
    add_config_option(health)
    health.add_argument("--url", help="GET this URL instead (e.g. http://127.0.0.1:8443/healthz)")
    health.set_defaults(func=cmd_health)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - admin-given URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def cmd_health(ns: argparse.Namespace) -> int:
    if ns.url:
        healthy = http_ok(ns.url)
        print(f"{'ok' if healthy else 'fail'} {ns.url}")
        return 0 if healthy else 2
    config = load_or_report(ns.config)
    if config is None:
        print("fail config")
        return 2
    problems = [
        f"{f.check}: {f.detail}" for f in asyncio.run(check_redis(config)) if f.level is Level.FAIL
    ]
    hook = config.bots.telegram.webhook
    if hook is not None and config.bots.telegram.token:
        host = "127.0.0.1" if hook.listen in ("0.0.0.0", "::", "") else hook.listen
        url = f"http://{host}:{hook.port}/healthz"
        if not http_ok(url):
            problems.append(f"webhook: {url} does not answer 200")
    for line in problems:
        print(f"fail {line}")
    if not problems:
        print("ok")
    return 2 if problems else 0
