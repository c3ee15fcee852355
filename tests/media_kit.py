"""Helpers for the files-and-voice tests (issue 31): a core configured for them, and small
real files (a PDF with a text layer, a PNG)."""

from __future__ import annotations

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from tests.conftest import REPO

FILE_TOOLS = REPO / "tests" / "servers" / "file_tools.py"


def media_orchestrator(
    llm_url: str,
    *,
    images: bool = False,
    transcription_url: str | None = None,
    extra: str = "",
    file_tools: bool = False,
    write_tools: str = "",
) -> Orchestrator:
    """A real core with a fake LLM, no memory; optionally a vision model, a transcription
    endpoint and the file-returning MCP server (`write_tools`: its tools that wait for a
    Run all press, e.g. "[export]")."""
    import sys

    vision = ", accepts_images: true" if images else ""
    yaml = (
        f"orchestrator:\n  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0"
        f"{vision}}}\n  memory_system: {{type: none}}\n  tool_routing: {{strategy: all}}\n"
        "scheduler: {enabled: false}\n"
    )
    if transcription_url:
        yaml += (
            f"transcription: {{base_url: '{transcription_url}', api_key: sk-transcribe, "
            "model: whisper-1}\n"
        )
    if file_tools:
        yaml += (
            f"mcp_servers:\n  files:\n    type: custom\n    command: {sys.executable}\n"
            f"    args: ['{FILE_TOOLS}']\n"
        )
        if write_tools:
            yaml += f"    write_tools: {write_tools}\n"
    return build_orchestrator(parse_config(yaml + extra, env={}))


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines` (what pypdf extracts)."""
    stream = (
        "BT /F1 12 Tf 72 720 Td 14 TL "
        + " ".join(f"({line.replace('(', '[').replace(')', ']')}) '" for line in lines)
        + " ET"
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R"
        " >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out
