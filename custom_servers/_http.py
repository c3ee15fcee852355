"""One HTTP call to a service's REST API, with its failures turned into clear tool errors.

Why one module: every server must say the same thing for 401, 403, 404, 429 and timeouts, honour
Retry-After once, and never let a token (in a header, a URL or a query string) reach an error text
or a log line. Servers describe their service once (`Service`) and call `request`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from mcp.server.mcpserver.exceptions import ToolError

log = logging.getLogger("custom_servers.http")

MAX_DETAIL = 300


class ApiError(ToolError):
    """A call the service refused or never answered; the text is safe to show to anyone."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Service:
    """What a server knows about its API: where it is, how to authenticate, what to hide."""

    name: str
    base_url: str
    credential_env: str
    credential: str = "token"
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    timeout: float = 20.0
    max_retry_wait: float = 30.0

    def scrub(self, text: str) -> str:
        """The text with every secret of this service masked."""
        for secret in self.secrets:
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text


async def request(
    service: Service,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    json: Any = None,
) -> Any:
    """The decoded JSON answer; `path` is relative to the base URL or an absolute URL."""
    query: list[tuple[str, Any]] = list(service.params.items())
    if params:
        query += list(params.items()) if isinstance(params, Mapping) else list(params)
    shown = service.scrub(path)
    async with httpx.AsyncClient(
        base_url=service.base_url, headers=dict(service.headers), timeout=service.timeout
    ) as client:
        for attempt in (1, 2):
            started = time.monotonic()
            try:
                response = await client.request(method, path, params=query or None, json=json)
            except httpx.TimeoutException:
                log.warning(
                    "http_timeout service=%s method=%s path=%s", service.name, method, shown
                )
                raise ApiError(_timeout_text(service, method)) from None
            except httpx.HTTPError as exc:
                log.warning(
                    "http_unreachable service=%s method=%s path=%s error=%s",
                    service.name,
                    method,
                    shown,
                    type(exc).__name__,
                )
                raise ApiError(
                    f"{service.name} could not be reached ({type(exc).__name__})"
                ) from None
            log.info(
                "http_call service=%s method=%s path=%s status=%d ms=%d attempt=%d",
                service.name,
                method,
                shown,
                response.status_code,
                (time.monotonic() - started) * 1000,
                attempt,
            )
            if response.status_code == 429 and attempt == 1:
                wait = retry_after(response)
                if wait <= service.max_retry_wait:
                    await asyncio.sleep(wait)
                    continue
            if response.status_code >= 400:
                raise error_for(service, response, retried=attempt > 1)
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise ApiError(f"{service.name} answered with something that is not JSON") from None
    raise AssertionError("unreachable")  # pragma: no cover


def retry_after(response: httpx.Response) -> float:
    """Seconds the service asked us to wait: Retry-After, a rate-limit reset header, or
    retry_after in the JSON body (Discord, Telegram's `parameters`); one second when none says."""
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    reset_after = response.headers.get("X-RateLimit-Reset-After")  # Discord: seconds
    reset_at = response.headers.get("X-RateLimit-Reset")  # ClickUp: epoch seconds
    try:
        if reset_after:
            return max(0.0, float(reset_after))
        if reset_at and float(reset_at) > 1e9:
            return max(0.0, float(reset_at) - time.time())
    except ValueError:
        pass
    body = _json(response)
    for holder in (body, body.get("parameters") if isinstance(body, dict) else None):
        if isinstance(holder, dict) and isinstance(holder.get("retry_after"), int | float):
            return max(0.0, float(holder["retry_after"]))
    return 1.0


def error_for(service: Service, response: httpx.Response, *, retried: bool = False) -> ApiError:
    """A clear, secret-free error for a 4xx/5xx answer."""
    status = response.status_code
    reason, detail = _detail(response)
    detail = service.scrub(detail)[:MAX_DETAIL]
    suffix = f": {detail}" if detail else ""
    name = service.name
    if status == 401:
        text = (
            f"the {name} {service.credential} was rejected (HTTP 401); "
            f"check {service.credential_env}"
        )
    elif status == 403:
        text = f"{name} refused access (HTTP 403){suffix}"
    elif status == 404:
        text = f"{name} found no such item (HTTP 404){suffix}"
    elif status == 429:
        again = "still limited after one retry, " if retried else ""
        text = (
            f"{name} rate limit reached (HTTP 429); {again}try again in {retry_after(response):g}s"
        )
    elif status >= 500:
        text = f"{name} had a server error (HTTP {status}); try again later"
    else:
        text = f"{name} rejected the request (HTTP {status}){suffix}"
    return ApiError(text, status=status, reason=reason)


def _timeout_text(service: Service, method: str) -> str:
    text = f"{service.name} did not answer within {service.timeout:g}s"
    if method.upper() != "GET":
        text += "; the change may or may not have been made, check before retrying"
    return text


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(response: httpx.Response) -> tuple[str, str]:
    """(machine reason, human message) from the error bodies these services send."""
    body = _json(response)
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):  # Google: {"error": {"message", "errors": [{"reason"}]}}
        errors = error.get("errors") or [{}]
        return str(errors[0].get("reason", "")), str(error.get("message", ""))
    for key in ("description", "message", "err"):  # Telegram, Discord, ClickUp
        if body.get(key):
            reason = body.get("ECODE") or body.get("code") or body.get("error_code") or ""
            return str(reason), str(body[key])
    return "", str(error or "")


def env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive float from the environment, or the default when unset or not a number."""
    try:
        value = float(environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default
