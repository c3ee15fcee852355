"""Whether the core will refuse a button press's presser, asked before it runs.

The adapters remove a question's buttons once a permitted person pressed one (the chat then
shows the question is settled). They know the asker of the buttons they posted themselves, but
not after a restart, nor on a front end whose worker posted them; and an admin may approve a
plan but not answer a tool server's question. So they ask here: the waiting approval (in the
session store, shared by every process) or question names who may answer. A question waits in
the process running its tool (a worker in distributed mode), so when it is not in this one,
the record of its asker that the session store keeps for every process answers instead.
"""

from __future__ import annotations

import re

from orchestrator.commands.registry import split_command
from orchestrator.config import Config
from orchestrator.mcp.questions import Questions
from orchestrator.messages import ChatMessage
from orchestrator.policy import is_admin
from orchestrator.sessions.base import SessionStore

APPROVALS = {"confirm", "cancel"}
# A question id as `Questions` makes them; anything else (a ':' above all) is never looked up.
QUESTION_ID = re.compile(r"[0-9a-f]{1,32}")


async def refuses_press(
    config: Config, sessions: SessionStore, questions: Questions | None, message: ChatMessage
) -> bool:
    """True when answering `message` (a button's command) would refuse its sender: an approval
    waiting for another person (and the sender no admin), or a question asked of another. False
    when the core lets them answer or cannot tell (expired, elsewhere, another command)."""
    parsed = split_command(message.text)
    if parsed is None:
        return False
    name, rest = parsed
    target = rest.split(maxsplit=1)[0] if rest else ""
    if name in APPROVALS and target:
        session = await sessions.load(message.conversation_key)
        pending = session.pending.get(target)
        if pending is None or pending.user_id == message.user_id:
            return False
        return not (is_admin(config, message) and message.from_person)
    if name == "answer" and target:
        if questions is not None and questions.knows(target):
            return questions.refuses(message, target)
        return await _asked_elsewhere(sessions, message, target)
    return False


async def _asked_elsewhere(sessions: SessionStore, message: ChatMessage, qid: str) -> bool:
    """A question waiting in another process: refused unless the presser is the one asked in
    this chat (an admin no more than anyone: as `Questions.refuses`). No record (answered,
    expired, another chat's, the store down): cannot tell."""
    if not QUESTION_ID.fullmatch(qid):
        return False
    asker = await sessions.question_asker(message.chat_key, qid)
    return asker is not None and asker != message.user_id
