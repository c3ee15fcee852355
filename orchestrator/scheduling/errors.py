"""Scheduling errors; each message is written for the chat user who caused it."""

from __future__ import annotations

from orchestrator.errors import OrchestratorError


class ScheduleError(OrchestratorError):
    """A schedule request was refused; `str(exc)` is the reply the user sees."""


class WhenParseError(ScheduleError):
    """A when-phrase could not be understood; the message says what was and gives examples."""


class ScheduleNotFound(ScheduleError):
    """No schedule with that id in this chat."""


class ScheduleForbidden(ScheduleError):
    """Only the creator or an admin may change someone else's schedule."""


class ScheduleLimitError(ScheduleError):
    """An abuse limit (schedules per chat, minimum interval) refused the request."""


class ScheduleIdTaken(ScheduleError):
    """A freshly drawn id collided with an existing one (the caller draws again)."""
