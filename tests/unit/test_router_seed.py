"""The seed's five services (config/orchestrator.example.yaml) routed as shipped: the fused
MiniLM + USE-multilingual embedder, the learned adapter and margin, top_k 8, every step's best
tool handed over. Our servers list their tools in process; Xero's are its recorded 51."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from orchestrator.embedding.lazy import LazyEmbedder
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.router import ToolRouter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OURS = {
    "clickup": "clickup_mcp_server",
    "telegram": "telegram_mcp_server",
    "discord": "discord_mcp_server",
    "youtube": "youtube_mcp_server",
}


async def seed_catalogue() -> list[ToolSpec]:
    tools = []
    for server, module in OURS.items():
        listed = (
            await importlib.import_module(f"custom_servers.{module}").create_server().list_tools()
        )
        tools += [ToolSpec(server, t.name, t.description or "", t.input_schema) for t in listed]
    recorded = json.loads((FIXTURES / "xero_tools_list.json").read_text())["tools"]
    tools += [ToolSpec("xero", t["name"], t["description"], t["inputSchema"]) for t in recorded]
    return tools


@pytest.fixture(scope="module")
async def shipped() -> ToolRouter:
    router = ToolRouter(LazyEmbedder(multilingual=True), top_k=8)
    await router.refresh(await seed_catalogue())
    return router


@pytest.mark.parametrize(
    ("request_text", "needed"),
    [
        (
            "check our YouTube channel stats, create a report in ClickUp, and notify the team "
            "on Discord",
            ["clickup/create_task", "discord/send_message"],
        ),
        (
            "pull last month's invoices from xero and post the total to #finance on discord",
            ["discord/send_message"],
        ),
        ("who owes us money", ["xero/list-aged-receivables-by-contact"]),
    ],
)
async def test_seed_requests_hand_over_every_needed_tool(
    shipped: ToolRouter, request_text: str, needed: list[str]
) -> None:
    handed = [r.tool.key for r in await shipped.route_text(request_text)]
    assert len(handed) <= shipped.top_k
    for key in needed:
        assert key in handed, (key, handed)
