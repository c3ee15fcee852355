"""Files and voice for the fake Bot API (issue 31): messages carrying a document, photo, voice
or audio as Telegram sends them; getFile and the file download path; what sendPhoto and
sendDocument (multipart uploads) check."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.telegram_checks import BadRequest, auto_entities

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram


FILE_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile: "file is too big" past 20 MB
PHOTO_LIMIT = 10 * 1024 * 1024
DOCUMENT_LIMIT = 50 * 1024 * 1024
CAPTION_LIMIT = 1024


def upload_of(value: web.FileField) -> dict[str, Any]:
    data = value.file.read()
    return {"filename": value.filename, "content_type": value.content_type, "data": data}


def media_message(
    fake: FakeTelegram,
    kind: str,
    data: bytes,
    message_id: int,
    *,
    chat_id: int = -100,
    chat_type: str = "supergroup",
    user_id: int = 1,
    caption: str | None = None,
    file_name: str | None = None,
    mime_type: str | None = None,
    file_size: int | None = None,
) -> dict[str, Any]:
    """kind: document | photo | voice | audio | video. `file_size` may claim more than `data`
    holds (a file too large to fetch is announced by its size, never downloaded)."""
    file_id = f"file{len(fake.files) + 1}"
    fake.files[file_id] = data
    size = len(data) if file_size is None else file_size
    base = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size}
    media: Any
    if kind == "photo":
        small = {**base, "file_id": f"{file_id}s", "width": 90, "height": 90}
        fake.files[f"{file_id}s"] = data[:100]
        media = [small, {**base, "width": 800, "height": 600}]
    elif kind == "voice":
        media = {**base, "duration": 3, "mime_type": mime_type or "audio/ogg"}
    elif kind == "video":
        media = {**base, "width": 640, "height": 360, "duration": 5}
    elif kind == "audio":
        media = {**base, "duration": 3, "mime_type": mime_type or "audio/mpeg"}
        if file_name:
            media["file_name"] = file_name
    else:
        media = {**base, "file_name": file_name or "file.txt"}
        if mime_type:
            media["mime_type"] = mime_type
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type, "title": "Team"},
        "from": fake.user(user_id),
        kind: media,
    }
    if caption is not None:
        message["caption"] = caption
        entities = auto_entities(caption)
        if entities:
            message["caption_entities"] = entities
    return message


def get_file(fake: FakeTelegram, params: dict[str, Any]) -> dict[str, Any]:
    file_id = str(params.get("file_id") or "")
    if file_id not in fake.files:
        raise BadRequest("invalid file_id")
    data = fake.files[file_id]
    if len(data) > FILE_DOWNLOAD_LIMIT:
        raise BadRequest("file is too big")
    return {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}",
        "file_size": len(data),
        "file_path": f"documents/{file_id}.bin",
    }


def download(fake: FakeTelegram, request: web.Request) -> web.Response:
    if request.match_info["token"] != fake.token:
        return web.Response(status=401)
    path = request.match_info["path"]
    file_id = path.removeprefix("documents/").removesuffix(".bin")
    if file_id not in fake.files:
        return web.Response(status=404, text="Not Found")
    fake.downloads.append(file_id)
    return web.Response(body=fake.files[file_id], content_type="application/octet-stream")


def check_upload(params: dict[str, Any], field_name: str, limit: int) -> dict[str, Any]:
    """What Telegram checks of a sendPhoto/sendDocument: a chat, the file as a multipart part
    (or a file_id/URL string), its size, the caption's length."""
    if params.get("chat_id") in (None, ""):
        raise BadRequest("chat_id is empty")
    upload = params.get(field_name)
    if upload is None:
        raise BadRequest(f"there is no {field_name} in the request")
    if not isinstance(upload, dict):
        raise BadRequest("wrong remote file identifier specified")  # we only upload bytes
    if not upload["data"]:
        raise BadRequest("file must be non-empty")
    if len(upload["data"]) > limit:
        raise BadRequest(
            "file is too big" if field_name == "document" else "PHOTO_INVALID_DIMENSIONS"
        )
    if len(str(params.get("caption") or "")) > CAPTION_LIMIT:
        raise BadRequest("message caption is too long")
    return upload


def sent_file_doc(field_name: str, upload: dict[str, Any]) -> Any:
    base = {"file_id": f"sent{id(upload)}", "file_unique_id": "s", "file_size": len(upload["data"])}
    if field_name == "photo":
        return [{**base, "width": 100, "height": 100}]
    return {**base, "file_name": upload["filename"], "mime_type": upload["content_type"]}
