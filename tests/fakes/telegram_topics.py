"""Forum topics for the fake Bot API (f31a), as Telegram documents and answers them.

A forum is a supergroup with `is_forum`; its topics have a `message_thread_id`. A message sent in
a topic carries `message_thread_id` and `is_topic_message: true`; General (thread 1) and plain
groups carry neither. sendMessage, sendChatAction, sendPhoto and sendDocument with a
`message_thread_id` answer 400 when the id is not an integer, the chat is no forum or has no
such topic ("message thread not found", also after the topic is deleted), and when the topic is
closed ("TOPIC_CLOSED").
"""

from __future__ import annotations

from typing import Any

GENERAL = 1  # the General topic's id; messages in it carry no message_thread_id


class ForumTopics:
    def __init__(self) -> None:
        self.topics: dict[tuple[int, int], str] = {}  # (chat, thread) -> "open" | "closed"

    def add(self, chat_id: int, thread_id: int, *, closed: bool = False) -> None:
        self.topics[(chat_id, thread_id)] = "closed" if closed else "open"

    def close(self, chat_id: int, thread_id: int) -> None:
        self.topics[(chat_id, thread_id)] = "closed"

    def delete(self, chat_id: int, thread_id: int) -> None:
        self.topics.pop((chat_id, thread_id), None)

    def is_forum(self, chat_id: int) -> bool:
        return any(chat == chat_id for chat, _ in self.topics)

    def mark(self, message: dict[str, Any], thread_id: Any) -> None:
        """Shape a message as Telegram does for one sent in topic `thread_id` (None: General)."""
        chat_id = int(message["chat"]["id"])
        if self.is_forum(chat_id):
            message["chat"]["is_forum"] = True
        if thread_id is not None and int(thread_id) != GENERAL:
            message["message_thread_id"] = int(thread_id)
            message["is_topic_message"] = True

    def check(self, params: dict[str, Any]) -> str | None:
        """Telegram's 400 description for a bad `message_thread_id`, or None."""
        raw = params.get("message_thread_id")
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            return "invalid message thread identifier specified"
        state = self.topics.get((int(params.get("chat_id") or 0), raw))
        if state is None:
            return "message thread not found"
        if state == "closed":
            return "TOPIC_CLOSED"
        return None
