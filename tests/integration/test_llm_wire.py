"""The LLM seam on the wire: the real openai client against the scripted fake server, in each
shape real servers answer (streamed or not, tool-call deltas, legacy function_call, cut answers,
silence, errors)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from orchestrator.config import LLMSettings
from orchestrator.errors import LLMError
from orchestrator.llm.openai_client import OpenAICompatibleLLM
from tests.fakes.openai_server import FakeOpenAI, error, legacy_call, text, tool_call

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "time__get_current_time",
            "description": "now",
            "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}},
        },
    }
]
ASK = [{"role": "user", "content": "hi"}]


def llm(url: str, **settings: Any) -> OpenAICompatibleLLM:
    values: dict[str, Any] = {"base_url": url, "api_key": "k", "max_retries": 0, **settings}
    return OpenAICompatibleLLM(LLMSettings(**values))


@pytest.mark.parametrize("stream", [True, False])
async def test_tools_go_with_tool_choice_auto_and_max_tokens_always(stream: bool) -> None:
    with FakeOpenAI([text("a"), text("b")]) as fake:
        client = llm(fake.base_url, stream=stream, max_tokens=77)
        await client.complete(ASK, TOOLS)
        await client.complete(ASK, [])
        await client.close()
    with_tools, without = fake.requests[0]["body"], fake.requests[1]["body"]
    assert with_tools["tool_choice"] == "auto" and with_tools["tools"] == TOOLS
    assert "tool_choice" not in without and "tools" not in without
    assert with_tools["max_tokens"] == 77 == without["max_tokens"]
    assert bool(with_tools.get("stream")) is stream


@pytest.mark.parametrize("stream", [True, False])
async def test_tool_calls_arrive_whole_from_deltas_or_a_message(stream: bool) -> None:
    long_id = "call_" + "x" * 300
    args = {"timezone": "Europe/London", "note": "a" * 200}
    with FakeOpenAI([tool_call("time__get_current_time", args, long_id)]) as fake:
        client = llm(fake.base_url, stream=stream)
        turn = await client.complete(ASK, TOOLS)
        await client.close()
    assert turn.content in (None, "")
    [call] = turn.tool_calls
    assert (call.id, call.name, call.arguments, call.malformed) == (
        long_id,
        "time__get_current_time",
        args,
        False,
    )


@pytest.mark.parametrize("stream", [True, False])
async def test_a_legacy_function_call_becomes_a_tool_call(stream: bool) -> None:
    with FakeOpenAI([legacy_call("time__get_current_time", {"timezone": "UTC"})]) as fake:
        client = llm(fake.base_url, stream=stream)
        turn = await client.complete(ASK, TOOLS)
        await client.close()
    [call] = turn.tool_calls
    assert call.name == "time__get_current_time" and call.arguments == {"timezone": "UTC"}
    assert call.id  # made up, so the tool message can answer it


@pytest.mark.parametrize("stream", [True, False])
async def test_finish_reason_length_marks_the_turn_cut(stream: bool) -> None:
    with FakeOpenAI([{"content": "The first half of a long", "finish_reason": "length"}]) as fake:
        client = llm(fake.base_url, stream=stream)
        turn = await client.complete(ASK, [])
        await client.close()
    assert turn.cut and turn.content == "The first half of a long"


async def test_a_silent_server_times_out_once_and_is_not_asked_again() -> None:
    with FakeOpenAI([{"content": "late", "delay": 2.0}]) as fake:
        client = llm(fake.base_url, stream=False, timeout_seconds=0.4, max_retries=2)
        with pytest.raises(LLMError, match="went silent for 0.4 s") as caught:
            await client.complete(ASK, [])
        await client.close()
    assert len(fake.requests) == 1  # the generation is not sent again
    assert "did not resend" in str(caught.value)


async def test_a_slow_but_streaming_server_is_not_cut_off() -> None:
    answer = "word " * 12  # 12 chunks, a pause before each: longer than the timeout in total
    with FakeOpenAI([{"content": answer, "chunk_delay": 0.15}]) as fake:
        client = llm(fake.base_url, timeout_seconds=0.6)
        turn = await client.complete(ASK, [])
        await client.close()
    assert turn.content == answer and len(fake.requests) == 1


async def test_503_and_429_are_retried_then_the_answer_comes() -> None:
    script = [error(503, "busy"), error(429, "slow down", retry_after=0), text("ok")]
    with FakeOpenAI(script) as fake:
        client = llm(fake.base_url, max_retries=2)
        turn = await client.complete(ASK, [])
        await client.close()
    assert turn.content == "ok" and len(fake.requests) == 3


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (401, "Incorrect API key provided", "rejected the API key"),
        (404, "The model `nope` does not exist", "does not know the model 'gpt-4o-mini'"),
        (400, "tools are not supported by this model", "refused the tools"),
        (500, "internal", "failed (HTTP 500)"),
    ],
)
async def test_errors_say_what_happened_and_the_fix(
    status: int, message: str, expected: str
) -> None:
    with FakeOpenAI([error(status, message)]) as fake:
        client = llm(fake.base_url)
        with pytest.raises(LLMError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            await client.complete(ASK, TOOLS)
        await client.close()


async def test_an_unreachable_server_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = llm(f"http://127.0.0.1:{port}/v1", max_retries=1)
    with pytest.raises(
        LLMError, match=f"cannot connect to the language model server at http://127.0.0.1:{port}"
    ):
        await client.complete(ASK, [])
    await client.close()


async def test_a_server_that_cannot_stream_tools_is_asked_unstreamed_from_then_on() -> None:
    script = [{"broken_stream": True}, tool_call("time__get_current_time", {}), text("t")]
    with FakeOpenAI(script) as fake:
        client = llm(fake.base_url)
        turn = await client.complete(ASK, TOOLS)
        await client.complete(ASK, TOOLS)
        await client.close()
    assert turn.tool_calls[0].name == "time__get_current_time"
    assert [bool(r["body"].get("stream")) for r in fake.requests] == [True, False, False]


async def test_a_stream_cut_midway_is_an_error_not_an_answer() -> None:
    with FakeOpenAI([{"broken_stream": True}]) as fake:
        client = llm(fake.base_url)
        with pytest.raises(LLMError, match="ended its answer midway"):
            await client.complete(ASK, [])
        await client.close()
    assert len(fake.requests) == 1


@pytest.mark.parametrize("tools", [TOOLS, []])
async def test_a_plain_json_answer_to_a_streamed_request_is_read_as_one_completion(
    tools: list[dict[str, Any]],
) -> None:
    plain_text = {"content": "All invoices are paid.", "plain_json": True}
    plain_call = {**tool_call("time__get_current_time", {"timezone": "UTC"}), "plain_json": True}
    with FakeOpenAI([plain_call if tools else plain_text]) as fake:
        client = llm(fake.base_url)
        turn = await client.complete(ASK, tools)
        await client.close()
    if tools:
        assert [(c.name, c.arguments) for c in turn.tool_calls] == [
            ("time__get_current_time", {"timezone": "UTC"})
        ]
    else:
        assert turn.content == "All invoices are paid." and not turn.tool_calls
    assert turn.usage["completion_tokens"] == 5
    assert [bool(r["body"].get("stream")) for r in fake.requests] == [True]  # asked once


async def test_the_fake_model_refuses_a_request_past_its_script_and_an_unoffered_tool() -> None:
    """The strict fake: both mistakes answer HTTP 418 and fail the test on leaving `with`."""
    fake = FakeOpenAI([tool_call("clickup__create_task", {})])
    with pytest.raises(AssertionError, match="script violated") as failed, fake:  # noqa: PT012
        client = llm(fake.base_url)
        with pytest.raises(LLMError, match="HTTP 418"):
            await client.complete(ASK, TOOLS)  # create_task is not offered
        with pytest.raises(LLMError, match="HTTP 418"):
            await client.complete(ASK, [])  # past the end of the script
        await client.close()
    assert "clickup__create_task, which the request did not offer" in str(failed.value)
    assert "past the end of the script" in str(failed.value)
