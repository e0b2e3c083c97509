"""The sandbox's OAuth2 token endpoint, `POST /oauth2/token/`: the client credentials grant as
Sendcloud's account service answers it (RFC 6749: form-encoded request, `{"error": ...}` refusals,
not JSON:API). The client id and secret it accepts are the sandbox's key pair; the Bearer tokens
it issues are then good for the API until they expire or a test expires them."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from statusync.sandbox.api import Reply, SandboxApi, credential_list, json_reply, matching
from statusync.sandbox.store import SandboxStore
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.ratelimit import Clock

TOKEN_PATH = "/oauth2/token"
SCOPES = ("api",)  # the one scope Sendcloud knows

_FORM = "application/x-www-form-urlencoded"
# RFC 6749 section 5.1: token answers must not be cached.
_NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
_CLIENT_CHALLENGE = (("WWW-Authenticate", 'Basic realm="oauth2"'),)


class TokenEndpoint:
    """Issues access tokens to the client that authenticates with the sandbox's key pair."""

    def __init__(
        self,
        api: SandboxApi,
        store: SandboxStore,
        credentials: Credentials | Sequence[Credentials],
        lifetime: int,
        clock: Clock,
    ) -> None:
        self._api = api  # for what every request goes through: latency, faults, the log
        self._store = store
        self._credentials = credential_list(credentials)
        self._lifetime = lifetime
        self._clock = clock

    def handle(
        self, method: str, path: str, authorization: str | None, content_type: str | None, body: bytes
    ) -> Reply | None:
        return self._api.serve(
            method,
            path,
            TOKEN_PATH,
            None,
            None,
            lambda: self._answer(method, authorization, content_type, body),
        )

    def _answer(self, method: str, authorization: str | None, content_type: str | None, body: bytes) -> Reply:
        if method != "POST":
            return _error(
                405, "invalid_request", f"The token endpoint does not accept {method}.", (("Allow", "POST"),)
            )
        scheme, _, token = (authorization or "").strip().partition(" ")
        client = matching(token, self._credentials) if scheme.lower() == "basic" else None
        if client is None:
            return _error(
                401,
                "invalid_client",
                "Client authentication failed (unknown client, "
                "no client authentication included, or unsupported authentication "
                "method).",
                _CLIENT_CHALLENGE,
            )
        if (content_type or "").split(";")[0].strip().lower() != _FORM:
            return _error(400, "invalid_request", f"The request body must be {_FORM}.")
        try:
            form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            return _error(400, "invalid_request", "The request body is not UTF-8.")
        if form.get("grant_type") != "client_credentials":
            return _error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported: use client_credentials.",
            )
        unknown = [s for s in form.get("scope", "").split() if s not in SCOPES]
        if unknown:
            return _error(400, "invalid_scope", f"The requested scope is invalid: {unknown[0]!r}.")
        token = self._store.issue_token(self._lifetime, self._clock())
        self._store.issued_to(token, client.public_key)
        return json_reply(
            200,
            {
                "access_token": token,
                "expires_in": self._lifetime,
                "scope": " ".join(SCOPES),
                "token_type": "bearer",
            },
            _NO_STORE,
        )


def _error(status: int, error: str, description: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    body: dict[str, Any] = {"error": error, "error_description": description}
    return json_reply(status, body, headers + _NO_STORE)
