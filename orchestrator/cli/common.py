"""What every sub-command shares: finding and loading the config, reporting its problems."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from orchestrator.config import Config, load_config
from orchestrator.errors import ConfigError

# argparse's private type, named once here so each sub-command module can annotate with it.
SubParsers = argparse._SubParsersAction

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def config_path(value: str | None) -> Path | None:
    chosen = value or os.environ.get("ORCHESTRATOR_CONFIG")
    return Path(chosen) if chosen else None


def load_or_report(path: str | None) -> Config | None:
    """Load the config, or print each problem (FILE:LINE: key.path: message) and return None."""
    try:
        return load_config(config_path(path))
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return None


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        help="config file (default: config/orchestrator.yaml or $ORCHESTRATOR_CONFIG)",
    )
