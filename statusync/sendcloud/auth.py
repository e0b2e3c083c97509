"""How requests prove who sent them: an API key pair (HTTP Basic) or OAuth2 client credentials (a
Bearer token from the token endpoint), as httpx auth flows. Each also lists every spelling of the
secrets it sends, so that the client can keep them out of what it prints."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from statusync.errors import StatusyncError, TokenRequestFailed
from statusync.http.excerpt import DETAIL_CHARS, body_excerpt
from statusync.sendcloud.credentials import DEFAULT_TOKEN_URL, ClientCredentials, Credentials
from statusync.sendcloud.urls import url_problem
from statusync.text import cut, printable

__all__ = ["ApiAuth", "ClientCredentialsAuth", "KeyPairAuth"]

# Sendcloud's tokens last an hour (expires_in: 3600). One is renewed this long before it runs out,
# so that no request leaves with a token that lapses on its way (or while it waits for a retry).
RENEW_BEFORE = 60.0
# How long a token is trusted when the endpoint does not say (expires_in is only RECOMMENDED by
# RFC 6749): Sendcloud's documented hour; a 401 renews it early should that be wrong.
DEFAULT_LIFETIME = 3600.0
# The scope Sendcloud's documentation asks for with the client credentials grant.
SCOPE = "api"
# A value shorter than this is no real secret (Sendcloud's keys are 32 characters and more), and
# replacing it would only garble ordinary words of a message.
MIN_REDACTED = 8

Flow = Generator[httpx.Request, httpx.Response, None]


class ApiAuth(httpx.Auth):
    """An httpx auth flow that knows what its secrets look like on the wire."""

    what = "API credentials"  # what to check when the API rejects them

    def secrets(self) -> tuple[str, ...]:
        """Every spelling of the secrets sent so far, longest first (a key inside a longer token
        must not leave part of the token behind when it is replaced)."""
        raise NotImplementedError

    def is_own_request(self, request: httpx.Request) -> bool:
        """Whether the flow itself sent `request` (a token request), not the client."""
        return False


class KeyPairAuth(ApiAuth):
    """HTTP Basic with the public key as user name and the secret key as password."""

    what = "public and secret key"

    def __init__(self, credentials: Credentials) -> None:
        encoded = _basic(credentials.public_key, credentials.secret_key)
        self._header = f"Basic {encoded}"
        # A proxy or debug server may echo the request, Authorization header included.
        self._secrets = _longest_first(encoded, credentials.secret_key, credentials.public_key)

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["Authorization"] = self._header
        yield request

    def secrets(self) -> tuple[str, ...]:
        return self._secrets


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float  # on the auth's clock


class ClientCredentialsAuth(ApiAuth):
    """OAuth2 client credentials: one Bearer token at a time, shared by every thread of the client,
    fetched when the first request needs it, renewed shortly before it expires, and renewed once
    more when the API answers 401 anyway (the token was revoked, or the clocks disagree).

    The token request goes out through the client that uses this auth (`bind`): the same
    transport and timeouts, retried like the API while this auth's lock is held, so that one
    fetch serves every worker of the account. An endpoint that refuses the credentials, answers
    without a usable token, or still fails once the retries are spent raises TokenRequestFailed,
    which stops the run: no request could be authenticated.

    For the synchronous client only (a thread lock guards the token).
    """

    what = "OAuth2 client id and secret"

    def __init__(
        self, credentials: ClientCredentials, *, source: str = "", clock: Callable[[], float] = time.monotonic
    ) -> None:
        if (problem := url_problem(credentials.token_url, "token URL", DEFAULT_TOKEN_URL)) is not None:
            raise StatusyncError(problem)
        self._url = httpx.URL(credentials.token_url)
        encoded = _basic(credentials.client_id, credentials.client_secret)
        self._basic = f"Basic {encoded}"
        self._source = source  # where the credentials came from, named when they are refused
        self._clock = clock
        # Held while a token is fetched, so that workers needing one at the same time wait for
        # that one instead of each asking for their own.
        self._lock = threading.Lock()
        self._token: _Token | None = None
        # Why the token endpoint refused for good, or why its fetch gave up: the workers that
        # were waiting for the token fail with it too, instead of each asking again.
        self._refusal: TokenRequestFailed | None = None
        self._send: Callable[[httpx.Request], httpx.Response] | None = None
        # Replaced whole (never mutated), so that secrets() may read it without the lock. Every
        # token of the run stays in it: an expired one may still be echoed by a later answer.
        self._secrets = _longest_first(encoded, credentials.client_secret, credentials.client_id)

    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def is_own_request(self, request: httpx.Request) -> bool:
        return request.url == self._url

    def bind(self, send: Callable[[httpx.Request], httpx.Response]) -> None:
        """Send token requests with `send` (the client's): it retries a token endpoint that
        times out, drops the connection or answers 5xx or 429, and returns its last answer or
        raises TokenRequestFailed once its retries are spent."""
        self._send = send

    def sync_auth_flow(self, request: httpx.Request) -> Flow:
        token = self._fresh()
        if token is None:
            with self._lock:
                token = self._fresh()  # another worker may have fetched one while this one waited
                if token is None:
                    token = self._fetch(request)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        with self._lock:
            renewed = self._fresh()
            if renewed is None or renewed == token:  # no other worker has renewed it yet
                self._token = None
                renewed = self._fetch(request)
        # Once only: a second 401 with a brand-new token is the client's to report.
        request.headers["Authorization"] = f"Bearer {renewed}"
        yield request

    def _fresh(self) -> str | None:
        token = self._token
        return token.value if token is not None and self._clock() < token.renew_at else None

    def _fetch(self, request: httpx.Request) -> str:
        """A token from the token endpoint (the caller holds the lock). The fetch, retries
        included, is the account's one: workers needing a token wait for it on the lock, and
        once it has given up they fail with its error without asking again."""
        if self._refusal is not None:
            refusal = self._refusal  # raised anew: one exception object must not cross threads
            raise TokenRequestFailed(str(refusal), status=refusal.status, detail=refusal.detail)
        if self._send is None:
            raise RuntimeError("ClientCredentialsAuth is used by no client (bind)")
        # The lifetime is counted from the request, not the answer: the safe side.
        asked_at = self._clock()
        headers = {"Authorization": self._basic, "Accept": "application/json"}
        if "User-Agent" in request.headers:
            headers["User-Agent"] = request.headers["User-Agent"]
        try:
            response = self._send(
                httpx.Request(
                    "POST",
                    self._url,
                    headers=headers,
                    data={"grant_type": "client_credentials", "scope": SCOPE},
                )
            )
            if not response.is_success:
                raise self._refused(response)
            value, lifetime = self._parse(response)
        except TokenRequestFailed as exc:
            self._refusal = exc
            raise
        self._token = _Token(value, asked_at + lifetime - min(RENEW_BEFORE, lifetime / 2))
        self._secrets = _longest_first(value, *self._secrets)
        return value

    def _parse(self, response: httpx.Response) -> tuple[str, float]:
        """The token and its lifetime in seconds from a 2xx answer (RFC 6749 section 5.1)."""
        try:
            body = response.json()
        # Not JSON: e.g. a login page, when token_url points at the wrong place; or nested deeper
        # than the parser recurses.
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise self._unusable(response, "the answer is not a JSON object")
        token = body.get("access_token")
        if not isinstance(token, str) or not _header_safe(token):
            raise self._unusable(response, "no usable access_token in the answer")
        kind = body.get("token_type", "bearer")  # REQUIRED by RFC 6749, but a missing one harms no one
        if not isinstance(kind, str) or kind.lower() != "bearer":
            raise self._unusable(response, f"its token_type {str(kind)[:20]!r} is not Bearer")
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
            return token, float(expires_in)
        return token, DEFAULT_LIFETIME

    def _refused(self, response: httpx.Response) -> TokenRequestFailed:
        status = response.status_code
        detail = _oauth_error(response, self._redact)
        # 400 and 401 are how RFC 6749 refuses credentials (invalid_client, unauthorized_client,
        # invalid_scope); anything else means the URL is not a token endpoint at all.
        fix = (
            f"check the {self.what}" + (f" in {self._source}" if self._source else "")
            if status in (400, 401)
            else "check the account's token_url"
        )
        return TokenRequestFailed(
            f"OAuth2 token request to {self._url}: HTTP {status}: {detail}; {fix}",
            status=status,
            detail=detail,
        )

    def _unusable(self, response: httpx.Response, reason: str) -> TokenRequestFailed:
        return TokenRequestFailed(
            f"OAuth2 token request to {self._url}: HTTP {response.status_code} but {reason}; "
            "check the account's token_url",
            status=response.status_code,
            detail=reason,
        )

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _oauth_error(response: httpx.Response, redact: Callable[[str], str]) -> str:
    """A token endpoint's error in a few words: RFC 6749's `error` and `error_description`, else
    a short excerpt of the body, else the reason phrase; with the secrets `redact` hides
    hidden."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser recurses
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        description = body.get("error_description")
        # Without its full stop: the message goes on after it.
        # The endpoint's own words, escaped where they enter a message.
        return cut(
            redact(
                printable(error + (f": {description.rstrip('.')}" if isinstance(description, str) else ""))
            ),
            DETAIL_CHARS,
        )
    return body_excerpt(response, redact)


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _longest_first(*spellings: str) -> tuple[str, ...]:
    return tuple(sorted({s for s in spellings if len(s) >= MIN_REDACTED}, key=len, reverse=True))


def _header_safe(token: str) -> bool:
    """Whether the token can travel in a header as it is (RFC 6750's b64token and a bit more)."""
    return bool(token) and token.isascii() and token.isprintable() and " " not in token
