"""The fake Integrations API v3 itself: routing, auth, rate limits, validation and answers, as the
real API gives them, independent of the HTTP server that carries them."""

from __future__ import annotations

import base64
import hmac
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from statusync.sandbox.faults import FaultRule
from statusync.sandbox.limits import CredentialLimit, RateLimits
from statusync.sandbox.payloads import (
    MappingUpsert,
    RequestRejected,
    StatusesUpsert,
    error_object,
    not_found,
    parse_body,
    rejection,
)
from statusync.sandbox.store import PRESTASHOP_V2, LoggedRequest, SandboxStore, StoredIntegration
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.languages import LANGUAGES
from statusync.sendcloud.ratelimit import Clock, Sleep

API_PREFIX = "/api/v3"
Query = dict[str, str]
# Called with each request's method and path (the token endpoint's too) before it is answered,
# after it was counted against its limit: tests hold the requests they choose with it.
OnRequest = Callable[[str, str], None]


@dataclass(frozen=True)
class SandboxOptions:
    latency: float = 0.0  # seconds added to every API request
    post_per_minute: int | None = None  # POST/PUT/PATCH/DELETE limit of each credential; None: unlimited
    get_per_minute: int | None = None
    per_credential: tuple[CredentialLimit, ...] = ()  # credentials with limits of their own
    faults: tuple[FaultRule, ...] = ()  # rules active from the start
    token_lifetime: int = 3600  # seconds an OAuth2 access token lasts (expires_in), as Sendcloud's
    oauth2_only: bool = False  # refuse Basic auth, as an integration set to "Use OAuth2" does


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json.dumps(data).encode(), headers)


def error_reply(rejected: RequestRejected) -> Reply:
    return json_reply(rejected.status, rejected.body, rejected.headers)


# The challenge an HTTP 401 carries, naming the scheme the API expects.
_CHALLENGE = (("WWW-Authenticate", 'Basic realm="api"'),)
_BEARER_CHALLENGE = (("WWW-Authenticate", 'Bearer realm="api", error="invalid_token"'),)
_ID_TITLE = "integration ID"


class SandboxApi:
    """Answers API requests (paths under /api/v3) from a store, checking them like Sendcloud."""

    def __init__(
        self,
        store: SandboxStore,
        credentials: Credentials | Sequence[Credentials],
        options: SandboxOptions,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        on_request: OnRequest | None = None,
    ) -> None:
        self.store = store
        self._credentials = credential_list(credentials)
        self._latency = options.latency
        self._oauth2_only = options.oauth2_only
        self._clock = clock
        self._sleep = sleep
        self._on_request = on_request
        self._limits = RateLimits(
            options.post_per_minute, options.get_per_minute, options.per_credential, clock
        )

    def handle(
        self,
        method: str,
        target: str,
        authorization: str | None,
        body: bytes,
        *,
        partner_id: str | None = None,
    ) -> Reply | None:
        """The reply to one request, or None to drop the connection without one (a fault)."""
        parts = urllib.parse.urlsplit(target)
        endpoint = parts.path[len(API_PREFIX) :].rstrip("/") or "/"
        query: Query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        integration_id = _integration_id_of(endpoint, query, body)
        # Counted against the rate limit as it arrives, as Sendcloud counts it, and answered after
        # the latency: a limit counted after the latency's sleep would see requests that arrived
        # evenly bunched together by how much that sleep overshoots on a busy machine.
        try:
            admitted: Callable[[Query, bytes], Reply] | RequestRejected = self._admit(
                method, endpoint, authorization
            )
        except RequestRejected as exc:
            admitted = exc

        def answer() -> Reply:
            if isinstance(admitted, RequestRejected):
                raise admitted
            return admitted(query, body)

        return self.serve(method, parts.path, endpoint, integration_id, partner_id, answer)

    def serve(
        self,
        method: str,
        path: str,
        endpoint: str,
        integration_id: int | None,
        partner_id: str | None,
        answer: Callable[[], Reply],
    ) -> Reply | None:
        """`answer()` as the sandbox serves every request (the token endpoint's too): after the
        latency, unless a fault rule takes the request, and logged."""
        if self._on_request is not None:
            self._on_request(method, path)
        if self._latency > 0:
            self._sleep(self._latency)
        fault = self.store.take_fault(method, endpoint, integration_id)
        if fault is not None:
            reply = None if fault.drop else error_reply(fault.error())
        else:
            try:
                reply = answer()
            except RequestRejected as exc:
                reply = error_reply(exc)
        self.store.log_request(
            LoggedRequest(method, path, integration_id, None if reply is None else reply.status, partner_id)
        )
        return reply

    def _admit(
        self, method: str, endpoint: str, authorization: str | None
    ) -> Callable[[Query, bytes], Reply]:
        """The handler of a request that may go on: routed, authenticated and within its limit."""
        handler = self._route(method, endpoint)
        self._limits.throttle(self._authenticate(authorization), method)
        return handler

    def _route(self, method: str, endpoint: str) -> Callable[[Query, bytes], Reply]:
        routes: dict[str, dict[str, Callable[[Query, bytes], Reply]]] = {
            "/integrations": {"GET": self._list_integrations},
            "/shop-order-statuses": {"GET": self._get_statuses, "POST": self._post_statuses},
            "/shop-order-statuses/mapping": {"GET": self._get_mapping, "POST": self._post_mapping},
        }
        if match := re.fullmatch(r"/integrations/([0-9]+)", endpoint):
            integration_id = int(match[1])
            routes[endpoint] = {"GET": lambda query, body: self._get_integration(integration_id)}
        if endpoint not in routes:
            raise not_found("Not found.")
        if method not in routes[endpoint]:
            # RFC 9110: a 405 names the methods the endpoint does take.
            raise rejection(
                405,
                "invalid",
                f'Method "{method}" not allowed.',
                headers=(("Allow", ", ".join(sorted(routes[endpoint]))),),
            )
        return routes[endpoint][method]

    def _authenticate(self, authorization: str | None) -> str:
        """Who sent the request (the public key or OAuth2 client id: its limits apply), or a 401."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            if not self.store.token_valid(token.strip(), self._clock()):
                raise rejection(
                    401,
                    "authentication_failed",
                    "The access token is invalid or has expired.",
                    "Invalid token",
                    headers=_BEARER_CHALLENGE,
                )
            return self.store.token_client(token.strip())
        if scheme.lower() != "basic" or not token.strip():
            raise rejection(
                401,
                "authentication_failed",
                "Authentication credentials were not provided.",
                "No credentials",
                headers=_CHALLENGE,
            )
        if self._oauth2_only:
            raise rejection(
                401,
                "authentication_failed",
                "This integration accepts OAuth2 access tokens only (Bearer).",
                "OAuth2 required",
                headers=_BEARER_CHALLENGE,
            )
        matched = matching(token, self._credentials)
        if matched is None:
            raise rejection(
                401,
                "authentication_failed",
                "The username or password provided is incorrect. Please make a "
                "request with the valid credentials.",
                "Invalid username/password.",
                headers=_CHALLENGE,
            )
        return matched.public_key

    # Endpoints ----------------------------------------------------------------------------------

    def _list_integrations(self, query: Query, body: bytes) -> Reply:
        return json_reply(200, {"data": [i.api_json() for i in self.store.integrations()]})

    def _get_integration(self, integration_id: int) -> Reply:
        integration = self.store.integration(integration_id)
        if integration is None:
            raise not_found()
        return json_reply(200, {"data": integration.api_json()})

    def _get_statuses(self, query: Query, body: bytes) -> Reply:
        integration_id = _required_id(query)
        show_deleted = _boolean_param(query, "show_deleted")
        language = query.get("language")
        if language is not None and language not in LANGUAGES:
            raise rejection(
                400, "invalid_choice", f"language must be one of {', '.join(LANGUAGES)}", "language"
            )
        integration = self._prestashop_integration(integration_id)
        return json_reply(200, {"data": integration.statuses_json(show_deleted, language)})

    def _post_statuses(self, query: Query, body: bytes) -> Reply:
        payload = parse_body(body, StatusesUpsert)
        self._prestashop_integration(payload.integration_id)
        self.store.replace_statuses(
            payload.integration_id,
            {s.external_id: tuple((t.language, t.status) for t in s.translations) for s in payload.statuses},
        )
        return json_reply(200, None)

    def _get_mapping(self, query: Query, body: bytes) -> Reply:
        integration = self._prestashop_integration(_required_id(query))
        return json_reply(200, {"data": integration.mapping_json()})

    def _post_mapping(self, query: Query, body: bytes) -> Reply:
        payload = parse_body(body, MappingUpsert)
        self._prestashop_integration(payload.integration_id)
        unknown = self.store.upsert_mapping(payload.integration_id, payload.as_dict())
        if unknown:
            raise RequestRejected(
                400,
                [
                    error_object(
                        400,
                        "invalid",
                        "Invalid external_id",
                        f"{entry.status_category.value}: external_id {entry.external_id!r} "
                        f"is not an available shop order status of integration "
                        f"{payload.integration_id} (unknown or deleted)",
                        f"/mapping/{index}/external_id",
                    )
                    for index, entry in enumerate(payload.mapping)
                    if entry.external_id in unknown
                ],
            )
        return json_reply(200, None)

    def _prestashop_integration(self, integration_id: int) -> StoredIntegration:
        """The integration, if it exists and is one whose statuses the API serves."""
        integration = self.store.integration(integration_id)
        if integration is None:
            raise not_found()
        if integration.type != PRESTASHOP_V2:
            raise rejection(
                400,
                "invalid",
                f"Integration {integration_id} is of type {integration.type!r}; shop "
                "order statuses are only supported for PrestaShop V2 integrations",
                "Unsupported integration",
            )
        return integration


def basic_matches(token: str, credentials: Credentials) -> bool:
    """Whether the base64 `token` of an HTTP Basic header is `credentials` (as a key pair or as
    OAuth2 client credentials)."""
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
        public, colon, secret = decoded.partition(":")
    except ValueError:  # bad base64 or not UTF-8: as wrong as a wrong key
        public, colon, secret = "", "", ""
    # Compare both keys in constant time, and never echo what was sent.
    right = hmac.compare_digest(public.encode(), credentials.public_key.encode()) & hmac.compare_digest(
        secret.encode(), credentials.secret_key.encode()
    )
    return bool(colon) and right


def credential_list(credentials: Credentials | Sequence[Credentials]) -> tuple[Credentials, ...]:
    """The credentials the sandbox accepts: one key pair, or several (one per account)."""
    return (credentials,) if isinstance(credentials, Credentials) else tuple(credentials)


def matching(token: str, credentials: Sequence[Credentials]) -> Credentials | None:
    """The credentials among `credentials` that the base64 `token` of an HTTP Basic header is,
    if any; every one is compared, so the time taken says nothing of which came close."""
    found = None
    for candidate in credentials:
        if basic_matches(token, candidate) and found is None:
            found = candidate
    return found


def _required_id(query: Query) -> int:
    raw = query.get("integration_id", "")
    if not raw:
        raise rejection(400, "non_field_errors", "Integration ID is a required GET parameter", _ID_TITLE)
    if not re.fullmatch(r"-?[0-9]{1,18}", raw):
        raise rejection(400, "invalid", f"Integration ID must be an integer, got {raw[:40]!r}", _ID_TITLE)
    return int(raw)


def _boolean_param(query: Query, name: str) -> bool:
    raw = query.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise rejection(400, "invalid", f"{name} must be a boolean (true or false)", name)
    return raw in ("true", "1")


def _integration_id_of(endpoint: str, query: Query, body: bytes) -> int | None:
    """The integration a request is about (for the log and fault rules), wherever it says so."""
    if match := re.fullmatch(r"/integrations/([0-9]{1,18})", endpoint):
        return int(match[1])
    if re.fullmatch(r"-?[0-9]{1,18}", query.get("integration_id", "")):
        return int(query["integration_id"])
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None
    value = data.get("integration_id") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
