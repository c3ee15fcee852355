"""Exceptions with names that say what went wrong."""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(OrchestratorError):
    """The configuration is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ToolError(OrchestratorError):
    """A tool call failed in a way the user should be told about."""


class UnknownTool(ToolError):
    """No connected server offers this tool."""


class ServerDown(ToolError):
    """The MCP server is not connected (failed to start, crashed, restarting)."""


class ToolTimeout(ToolError):
    """The tool did not answer within its timeout; the request was cancelled."""


class LLMError(OrchestratorError):
    """The language model could not be reached or answered nonsense."""


class UsageError(OrchestratorError):
    """A command was called with the wrong arguments; the message says how to call it."""
