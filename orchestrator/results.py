"""What an agent run leaves behind: its turns in the session, and the replies (an answer with
its summary line, or a paused plan's question with Run all / Cancel)."""

from __future__ import annotations

import time

from orchestrator.config import Config
from orchestrator.llm.agent import AgentResult
from orchestrator.media.prompt import turn_text
from orchestrator.messages import ChatMessage, Choice, Reply, ReplyKind
from orchestrator.sessions.model import Session, Turn


def record(config: Config, session: Session, message: ChatMessage, result: AgentResult) -> None:
    bounds = (config.sessions.max_turns, config.sessions.max_tokens)
    author = f"{message.user_name}: " if message.user_name else ""
    turn = Turn("user", author + turn_text(message), message.user_id, time.time())
    session.add_turn(turn, *bounds)
    record_answer(config, session, result)


def record_answer(config: Config, session: Session, result: AgentResult) -> None:
    """Only the model's own complete answers become turns; placeholders and cut text never."""
    bounds = (config.sessions.max_turns, config.sessions.max_tokens)
    if result.is_answer:
        session.add_turn(Turn("assistant", result.text, "", time.time()), *bounds)
    if result.pending is not None:
        session.pending[result.pending.id] = result.pending


def result_replies(message: ChatMessage, result: AgentResult) -> list[Reply]:
    if result.pending is not None:
        pid = result.pending.id
        choices = (Choice("Run all", f"/confirm {pid}"), Choice("Cancel", f"/cancel {pid}"))
        # Files a tool made before the pause go with the question: the model was told they
        # were sent, and the plan (kept as JSON) holds no bytes.
        files = tuple(result.files)
        return [Reply(result.text, choices=choices, for_user_id=message.user_id, files=files)]
    files = tuple(result.files)
    return [Reply(result.text, files=files), Reply(summary_line(result), ReplyKind.SUMMARY)]


def summary_line(result: AgentResult) -> str:
    used = ", ".join(dict.fromkeys(result.tools_used)) or "no tools"
    status = "ok"
    if result.failures:
        status = f"{len(result.failures)} failed"
    elif result.cut:
        status = "answer cut short"
    elif result.placeholder:
        status = "no answer"
    return f"Summary: {used} · {result.steps} step(s) · {status}"
