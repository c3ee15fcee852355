"""A fake OpenAI-compatible transcription endpoint: `POST /v1/audio/transcriptions`.

It checks the request as OpenAI documents it: `Authorization: Bearer <key>`, a
multipart/form-data body with a `file` part (a file name whose extension is one of flac, mp3,
mp4, mpeg, mpga, m4a, ogg, oga, opus, wav, webm) and a `model` field, and optional `language`,
`prompt`, `response_format` (json, text, srt, verbose_json, vtt) and `temperature`. A bad
request answers 400 with OpenAI's error shape. `transcripts` maps audio bytes to their words;
`down = True` answers 503 (a server that is up but failing); every request is recorded; after
`hold()` a valid request is recorded, then waits for `release()` before it is answered (a slow
transcription, for what the bot shows meanwhile).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

EXTENSIONS = {"flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "oga", "opus", "wav", "webm"}
FORMATS = {"json", "text", "srt", "verbose_json", "vtt"}


@dataclass
class Transcription:
    filename: str
    content_type: str
    data: bytes
    fields: dict[str, str] = field(default_factory=dict)


class FakeTranscription:
    def __init__(self, api_key: str = "sk-transcribe") -> None:
        self.api_key = api_key
        self.transcripts: dict[bytes, str] = {}
        self.default = "hello from a voice note"
        self.requests: list[Transcription] = []
        self.down = False
        self._gate: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    def hold(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeTranscription:
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _transcribe(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        if self.down:
            return _error(503, "The server is overloaded or not ready yet.", "server_error")
        if request.content_type != "multipart/form-data":
            return _error(400, "Content-Type must be multipart/form-data.")
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _error(400, "you must provide a file", param="file")
        fields = {k: str(v) for k, v in form.items() if not isinstance(v, web.FileField)}
        if not fields.get("model"):
            return _error(400, "you must provide a model parameter", param="model")
        extension = upload.filename.rpartition(".")[2].lower() if "." in upload.filename else ""
        if extension not in EXTENSIONS:
            supported = ", ".join(f"'{e}'" for e in sorted(EXTENSIONS))
            return _error(400, f"Invalid file format. Supported formats: [{supported}]")
        response_format = fields.get("response_format", "json")
        if response_format not in FORMATS:
            return _error(400, f"Invalid response_format: {response_format}")
        data = upload.file.read()
        self.requests.append(Transcription(upload.filename, upload.content_type, data, fields))
        if self._gate is not None:
            await self._gate.wait()
        words = self.transcripts.get(data, self.default)
        if response_format == "text":
            return web.Response(text=words)
        return web.json_response({"text": words})


def _error(status: int, message: str, code: str | None = None, param: str | None = None) -> Any:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return web.json_response({"error": error}, status=status)
