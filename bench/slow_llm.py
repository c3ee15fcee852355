"""An OpenAI-compatible server whose every answer takes a fixed time: the LLM (and its tools)
of the scale benchmark, in its own process. Prints its base URL, then serves until killed.

aiohttp rather than the tests' threaded fake: a listen backlog of 5 and a thread per request
would make the fake LLM, not the workers, the thing measured.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from tests.fakes.openai_server import completion, text


async def serve(delay: float) -> None:
    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(delay)
        return web.json_response(completion(text("Done: the numbers are in."), body["model"]))

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1]) if len(sys.argv) > 1 else 0.2))
