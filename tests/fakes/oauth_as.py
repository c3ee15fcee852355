"""A small OAuth 2.1 authorization server for tests, at the wire (Starlette, served by uvicorn).

RFC 8414 metadata, dynamic client registration (RFC 7591), /authorize that auto-approves the
user the browser is signed in as (cookie `as_user`) and redirects with code + state, /token with
PKCE (S256) verified, single-use codes and rotating refresh tokens, and revocation (RFC 7009).
`verifier` is the MCP server's `TokenVerifier` over the tokens issued here.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from mcp.server.auth.provider import AccessToken
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Issued:
    subject: str
    client_id: str
    scopes: list[str]
    expires_at: float | None = None


@dataclass
class FakeAuthServer:
    base_url: str = ""  # set once served
    lifetime: int = 3600  # expires_in of access tokens
    down: bool = False  # every endpoint answers 503
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access: dict[str, Issued] = field(default_factory=dict)
    refresh: dict[str, Issued] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)  # grant types seen at /token, in order
    problems: list[str] = field(default_factory=list)  # requests refused, and why

    # -- test helpers ------------------------------------------------------------------------
    def revoke_subject(self, subject: str) -> None:
        for table in (self.access, self.refresh):
            for token in [t for t, i in table.items() if i.subject == subject]:
                del table[token]

    def all_tokens(self) -> list[str]:
        return [*self.access, *self.refresh]

    # -- the verifier the MCP server uses ----------------------------------------------------
    @property
    def verifier(self) -> FakeAuthServer:
        return self

    async def verify_token(self, token: str) -> AccessToken | None:
        issued = self.access.get(token)
        if issued is None:
            return None
        if issued.expires_at is not None and issued.expires_at < time.time():
            return None
        return AccessToken(
            token=token,
            client_id=issued.client_id,
            scopes=issued.scopes,
            subject=issued.subject,
            expires_at=int(issued.expires_at) if issued.expires_at else None,
        )

    # -- the app -----------------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", self._metadata),
                Route("/register", self._register, methods=["POST"]),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
                Route("/revoke", self._revoke, methods=["POST"]),
            ]
        )

    def _refuse(self, why: str, status: int = 400, error: str = "invalid_request") -> Response:
        self.problems.append(why)
        return JSONResponse({"error": error, "error_description": why}, status)

    async def _metadata(self, request: Request) -> Response:
        if self.down:
            return Response("down", 503)
        base = self.base_url
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "registration_endpoint": f"{base}/register",
                "revocation_endpoint": f"{base}/revoke",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
            }
        )

    async def _register(self, request: Request) -> Response:
        if self.down:
            return Response("down", 503)
        body = await request.json()
        uris = body.get("redirect_uris") or []
        if not uris:
            return self._refuse("registration without redirect_uris", error="invalid_redirect_uri")
        client_id = "client-" + secrets.token_hex(4)
        record = {
            "client_id": client_id,
            "redirect_uris": uris,
            "token_endpoint_auth_method": "none",
            "grant_types": body.get("grant_types") or ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_id_issued_at": int(time.time()),
        }
        self.clients[client_id] = record
        return JSONResponse(record, 201)

    async def _authorize(self, request: Request) -> Response:
        if self.down:
            return Response("down", 503)
        q = request.query_params
        client = self.clients.get(q.get("client_id", ""))
        if client is None:
            return self._refuse("unknown client_id")
        if q.get("redirect_uri") not in client["redirect_uris"]:
            return self._refuse("redirect_uri not registered")
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return self._refuse("response_type code with S256 PKCE required")
        if not q.get("code_challenge") or not q.get("state"):
            return self._refuse("code_challenge and state required")
        user = request.cookies.get("as_user")
        if not user:
            return self._refuse("nobody is signed in at the authorization server", 401)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "client_id": client["client_id"],
            "redirect_uri": q["redirect_uri"],
            "challenge": q["code_challenge"],
            "subject": user,
            "scopes": (q.get("scope") or "").split(),
        }
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(target, 302)

    async def _token(self, request: Request) -> Response:
        if self.down:
            return Response("down", 503)
        form = await request.form()
        grant = str(form.get("grant_type", ""))
        self.grants.append(grant)
        if grant == "authorization_code":
            code = self.codes.pop(str(form.get("code", "")), None)
            if code is None:
                return self._refuse("unknown or used code", error="invalid_grant")
            if form.get("client_id") != code["client_id"]:
                return self._refuse("code of another client", error="invalid_grant")
            if form.get("redirect_uri") != code["redirect_uri"]:
                return self._refuse("redirect_uri differs", error="invalid_grant")
            verifier = str(form.get("code_verifier", ""))
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).decode().rstrip("=") != code["challenge"]:
                return self._refuse("PKCE verifier does not match", error="invalid_grant")
            return self._issue(code["subject"], code["client_id"], code["scopes"])
        if grant == "refresh_token":
            issued = self.refresh.pop(str(form.get("refresh_token", "")), None)
            if issued is None or form.get("client_id") != issued.client_id:
                return self._refuse("unknown refresh token", error="invalid_grant")
            return self._issue(issued.subject, issued.client_id, issued.scopes)
        return self._refuse(f"grant {grant!r}", error="unsupported_grant_type")

    def _issue(self, subject: str, client_id: str, scopes: list[str]) -> Response:
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        self.access[access] = Issued(subject, client_id, scopes, time.time() + self.lifetime)
        self.refresh[refresh] = Issued(subject, client_id, scopes)
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh,
        }
        if scopes:
            body["scope"] = " ".join(scopes)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def _revoke(self, request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token", ""))
        self.access.pop(token, None)
        self.refresh.pop(token, None)
        return Response(status_code=200)
