"""`orchestrator check-config [FILE]`: validate a config file, one problem a line."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestrator.cli.common import SubParsers, config_path
from orchestrator.config import load_config
from orchestrator.errors import ConfigError


def add_check_config_parser(sub: SubParsers) -> None:
    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("file", nargs="?", help="config file (default: the embedded one)")
    check.set_defaults(func=cmd_check_config)


def cmd_check_config(ns: argparse.Namespace) -> int:
    try:
        load_config(Path(ns.file) if ns.file else config_path(None))
    except ConfigError as exc:
        for line in exc.problems:
            print(line)
        return 2
    print("ok")
    return 0
