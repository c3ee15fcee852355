"""Files and voice on Discord (issue 31), at the wire: attachments in through discord.py's own
state and CDN download, a tool's files out as multipart uploads to the fake Discord REST API."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from bots.discord.resume import message_payload
from orchestrator.delivery.base import InboundRequest
from orchestrator.delivery.redis_store import RedisDeliveryStore
from orchestrator.messages import ChatMessage
from tests.discord_wire import ANN, DM_CHANNEL, REPORTS, DiscordWire, discord_wire
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.transcription_api import FakeTranscription
from tests.media_kit import media_orchestrator
from tests.servers.file_tools import CSV, tiny_png


def said(wire: DiscordWire, part: str) -> list[dict[str, Any]]:
    return [m for m in wire.sent() if part in m["content"]]


async def test_a_csv_attachment_is_read_into_the_request_and_a_huge_one_refused_unread() -> None:
    with FakeOpenAI(default=text("Two tasks are open.")) as llm:
        orchestrator = media_orchestrator(llm.base_url)
        await orchestrator.start()
        try:
            async with discord_wire(orchestrator) as wire:
                tasks = wire.api.attachment(DM_CHANNEL, "tasks.csv", CSV, "text/csv")
                wire.message("how many open?", channel=DM_CHANNEL, attachments=[tasks])
                await wire.until(lambda: bool(said(wire, "Two tasks are open")))
                huge = wire.api.attachment(DM_CHANNEL, "dump.json", b"{}", "application/json")
                huge["size"] = 30_000_000
                wire.message("", channel=DM_CHANNEL, attachments=[huge])
                await wire.until(lambda: bool(said(wire, "too large for me to read")))
        finally:
            await orchestrator.stop()
    content = llm.requests[0]["body"]["messages"][-1]["content"]
    assert '<attached_file name="tasks.csv">' in content and "ship release,bob" in content
    assert wire.api.downloads == [tasks["id"]] and len(llm.requests) == 1


async def test_a_voice_message_replayed_by_the_gateway_is_transcribed_and_answered_once() -> None:
    voice = b"OggS\x00discord-voice"
    with FakeOpenAI(default=text("Deploy is at 3pm.")) as llm:
        async with FakeTranscription() as stt:
            stt.transcripts[voice] = "when is the deploy"
            orchestrator = media_orchestrator(llm.base_url, transcription_url=stt.base_url)
            await orchestrator.start()
            try:
                async with discord_wire(orchestrator) as wire:
                    note = wire.api.attachment(DM_CHANNEL, "voice-message.ogg", voice, "audio/ogg")
                    asked = wire.message("", channel=DM_CHANNEL, attachments=[note])
                    await wire.until(lambda: bool(said(wire, "Deploy is at 3pm")))
                    wire.dispatch_message(asked)  # the gateway replays the same MESSAGE_CREATE
                    wire.message("thanks", channel=DM_CHANNEL)  # answered after the replay
                    await wire.until(lambda: len(llm.requests) == 2)
                    await wire.until(lambda: len(said(wire, "Deploy is at 3pm")) == 2)
            finally:
                await orchestrator.stop()
    assert len(stt.requests) == 1 and stt.requests[0].filename == "voice-message.ogg"
    assert len(said(wire, "🎤 “when is the deploy”")) == 1
    assert "when is the deploy" in llm.requests[0]["body"]["messages"][-1]["content"]


async def test_typing_shows_in_the_thread_while_a_voice_message_is_transcribed() -> None:
    voice = b"OggS\x00thread-voice"
    with FakeOpenAI(default=text("Retro is on Friday.")) as llm:
        async with FakeTranscription() as stt:
            stt.hold()  # the transcription is slow: it answers when released
            orchestrator = media_orchestrator(llm.base_url, transcription_url=stt.base_url)
            await orchestrator.start()
            try:
                async with discord_wire(orchestrator) as wire:
                    thread = wire.thread_create(REPORTS, "retro")
                    note = wire.api.attachment(thread, "voice-message.ogg", voice, "audio/ogg")
                    wire.message("", channel=thread, mention=True, attachments=[note])
                    typing = f"/channels/{thread}/typing"
                    await wire.until(lambda: len(stt.requests) == 1)
                    await wire.until(lambda: any(c.path.endswith(typing) for c in wire.api.calls))
                    assert llm.requests == []  # typing while transcribing, before the model
                    stt.release()
                    await wire.until(lambda: bool(said(wire, "Retro is on Friday")))
            finally:
                await orchestrator.stop()
    assert [m["channel_id"] for m in said(wire, "Retro is on Friday")] == [thread]
    assert wire.sent(REPORTS) == []


async def test_a_tool_image_and_file_are_posted_as_attachments() -> None:
    script = [tool_call("files__chart", {}), tool_call("files__export", {}), text("Done.")]
    with FakeOpenAI(script=script) as llm:
        orchestrator = media_orchestrator(llm.base_url, file_tools=True)
        await orchestrator.start()
        try:
            async with discord_wire(orchestrator) as wire:
                wire.message("chart and export", channel=DM_CHANNEL)
                await wire.until(lambda: sum(len(m["attachments"]) for m in wire.sent()) == 2)
                await wire.until(lambda: bool(said(wire, "Summary")))
        finally:
            await orchestrator.stop()
    files = [a for m in wire.sent() for a in m["attachments"]]
    assert [a["filename"] for a in files] == ["image-1.png", "tasks.csv"]
    assert wire.api.files[files[0]["id"]] == tiny_png()
    assert wire.api.files[files[1]["id"]] == CSV
    assert not wire.refusals()


async def test_a_tool_image_and_file_asked_in_a_thread_are_attached_in_the_thread() -> None:
    script = [tool_call("files__chart", {}), tool_call("files__export", {}), text("Done.")]
    with FakeOpenAI(script=script) as llm:
        orchestrator = media_orchestrator(llm.base_url, file_tools=True)
        await orchestrator.start()
        try:
            async with discord_wire(orchestrator) as wire:
                thread = wire.thread_create(REPORTS, "charts")
                wire.message("chart and export", channel=thread, mention=True)
                await wire.until(lambda: bool(said(wire, "Summary")))
        finally:
            await orchestrator.stop()
    files = [(m["channel_id"], a["filename"]) for m in wire.sent() for a in m["attachments"]]
    assert files == [(thread, "image-1.png"), (thread, "tasks.csv")]
    assert wire.sent(REPORTS) == [] and not wire.refusals()


async def test_a_voice_message_cut_off_by_a_crash_is_transcribed_and_answered_on_restart(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    """What a dead process leaves: the voice message claimed and recorded, nothing computed.
    The next start fetches the message again, transcribes it once and answers it once."""
    voice = b"OggS\x00left-behind"
    extra = (
        f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{key_prefix}'}}\n"
        "delivery: {lease_seconds: 0.3}\n"
    )
    with FakeOpenAI(default=text("Lunch is at noon.")) as llm:
        async with FakeTranscription() as stt:
            stt.transcripts[voice] = "when is lunch"
            orchestrator = media_orchestrator(
                llm.base_url, transcription_url=stt.base_url, extra=extra
            )
            await orchestrator.start()
            try:
                async with discord_wire(orchestrator) as wire:
                    note = wire.api.attachment(DM_CHANNEL, "voice-message.ogg", voice, "audio/ogg")
                    asked = wire.api.user_message(DM_CHANNEL, ANN, "", attachments=[note])
                    await leave_behind(redis_url, key_prefix, asked)
                    wire.bot.dispatch("ready")  # the adapter starts and resumes what was left
                    await wire.until(lambda: bool(said(wire, "Lunch is at noon")))
                    await wire.until(lambda: not wire.bot.inflight._held)
                    assert await wire.bot.inflight.recover(wire.bot.resume) == 0
            finally:
                await orchestrator.stop()
    assert len(stt.requests) == 1 and len(llm.requests) == 1
    assert len(said(wire, "🎤 “when is lunch”")) == 1
    answer = said(wire, "🎤")[0]
    assert answer["message_reference"]["message_id"] == asked["id"]


async def leave_behind(redis_url: str, prefix: str, asked: dict[str, Any]) -> None:
    store = RedisDeliveryStore(
        aioredis.Redis.from_url(redis_url), f"{prefix}:orchestrator", lease_seconds=0.3
    )
    message = ChatMessage("discord", DM_CHANNEL, ANN["id"], "", "Ann", asked["id"])
    key = f"discord:message:{asked['id']}"
    assert await store.claim(key)
    payload = message_payload(int(DM_CHANNEL), message, files=True)
    await store.open(InboundRequest(key, "discord", payload), "discord-dead")
    await store.close()


async def test_an_answer_longer_than_the_set_parts_is_attached_as_one_markdown_file() -> None:
    answer = "Short intro.\n\n" + "\n\n".join(
        f"## Part {i}\n" + "words " * 300 + "end." for i in range(8)
    )
    with FakeOpenAI(default=text(answer)) as llm:
        orchestrator = media_orchestrator(
            llm.base_url, extra="files: {answer_as_file_after_parts: 2}\n"
        )
        await orchestrator.start()
        try:
            async with discord_wire(orchestrator) as wire:
                wire.message("write the long report", channel=DM_CHANNEL)
                await wire.until(lambda: bool(said(wire, "Summary")))
        finally:
            await orchestrator.stop()
    (file,) = [a for m in wire.sent() for a in m["attachments"]]
    assert file["filename"] == "answer.md" and wire.api.files[file["id"]] == answer.encode()
    assert len(wire.sent()) == 3  # the short text, the file, the summary


async def test_an_image_attachment_goes_to_a_vision_model_and_a_zip_gets_a_clear_reply() -> None:
    with FakeOpenAI(default=text("A red square.")) as llm:
        orchestrator = media_orchestrator(llm.base_url, images=True)
        await orchestrator.start()
        try:
            async with discord_wire(orchestrator) as wire:
                photo = wire.api.attachment(DM_CHANNEL, "chart.png", tiny_png(), "image/png")
                wire.message("what is this?", channel=DM_CHANNEL, attachments=[photo])
                await wire.until(lambda: bool(said(wire, "A red square")))
                archive = wire.api.attachment(
                    DM_CHANNEL, "logs.zip", b"PK\x03\x04", "application/zip"
                )
                wire.message("", channel=DM_CHANNEL, attachments=[archive])
                await wire.until(lambda: bool(said(wire, "I can't read logs.zip")))
        finally:
            await orchestrator.stop()
    parts = llm.requests[0]["body"]["messages"][-1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert len(llm.requests) == 1 and archive["id"] not in wire.api.downloads


async def test_a_slash_run_and_an_approved_press_attach_the_tools_files() -> None:
    """Interaction answers carry a tool's files too (follow-up uploads), not only messages:
    `/run files chart` answers with the image; Run all on a plan whose write tool exports a CSV
    answers with the CSV."""
    script = [tool_call("files__export", {}), text("Exported.")]
    with FakeOpenAI(script=script) as llm:
        orchestrator = media_orchestrator(llm.base_url, file_tools=True, write_tools="[export]")
        await orchestrator.start()
        try:
            async with discord_wire(orchestrator) as wire:
                ran = wire.slash("run", {"server": "files", "tool": "chart"})
                await wire.until(lambda: any(m["attachments"] for m in ran.answers()))
                wire.message("export the tasks", mention=True)
                await wire.until(lambda: any(m["components"] for m in wire.sent()))
                question = next(m for m in wire.sent() if m["components"])
                pressed = wire.press(question, "Run all", user=ANN)
                await wire.until(
                    lambda: bool([m for m in pressed.answers() if "Summary" in m["content"]])
                )
        finally:
            await orchestrator.stop()
    chart = [a["filename"] for m in ran.answers() for a in m["attachments"]]
    assert (
        chart == ["image-1.png"]
        and wire.api.files[ran.answers()[-1]["attachments"][0]["id"]] == tiny_png()
    )
    exported = [a for m in pressed.answers() for a in m["attachments"]]
    assert [a["filename"] for a in exported] == ["tasks.csv"]
    assert wire.api.files[exported[0]["id"]] == CSV
    assert not wire.refusals()
