"""python-telegram-bot's network failures as one log line each, not a chained traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from telegram.error import NetworkError


class NetworkErrorsInOneLine(logging.Filter):
    """The library logs each network failure with its chained traceback (about a hundred lines
    for "no network"). Keep one line per failure; at start-up our `telegram_start_failed` is
    that line, so the library's own "Bootstrap ... Aborting" record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not record.name.startswith("telegram") or not isinstance(error, NetworkError):
            return True
        if "Bootstrap" in record.getMessage():
            return False
        record.msg = f"{record.getMessage()} error={type(error).__name__} detail={error.message}"
        record.args, record.exc_info, record.exc_text = (), None, None
        return True


@contextmanager
def network_errors_in_one_line() -> Iterator[None]:
    """Applied on every handler of the root logger while the adapter runs."""
    quiet = NetworkErrorsInOneLine()
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
