"""Catalogue files, multi-step requests and one-call request embedding, with the real model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from orchestrator.errors import ConfigError
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.catalogue import load_catalogue_file
from orchestrator.routing.router import ToolRouter
from orchestrator.routing.text import plain_request, request_parts
from tests.unit.test_router import CATALOGUE, tool


class CountingEmbedder:
    """Delegates to the real embedder and counts embed calls."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.dim = inner.dim
        self.calls = 0

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return await self.inner.embed(texts)


def test_catalogue_file_maps_servers_to_tool_specs(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    schema = {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]}
    path.write_text(
        json.dumps(
            {
                "time": [{"name": "now", "description": "Current time", "inputSchema": schema}],
                "git": [{"name": "git_log"}],
            }
        )
    )
    specs = load_catalogue_file(path)
    assert [s.key for s in specs] == ["time/now", "git/git_log"]
    assert specs[0].input_schema == schema and specs[0].required_params() == ["tz"]
    assert specs[1].description == "" and specs[1].input_schema == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1]", "tools --json"),
        ('{"s": {}}', "expected a list"),
        ('{"s": [{}]}', "name"),
        # `tools --json` with a server entry missing its tools: refused, not read as tools.
        ('{"servers": [{"name": "time", "state": "up"}]}', "not a tool"),
    ],
)
def test_bad_catalogue_files_name_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_catalogue_file(path)
    assert problem in " ".join(caught.value.problems)


def test_missing_catalogue_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_catalogue_file(tmp_path / "nope.json")


def test_paths_and_urls_read_as_files_and_pages() -> None:
    assert " ".join(plain_request("saved as /root/notes/NCT0428.md.").split()) == (
        "saved as a md file on disk"
    )
    assert " ".join(plain_request("save it to /root/notes/report.md").split()) == (
        "save it to a md file on disk"
    )
    assert "web page at this url www.youtube.com" in plain_request(
        "see https://www.youtube.com/watch?v=x"
    )
    assert request_parts("get the rank, then save it to /root/out/rank.md") == [
        "get the rank",
        "save it to a md file on disk",
    ]


def test_a_person_or_project_to_remember_reads_as_the_knowledge_graph() -> None:
    from orchestrator.routing.text import MEMORY_WORDS, remembers_a_thing

    assert remembers_a_thing("remember that Lena is our contact at Globex")
    assert remembers_a_thing("forget everything about project falcon")
    assert remembers_a_thing("what do you remember about 'the offsite'?")
    assert not remembers_a_thing("remember to check the invoices")  # nothing named
    assert not remembers_a_thing("Lena wants the invoices")  # no memory cue
    assert plain_request("keep in mind that Raj prefers calls").endswith(MEMORY_WORDS)


def test_money_owed_reads_as_receivables_or_payables() -> None:
    assert plain_request("who owes us money").endswith("receivables")
    assert plain_request("how much do we owe Stark").endswith("payables")


async def test_request_and_its_steps_are_embedded_in_one_call(embedder) -> None:  # type: ignore[no-untyped-def]
    counting = CountingEmbedder(embedder)
    router = ToolRouter(counting, top_k=5, threshold=-1.0)
    await router.refresh(CATALOGUE)
    calls = counting.calls
    vector, steps = await router.request_vectors("list unpaid invoices and then tell Discord")
    assert counting.calls == calls + 1
    assert vector.shape == (384,) and steps.shape == (2, 384)


async def test_multi_step_request_gets_a_tool_for_each_step(embedder) -> None:  # type: ignore[no-untyped-def]
    router = ToolRouter(embedder, top_k=5, threshold=0.2)
    await router.refresh(CATALOGUE)
    routed = await router.route_text(
        "check which Xero invoices are overdue, then open a GitHub issue for each"
    )
    keys = [r.tool.key for r in routed]
    assert "xero/list_invoices" in keys
    assert "github/create_issue" in keys


async def test_changed_parameters_re_embed_only_that_tool(embedder) -> None:  # type: ignore[no-untyped-def]
    router = ToolRouter(embedder)
    await router.refresh(CATALOGUE)
    before = router.encoded
    first = CATALOGUE[0]
    changed = tool(first.server, first.name, first.description, zone="IANA zone name")
    await router.refresh([changed, *CATALOGUE[1:]])
    assert router.encoded == before + 1
    await router.refresh([ToolSpec("other", first.name, first.description, first.input_schema)])
    assert router.encoded == before + 2  # same text on another server is another tool
    assert [t.key for t in router.tools] == [f"other/{first.name}"]
