"""Files and voice (issue 31) below the adapters: document reading, the prompt block, tool
files, their JSON round trip, and the transcription config."""

from __future__ import annotations

import base64

import mcp_types as types
import pytest

from orchestrator.config import parse_config
from orchestrator.media.codec import (
    attachments_from_data,
    attachments_to_data,
    files_from_data,
    files_to_data,
)
from orchestrator.media.documents import read_document
from orchestrator.media.errors import FileRefused, TranscriptionFailed
from orchestrator.media.files_out import block_file
from orchestrator.media.prompt import documents_block, user_content
from orchestrator.media.transcribe import audio_name
from orchestrator.messages import Attachment, ChatMessage, OutFile
from tests.media_kit import text_pdf


def test_text_csv_json_and_pdf_are_read_and_others_refused_with_the_reason() -> None:
    assert read_document("a.csv", "", b"a,b\n1,2\n", 1000) == "a,b\n1,2\n"
    assert read_document("a.json", "", b'{"k": 1}', 1000) == '{"k": 1}'
    assert "Churn 3" in read_document("r.pdf", "", text_pdf(["Churn 3"]), 10_000)
    with pytest.raises(FileRefused, match="damaged"):
        read_document("r.pdf", "application/pdf", b"%PDF-1.4 not really", 1000)
    with pytest.raises(FileRefused, match="not UTF-8"):
        read_document("a.txt", "", b"\xff\xfe\x00bad", 1000)
    with pytest.raises(FileRefused, match="too large"):
        read_document("a.txt", "", b"x" * 2000, 1000)
    with pytest.raises(FileRefused, match="I read text"):
        read_document("a.zip", "application/zip", b"PK", 1000)


def test_a_long_document_is_cut_to_its_budget_and_the_model_told() -> None:
    doc = Attachment("document", "log.txt", text="\n".join(f"line {i}" for i in range(5000)))
    block = documents_block([doc], budget=200)
    assert "line 0" in block and "line 4999" not in block
    assert "[file cut to fit: you see the first" in block
    assert len(block) < 200 * 4 + 400


def test_images_are_parts_only_for_a_model_that_accepts_them() -> None:
    photo = Attachment("image", "p.png", "image/png", data=b"\x89PNG")
    message = ChatMessage("telegram", "1", "2", "", attachments=(photo,))
    parts = user_content(message, "Ann: ", budget=1000, see_images=True)
    assert (
        parts[1]["image_url"]["url"]
        == "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    )
    plain = user_content(message, "Ann: ", budget=1000, see_images=False)
    assert isinstance(plain, str) and "cannot see images" in plain


def test_tool_image_and_embedded_resources_become_files() -> None:
    image = types.ImageContent(
        type="image", data=base64.b64encode(b"img").decode(), mime_type="image/png"
    )
    blob = types.EmbeddedResource(
        type="resource",
        resource=types.BlobResourceContents(
            uri="file:///x/report.pdf",
            mime_type="application/pdf",
            blob=base64.b64encode(b"%PDF").decode(),
        ),
    )
    text = types.EmbeddedResource(
        type="resource",
        resource=types.TextResourceContents(
            uri="mem://notes", mime_type="text/markdown", text="# hi"
        ),
    )
    assert block_file(image, 1) == OutFile("image-1.png", "image/png", b"img")
    assert block_file(blob, 2) == OutFile("report.pdf", "application/pdf", b"%PDF")
    assert block_file(text, 3) == OutFile("notes.md", "text/markdown", b"# hi")
    assert block_file(types.TextContent(type="text", text="hi"), 4) is None
    bad = types.ImageContent(type="image", data="not base64!", mime_type="image/png")
    assert block_file(bad, 5) is None


def test_files_and_attachments_survive_the_json_round_trip() -> None:
    files = (OutFile("a.png", "image/png", b"\x00\x01"),)
    assert files_from_data(files_to_data(files)) == files
    attachments = (Attachment("document", "a.md", "text/markdown", "# x"),)
    assert attachments_from_data(attachments_to_data(attachments)) == attachments


def test_audio_names_get_an_extension_the_endpoint_knows() -> None:
    assert audio_name("voice", "audio/ogg") == "voice.ogg"
    assert audio_name("memo.M4A", "") == "memo.m4a"
    with pytest.raises(TranscriptionFailed, match="can't transcribe"):
        audio_name("memo.aiff", "audio/x-aiff")


def test_the_transcription_key_is_a_secret() -> None:
    config = parse_config(
        "transcription: {base_url: 'http://127.0.0.1:9/v1', api_key: sk-voice-123, model: m}\n",
        env={},
    )
    assert config.transcription is not None and "sk-voice-123" in config.secrets
