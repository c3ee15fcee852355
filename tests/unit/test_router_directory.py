"""Every allowed tool stays within the model's reach: full schemas for the few, a directory of
the rest by server, and a meta-tool that loads any of them by name or finds them by query."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.adapter import Calibration, QueryAdapter
from orchestrator.routing.directory import (
    HEADER,
    ToolGroups,
    build_directory,
    server_summary,
)
from orchestrator.routing.metatool import resolve_names, run_meta_tool, search_tool_schema
from orchestrator.routing.router import ToolRouter
from orchestrator.sessions.model import estimate_tokens
from tests.unit.test_router import CATALOGUE


def spec(server: str, name: str, description: str = "") -> ToolSpec:
    return ToolSpec(server, name, description or f"{name} on {server}")


BIG = [spec("ledger", f"list-thing-{n}") for n in range(60)] + [
    spec("chat", "post_message"),
    spec("chat", "list_channels"),
    spec("clock", "get_current_time"),
]


@pytest.fixture(scope="module")
async def router(embedder) -> ToolRouter:  # type: ignore[no-untyped-def]
    r = ToolRouter(embedder, top_k=5)
    await r.refresh(CATALOGUE, servers={"xero": "Xero MCP Server"})
    return r


def test_directory_from_groups_is_the_directory_from_the_tools() -> None:
    def name_of(tool: ToolSpec) -> str:
        return f"{tool.server}__{tool.name}"

    groups = ToolGroups.of(BIG, name_of)
    for offered in ([], BIG[:2], [BIG[5], BIG[61]], BIG[60:], BIG):
        from_tools = build_directory(BIG, offered, name_of=name_of, budget=120)
        assert build_directory(groups, offered, budget=120) == from_tools
    assert "ledger__list-thing-0" in build_directory(groups, BIG[60:]).text
    assert "ledger__list-thing-5," not in build_directory(groups, [BIG[5]]).text


def test_directory_names_every_tool_not_sent_in_full_grouped_by_server() -> None:
    offered = BIG[:2]
    directory = build_directory(BIG, offered)
    assert directory.text.startswith(HEADER)
    lines = directory.text.splitlines()[1:]
    assert [line.split(" ", 2)[1] for line in lines] == ["ledger", "chat", "clock"]
    for tool in BIG[2:]:
        assert tool.name in directory.text
    assert "list-thing-0," not in directory.text and "list-thing-1," not in directory.text
    assert directory.named == len(BIG) - 2 and directory.tokens == pytest.approx(
        estimate_tokens(directory.text), abs=len(lines) + 2
    )


def test_a_server_that_describes_itself_gets_its_own_line_else_its_common_words() -> None:
    assert server_summary("chat", BIG[60:62], "Team chat: post and read channels") == (
        "Team chat: post and read channels"
    )
    assert server_summary("ledger", BIG[:60]) == "list, thing"


def test_over_budget_the_servers_ranked_last_shrink_to_a_count_but_stay_listed() -> None:
    full = build_directory(BIG)
    small = build_directory(BIG, budget=full.tokens // 3, order=["chat", "clock", "ledger"])
    assert small.tokens <= full.tokens // 3
    assert "- ledger" in small.text and "60 tools" in small.text
    assert "post_message" in small.text and "get_current_time" in small.text
    assert build_directory(BIG, BIG).text == ""


def test_load_by_exact_name_key_or_model_name_respects_the_allow_list() -> None:
    safe = {t.key: f"{t.server}__{t.name}" for t in BIG}
    found, unknown = resolve_names(
        BIG,
        ["post_message", "clock/get_current_time", "ledger__list-thing-7", "nope"],
        allowed=lambda t: t.server != "chat",
        name_of=lambda t: safe[t.key],
    )
    assert [t.key for t in found] == ["clock/get_current_time", "ledger/list-thing-7"]
    assert unknown == ["post_message", "nope"]


async def test_meta_tool_loads_by_name_and_searches_in_one_call(router: ToolRouter) -> None:
    props = search_tool_schema()["function"]["parameters"]["properties"]
    assert {"names", "query"} <= set(props)
    result = await run_meta_tool(
        router, {"names": ["create_contact"], "query": "what time is it in Lisbon"}
    )
    keys = [t.key for t in result.tools]
    assert keys[0] == "xero/create_contact" and "time/get_current_time" in keys
    assert "now available" in result.text
    missing = await run_meta_tool(router, {"names": ["no_such_tool"]})
    assert missing.tools == [] and "no_such_tool" in missing.text
    assert "error" in (await run_meta_tool(router, {})).text


async def test_routing_result_offers_the_directory_of_the_rest(router: ToolRouter) -> None:
    routed = await router.route_text("what time is it in Lisbon?")
    directory = routed.directory(router.tools)
    sent = {r.tool.key for r in routed}
    for tool in router.tools:
        assert (tool.key in sent) != (
            f" {tool.name}" in directory.text or f", {tool.name}" in directory.text
        )
    assert "(Xero MCP Server)" in directory.text
    described = search_tool_schema(directory.text)["function"]["description"]
    assert described.endswith(directory.text)


async def test_margin_decides_how_many_schemas_never_which_tools_exist(embedder) -> None:  # type: ignore[no-untyped-def]
    tight = ToolRouter(embedder, top_k=10, calibration=Calibration(margin=0.0))
    wide = ToolRouter(embedder, top_k=10, calibration=Calibration(margin=float("inf")))
    for r in (tight, wide):
        await r.refresh(CATALOGUE)
    query = "add a ClickUp task"
    assert len(await tight.route_text(query)) == 3
    assert len(await wide.route_text(query)) == 10
    vector, _ = await tight.request_vectors(query)
    assert len(tight.ranking(query, vector, limit=10)) == 10


async def test_adapter_maps_the_message_vector_only(embedder) -> None:  # type: ignore[no-untyped-def]
    plain = ToolRouter(embedder, adapter=QueryAdapter())
    await plain.refresh(CATALOGUE)
    swap = np.eye(384, dtype=np.float32)[::-1]
    mapped = ToolRouter(embedder, adapter=QueryAdapter(swap))
    await mapped.refresh(CATALOGUE)
    assert plain.encoded == mapped.encoded == len(CATALOGUE)
    vector, _ = await plain.request_vectors("which invoices are unpaid?")
    assert not np.allclose(plain.scores("x", vector)[0], mapped.scores("x", vector)[0])


def test_a_server_line_comes_from_what_initialize_said() -> None:
    from orchestrator.routing.directory import server_line

    assert server_line("mcp-xero", "Xero MCP Server", None) == "Xero MCP Server"
    assert server_line("everything", None, "# Everything Server\nAudience: ...") == (
        "everything. Everything Server"
    )
    assert server_line() == ""


def test_chat_shorthand_is_spelled_out_for_the_lexical_match_but_not_split() -> None:
    from orchestrator.routing.text import plain_request, request_parts

    assert " ".join(plain_request("any PRs on the repo pls?").split()) == (
        "any pull requests on the repository ?"
    )
    assert request_parts("pull the P&L and save it") == [
        "pull the profit and loss",  # "&" is no step boundary; "p&l" spelled out (dev split)
        "save it",
    ]
    assert request_parts("pull the P&L and post it to #finance") == [
        "pull the profit and loss",
        "post it to #finance channel",  # '#finance' is a channel ...
        "post a message to the chat channel",  # ... and sending there is a step of its own
    ]
    assert "prefix" in plain_request("the prefix stays")
