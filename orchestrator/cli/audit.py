"""`orchestrator audit [--since 1h] [--chat ID] [--user ID] [--json]`: read the audit trail."""

from __future__ import annotations

import argparse
import json
import sys
import time

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report


def add_audit_parser(sub: SubParsers) -> None:
    audit = sub.add_parser("audit", help="read the audit trail (tool calls, admin actions ...)")
    add_config_option(audit)
    audit.add_argument("--since", help="e.g. 30m, 1h, 2d, or an ISO time")
    audit.add_argument("--chat", help="chat id, or platform:chat_id")
    audit.add_argument("--user", help="user id, or platform:user_id")
    audit.add_argument("--json", action="store_true", help="print the raw JSON records")
    audit.set_defaults(func=cmd_audit)


def cmd_audit(ns: argparse.Namespace) -> int:
    # Imported here, not at the top: `orchestrator <other command>` never loads them.
    from orchestrator.admin.audit_read import AuditFilter, format_record, parse_since, read_audit

    config = load_or_report(ns.config)
    if config is None:
        return 2
    try:
        since = parse_since(ns.since, time.time()) if ns.since else None
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        records = read_audit(config, AuditFilter(since, ns.chat, ns.user))
    except Exception as exc:  # noqa: BLE001 - one clear line, e.g. Redis unreachable
        print(f"cannot read the audit trail: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    for doc in records:
        print(json.dumps(doc) if ns.json else format_record(doc))
    return 0
