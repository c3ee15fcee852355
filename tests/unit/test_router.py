"""The router over a small team catalogue, with the real MiniLM model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.cli import main
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.adapter import Calibration
from orchestrator.routing.base import PastUse
from orchestrator.routing.metatool import SEARCH_TOOL_NAME, run_search, search_tool_schema
from orchestrator.routing.router import ToolRouter
from orchestrator.routing.text import request_parts


def tool(server: str, tool_name: str, description: str, **params: str) -> ToolSpec:
    schema = {
        "type": "object",
        "properties": {k: {"type": "string", "description": v} for k, v in params.items()},
        "required": list(params),
    }
    return ToolSpec(server, tool_name, description, schema)


WHOLE = Calibration(margin=float("inf"))  # every tool up to top_k: the ranking itself

CATALOGUE = [
    tool("time", "get_current_time", "Get current time in a specific timezone", timezone="IANA"),
    tool(
        "time",
        "convert_time",
        "Convert a time between two timezones",
        source_timezone="from",
        time="HH:MM",
        target_timezone="to",
    ),
    tool(
        "clickup",
        "create_task",
        "Create a new task in a ClickUp list",
        list_id="list",
        name="title",
    ),
    tool(
        "clickup",
        "update_task_status",
        "Update the status of a task",
        task_id="id",
        status="new status",
    ),
    tool("clickup", "list_tasks", "List the open tasks of a ClickUp list", list_id="list"),
    tool(
        "xero",
        "list_invoices",
        "List invoices, filter by status such as unpaid or overdue",
        status="status",
    ),
    tool("xero", "create_contact", "Create a customer contact in Xero", name="contact name"),
    tool("xero", "list_payments", "List payments received from customers"),
    tool(
        "youtube",
        "get_channel_stats",
        "Get subscriber count and views of a YouTube channel",
        channel_id="channel",
    ),
    tool("youtube", "search_videos", "Search YouTube videos by keyword", query="keywords"),
    tool(
        "github",
        "create_issue",
        "Open an issue in a GitHub repository",
        repo="owner/name",
        title="issue title",
    ),
    tool(
        "github", "list_pull_requests", "List open pull requests of a repository", repo="owner/name"
    ),
    tool(
        "telegram",
        "send_message",
        "Send a message to a Telegram chat",
        chat_id="chat",
        text="message",
    ),
    tool(
        "discord",
        "post_message",
        "Post a message to a Discord channel",
        channel="channel",
        content="text",
    ),
    tool("files", "read_file", "Read a text file from the shared drive", path="file path"),
]

REQUESTS = {
    "what time is it in Sydney right now?": "time/get_current_time",
    "add a ClickUp task to call the plumber": "clickup/create_task",
    "which invoices are still unpaid?": "xero/list_invoices",
    "how many subscribers does our YouTube channel have": "youtube/get_channel_stats",
    "open a GitHub issue about the login bug": "github/create_issue",
    "mark task 86a1 as done": "clickup/update_task_status",
    "tell the Discord channel that the release is out": "discord/post_message",
    "what PRs are waiting for review?": "github/list_pull_requests",
}


@pytest.fixture(scope="module")
async def router(embedder) -> ToolRouter:  # type: ignore[no-untyped-def]
    r = ToolRouter(embedder, top_k=5, threshold=0.2)
    await r.refresh(CATALOGUE)
    return r


@pytest.mark.parametrize("request_text", sorted(REQUESTS))
async def test_hand_written_request_finds_its_tool_in_top_3(
    router: ToolRouter, request_text: str
) -> None:
    routed = await router.route_text(request_text)
    assert REQUESTS[request_text] in [r.tool.key for r in routed[:3]]


async def test_refresh_embeds_only_new_or_changed_tools(embedder) -> None:  # type: ignore[no-untyped-def]
    r = ToolRouter(embedder)
    await r.refresh(CATALOGUE)
    assert r.encoded == len(CATALOGUE)
    await r.refresh(CATALOGUE)
    assert r.encoded == len(CATALOGUE)
    changed = ToolSpec("files", "read_file", "Read a PDF or text file", CATALOGUE[-1].input_schema)
    await r.refresh([*CATALOGUE[:-1], changed, tool("files", "write_file", "Write a file")])
    assert r.encoded == len(CATALOGUE) + 2
    assert len(r.tools) == len(CATALOGUE) + 1


async def test_tools_a_chat_may_not_use_never_appear(router: ToolRouter) -> None:
    routed = await router.route_text(
        "add a ClickUp task", top_k=10, allowed=lambda t: t.server != "clickup"
    )
    assert routed and all(r.tool.server != "clickup" for r in routed)


async def test_legacy_threshold_drops_weak_schemas_but_keeps_a_few(embedder) -> None:  # type: ignore[no-untyped-def]
    strict = ToolRouter(embedder, top_k=10, threshold=0.99, calibration=WHOLE)
    await strict.refresh(CATALOGUE)
    assert len(await strict.route_text("add a ClickUp task")) == 3
    loose = ToolRouter(embedder, top_k=10, threshold=-1.0, calibration=WHOLE)
    await loose.refresh(CATALOGUE)
    assert len(await loose.route_text("add a ClickUp task")) == 10


async def test_earlier_successful_requests_lift_the_tools_they_used(embedder) -> None:  # type: ignore[no-untyped-def]
    r = ToolRouter(embedder, top_k=15, calibration=WHOLE)
    await r.refresh(CATALOGUE)
    query = "post the news"
    plain = [x.tool.key for x in await r.route_text(query)]
    close = [PastUse("telegram/send_message", 0.8)]
    lifted = [x.tool.key for x in await r.route_text(query, past=close)]
    assert plain.index("telegram/send_message") > 0
    assert lifted.index("telegram/send_message") < plain.index("telegram/send_message")
    # A dissimilar earlier request, or a tool no longer in the catalogue, moves nothing.
    far = [PastUse("telegram/send_message", -0.2), PastUse("gone/tool", 0.9)]
    assert [x.tool.key for x in await r.route_text(query, past=far)] == plain


async def test_meta_tool_finds_tools_beyond_the_first_routing(router: ToolRouter) -> None:
    assert search_tool_schema()["function"]["name"] == SEARCH_TOOL_NAME
    found = await run_search(router, "read a file from the shared drive", 2, None)
    assert found[0].tool.key == "files/read_file"
    assert len(found) == 2


def test_multi_step_requests_split_into_steps() -> None:
    parts = request_parts(
        "check the unpaid invoices in Xero, create a ClickUp task for each "
        "and then tell the team on Telegram"
    )
    assert len(parts) == 3
    assert request_parts("what time is it") == []


def test_route_cli_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str], embedder) -> None:  # type: ignore[no-untyped-def]
    catalogue = {t.server: [] for t in CATALOGUE}
    for t in CATALOGUE:
        catalogue[t.server].append(
            {"name": t.name, "description": t.description, "inputSchema": t.input_schema}
        )
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(catalogue))
    assert (
        main(
            [
                "route",
                "--catalogue",
                str(path),
                "--top-k",
                "2",
                "--json",
                "which invoices are unpaid",
                "open a github issue",
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == ["which invoices are unpaid", "open a github issue"]
    assert all(len(line["tools"]) == 2 for line in lines)
    assert set(lines[0]["tools"][0]) == {"server", "tool", "score"}
    assert all(line["directory_tokens"] > 0 for line in lines)
    assert lines[1]["tools"][0] == {
        **lines[1]["tools"][0],
        "server": "github",
        "tool": "create_issue",
    }


def test_route_cli_bad_catalogue_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]")
    assert main(["route", "--catalogue", str(path), "x"]) == 2


async def test_large_catalogues_rank_centred_but_keep_plain_cosine_as_confidence(embedder) -> None:  # type: ignore[no-untyped-def]
    copies = [ToolSpec(f"{t.server}2", t.name, t.description, t.input_schema) for t in CATALOGUE]
    big = ToolRouter(embedder, top_k=5, calibration=WHOLE)
    await big.refresh(CATALOGUE + copies)
    small = ToolRouter(embedder, top_k=5, calibration=WHOLE)
    await small.refresh(CATALOGUE)
    vector, _ = await big.request_vectors("which invoices are still unpaid?")
    ranked, plain = big.index.similarity(vector)
    assert not np.allclose(ranked[0], plain[0])
    assert np.allclose(plain[0], vector @ big.index.vectors.T, atol=1e-5)
    assert np.allclose(*small.index.similarity(vector))
    for request_text, key in REQUESTS.items():
        top = [r.tool.key for r in await big.route_text(request_text)][:4]
        assert key in top or key.replace("/", "2/", 1) in top, request_text


async def test_a_tool_similar_requests_used_passes_the_confidence_threshold(embedder) -> None:  # type: ignore[no-untyped-def]
    strict = ToolRouter(embedder, top_k=10, threshold=0.99, calibration=WHOLE)
    await strict.refresh(CATALOGUE)
    query = "add a ClickUp task"
    cold = [r.tool.key for r in await strict.route_text(query)]
    used = next(t.key for t in CATALOGUE if t.key not in cold)
    warm = [r.tool.key for r in await strict.route_text(query, past=[PastUse(used, 0.995)])]
    weak = [r.tool.key for r in await strict.route_text(query, past=[PastUse(used, 0.5)])]
    assert len(cold) == 3 and used in warm and len(warm) == 4
    assert len(weak) == 3  # a vote from a less similar request does not lift the threshold
