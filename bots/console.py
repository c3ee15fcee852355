"""The console backend: one local chat on stdin/stdout, for development and `make run`.

Works interactively and with piped input (`printf '/tools\\n' | orchestrator chat`), exiting at
end of input.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from orchestrator.app import build_orchestrator
from orchestrator.config import Config
from orchestrator.core import Orchestrator
from orchestrator.mcp.questions import is_answer
from orchestrator.messages import ChatMessage, Reply, ReplyKind

PROMPT = "you> "


class ConsoleAdapter:
    platform = "console"

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        chat_id: str = "local",
        user_id: str | None = None,
        out: TextIO = sys.stdout,
    ) -> None:
        self.orchestrator = orchestrator
        self.chat_id = chat_id
        self.user_id = user_id or getpass.getuser()
        self.out = out
        self.interactive = sys.stdin.isatty()
        orchestrator.attach(self)

    async def send(
        self, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> None:
        for reply in replies:
            self.out.write(render(reply) + "\n")
            for choice in reply.choices:
                self.out.write(f"  [{choice.label}] type: {choice.command}\n")
        self.out.flush()

    def message(self, text: str) -> ChatMessage:
        # The local console user owns the machine, so they are the admin here.
        return ChatMessage(
            platform=self.platform,
            chat_id=self.chat_id,
            user_id=self.user_id,
            text=text,
            user_name=self.user_id,
            is_private=True,
            is_admin=True,
        )

    async def run(self, stdin: TextIO = sys.stdin) -> int:
        """Answer each line in order; lines are read while a request runs, so the answer to
        a tool server's question (`/answer ...`) reaches the request that waits on it."""
        if self.interactive:
            self.out.write("Console chat. /help lists commands; Ctrl-D quits.\n")
        running: asyncio.Task[None] | None = None
        lines = self._reader(stdin)
        try:
            while True:
                line = await lines.get()
                text = "" if line is None else line.strip()
                if line is None or text in ("/quit", "/exit"):
                    return 0
                if not text:
                    continue
                if is_answer(text):
                    await self._answer(text)
                    continue
                if running is not None:
                    await running
                running = asyncio.create_task(self._answer(text))
        finally:
            if running is not None:
                await running

    async def _answer(self, text: str) -> None:
        await self.send(self.chat_id, await self.orchestrator.handle(self.message(text)))

    def _reader(self, stdin: TextIO) -> asyncio.Queue[str | None]:
        """Lines of `stdin` as they come (None at its end), read by a daemon thread: a blocked
        read must not hold the exit (Ctrl-C waits for no Enter, as it would if the read ran in
        the loop's executor, which `asyncio.run` waits for)."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        def read() -> None:
            line: str | None = ""
            while line is not None:
                line = self._read_line(stdin)
                try:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                except RuntimeError:  # the loop is closed: the console has ended
                    return

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        return lines

    def _read_line(self, stdin: TextIO) -> str | None:
        if self.interactive:
            self.out.write(PROMPT)
            self.out.flush()
        line = stdin.readline()
        return line if line else None


def render(reply: Reply) -> str:
    if reply.kind is ReplyKind.SUMMARY:
        return f"  ({reply.text})"
    if reply.kind is ReplyKind.ERROR:
        return f"! {reply.text}"
    return reply.text


def run_console(config: Config) -> int:
    """`orchestrator chat`: the console platform until end of input."""

    async def main() -> int:
        orchestrator = build_orchestrator(config)
        await orchestrator.start()
        try:
            return await ConsoleAdapter(orchestrator).run()
        finally:
            await orchestrator.stop()

    return asyncio.run(main())
