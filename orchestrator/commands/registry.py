"""The command registry: each slash command is declared once, every adapter renders it.

Telegram registers the list with `setMyCommands`, Discord builds its slash-command tree from it,
the console prints it for `/help`. Arguments are parsed here, once, for every platform.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import UsageError
from orchestrator.messages import ChatMessage, Reply


@dataclass(frozen=True, slots=True)
class Param:
    """One command parameter. `rest=True` takes the remainder of the line verbatim."""

    name: str
    description: str
    kind: type = str
    required: bool = True
    rest: bool = False
    choices: tuple[str, ...] = ()


@dataclass(slots=True)
class CommandContext:
    """What a handler knows about the call: who, where, and whether they are an admin."""

    message: ChatMessage
    is_admin: bool
    extras: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[CommandContext, dict[str, Any]], Awaitable[list[Reply]]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    params: tuple[Param, ...]
    handler: Handler
    admin_only: bool = False
    slow: bool = False  # may take longer than a second (Discord defers these at once)
    person_only: bool = False  # answers a question to a person: never from a schedule's text

    def usage(self) -> str:
        parts = [f"/{self.name}"]
        for p in self.params:
            parts.append(f"<{p.name}>" if p.required else f"[{p.name}]")
        return " ".join(parts)


def split_command(text: str) -> tuple[str, str] | None:
    """'/run@MyBot a b' -> ('run', 'a b'); None when the text is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, rest.strip()) if name else None


class CommandRegistry:
    """Declared commands by name, in declaration order."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def command(
        self,
        name: str,
        help: str,
        *params: Param,
        admin_only: bool = False,
        slow: bool = False,
        person_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Decorator: declare `handler` as the slash command `/name`."""

        def decorate(handler: Handler) -> Handler:
            self.add(Command(name, help, tuple(params), handler, admin_only, slow, person_only))
            return handler

        return decorate

    def add(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command /{command.name} is declared twice")
        self._commands[command.name] = command

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def all(self) -> list[Command]:
        return list(self._commands.values())

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def __contains__(self, name: object) -> bool:
        return name in self._commands


def parse_args(command: Command, raw: str) -> dict[str, Any]:
    """Bind the text after the command name to its declared parameters."""
    args: dict[str, Any] = {}
    remaining = raw.strip()
    for param in command.params:
        if param.rest:
            value: str | None = remaining or None
            remaining = ""
        else:
            value, remaining = _next_token(remaining)
        if value is None:
            if param.required:
                raise UsageError(f"missing <{param.name}>. Usage: {command.usage()}")
            continue
        args[param.name] = _convert(command, param, value)
    if remaining:
        raise UsageError(f"unexpected text {remaining[:40]!r}. Usage: {command.usage()}")
    return args


def _next_token(text: str) -> tuple[str | None, str]:
    if not text:
        return None, ""
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    try:
        token = next(iter(lexer))
    except (StopIteration, ValueError):
        token, _, rest = text.partition(" ")
        return token, rest.strip()
    return token, stream.read().strip()


def _convert(command: Command, param: Param, value: str) -> Any:
    if param.choices and value not in param.choices:
        raise UsageError(f"<{param.name}> must be one of: {', '.join(param.choices)}")
    if param.kind is int:
        try:
            return int(value)
        except ValueError:
            raise UsageError(
                f"<{param.name}> must be a whole number. Usage: {command.usage()}"
            ) from None
    return value
