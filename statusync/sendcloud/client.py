"""SendcloudClient: the typed calls statusync makes, paced, retried, and with httpx's exceptions
translated into the ApiError family (statusync.errors) here, at the boundary, so that no caller
ever handles an httpx type."""

from __future__ import annotations

import base64
import json
import logging
import random as _random
import time
from types import TracebackType
from typing import Any, Callable, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from statusync import __version__
from statusync.core.model import CATEGORIES, MappingDict
from statusync.errors import ApiError, CredentialsRejected, IntegrationNotFound, StatusyncError
from statusync.sendcloud.credentials import PUBLIC_KEY_ENV, SECRET_KEY_ENV, Credentials
from statusync.sendcloud.models import Envelope, Integration, LiveMapping, ShopStatus
from statusync.sendcloud.ratelimit import TokenBucket
from statusync.sendcloud.retry import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_AFTER,
    MAX_RATE_LIMITED_WAITS,
    TRANSIENT_ERRORS,
    backoff_delay,
    describe_transport_error,
    retry_after_seconds,
)
from statusync.sendcloud.urls import api_url_problem

__all__ = ["SendcloudClient"]

log = logging.getLogger("statusync.api")

T = TypeVar("T")

MAPPING_PATH = "/shop-order-statuses/mapping"
# A slow API is normal under load; a host that does not even accept the connection in 5 s is down.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
USER_AGENT = f"statusync/{__version__} (+python-httpx/{httpx.__version__})"
EXCERPT_CHARS = 200
MIN_REDACTED = 8

_LIVE_MAPPING = TypeAdapter(Envelope[LiveMapping])
_SHOP_STATUSES = TypeAdapter(Envelope[list[ShopStatus]])
_INTEGRATION = TypeAdapter(Envelope[Integration])
_INTEGRATIONS = TypeAdapter(Envelope[list[Integration]])


class SendcloudClient:
    """One account's connection to the API; safe to share between threads (it holds no per-call
    state)."""

    def __init__(self, base_url: str, credentials: Credentials, *,
                 post_limiter: TokenBucket, get_limiter: TokenBucket,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time,
                 random: Callable[[], float] = _random.random,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 key_source: str = f"{PUBLIC_KEY_ENV} / {SECRET_KEY_ENV}") -> None:
        if (problem := api_url_problem(base_url)) is not None:
            raise StatusyncError(problem)
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url
        self._post_limiter = post_limiter
        self._get_limiter = get_limiter
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._max_attempts = max_attempts
        self._key_source = key_source  # where the keys came from, named when they are rejected
        self._secrets = _secret_spellings(credentials)
        self._http = httpx.Client(
            base_url=base_url,
            auth=httpx.BasicAuth(credentials.public_key, credentials.secret_key),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"SendcloudClient(base_url={self.base_url!r})"

    def __enter__(self) -> SendcloudClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- typed calls -------------------------------------------------------------------------

    def upsert_mapping(self, integration_id: int, mapping: MappingDict) -> None:
        """Set all four categories of one integration (the API only accepts all four at once)."""
        body = {
            "integration_id": integration_id,
            "mapping": [{"status_category": c, "external_id": mapping[c]} for c in CATEGORIES],
        }
        self._request("POST", MAPPING_PATH, integration_id, body=body)

    def get_mapping(self, integration_id: int) -> LiveMapping:
        return self._get_data(MAPPING_PATH, integration_id, _LIVE_MAPPING,
                         params={"integration_id": integration_id})

    def list_shop_statuses(self, integration_id: int, show_deleted: bool = False
                           ) -> list[ShopStatus]:
        params: dict[str, str | int] = {"integration_id": integration_id}
        if show_deleted:
            params["show_deleted"] = "true"
        return self._get_data("/shop-order-statuses", integration_id, _SHOP_STATUSES, params=params)

    def list_integrations(self) -> list[Integration]:
        return self._get_data("/integrations", None, _INTEGRATIONS)

    def get_integration(self, integration_id: int) -> Integration:
        return self._get_data(f"/integrations/{integration_id}", None, _INTEGRATION)

    def integration_exists(self, integration_id: int) -> bool:
        """Whether the account has the integration, from the list of all of them.

        A 404 on an integration's own endpoint cannot tell a deleted integration from a wrong
        base URL (which answers 404 to everything); a list that loads and lacks it can.
        """
        return any(i.id == integration_id for i in self.list_integrations())

    def _get_data(self, path: str, integration_id: int | None, adapter: TypeAdapter[Envelope[T]],
                  params: dict[str, str | int] | None = None) -> T:
        """The `data` of a GET's answer; an answer of the wrong shape is the API's error."""
        response = self._request("GET", path, integration_id, params=params)
        try:
            return adapter.validate_json(response.content).data
        except ValidationError as exc:
            problem = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                                for e in exc.errors(include_input=False)[:3])
            detail = f"unexpected response ({problem})"
            raise ApiError(f"{_request_label('GET', path, integration_id)}: {detail}",
                           status=response.status_code, detail=detail) from None

    # -- one request, paced and retried ------------------------------------------------------

    def _request(self, method: str, path: str, integration_id: int | None, *,
                 params: dict[str, str | int] | None = None, body: Any = None) -> httpx.Response:
        """Send until the API answers 2xx, a retry budget runs out, or an error is final."""
        limiter = self._get_limiter if method == "GET" else self._post_limiter
        label = _request_label(method, path, integration_id)
        attempts = 0  # answered by 5xx or lost on the wire; 429s are counted apart
        throttled = 0
        while True:
            # Every request sent counts against the account's limit, retries included.
            limiter.acquire()
            try:
                response = self._http.request(method, path, params=params, json=body)
            except httpx.HTTPError as exc:
                attempts += 1
                if not isinstance(exc, TRANSIENT_ERRORS) or attempts >= self._max_attempts:
                    raise self._transport_error(label, exc, attempts) from None
                self._back_off(label, attempts, describe_transport_error(exc))
                continue
            if response.is_success:
                return response
            if response.status_code == 429:
                if throttled >= MAX_RATE_LIMITED_WAITS:
                    raise self._http_error(label, response,
                                           f"still rate limited after {throttled} waits")
                throttled += 1
                asked = self._asked_wait(response)
                wait = DEFAULT_RETRY_AFTER if asked is None else asked
                log.info("%s: rate limited (HTTP 429), waiting %.1f s (%d of %d)",
                         label, wait, throttled, MAX_RATE_LIMITED_WAITS)
                self._sleep(wait)
                continue
            if response.is_server_error:
                attempts += 1
                if attempts >= self._max_attempts:
                    raise self._http_error(label, response, f"after {attempts} attempts")
                # A server that says when it will be back knows better than our backoff.
                self._back_off(label, attempts, f"HTTP {response.status_code}",
                               self._asked_wait(response))
                continue
            raise self._http_error(label, response)

    def _back_off(self, label: str, attempts: int, reason: str, wait: float | None = None) -> None:
        if wait is None:
            wait = backoff_delay(attempts, self._random())
        log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)",
                    label, reason, wait, attempts + 1, self._max_attempts)
        self._sleep(wait)

    def _asked_wait(self, response: httpx.Response) -> float | None:
        return retry_after_seconds(response.headers.get("Retry-After"), self._clock())

    # -- errors ------------------------------------------------------------------------------

    def _http_error(self, label: str, response: httpx.Response, note: str = "") -> ApiError:
        status = response.status_code
        detail = self._redact(_error_detail(response))
        if status == 401:
            # Never name the keys themselves: only where they come from.
            return CredentialsRejected(
                f"{label}: HTTP 401: Sendcloud rejected the API credentials ({detail}); check the "
                f"public and secret key in {self._key_source}",
                status=status, detail=detail)
        text = f"{label}: HTTP {status}: {detail}" + (f" ({note})" if note else "")
        error_class = IntegrationNotFound if status == 404 else ApiError
        return error_class(text, status=status, detail=detail)

    def _transport_error(self, label: str, exc: httpx.HTTPError, attempts: int) -> ApiError:
        what = describe_transport_error(exc) if isinstance(exc, httpx.TransportError) else "failed"
        detail = self._redact(f"{what} after {attempts} attempt{'s' if attempts != 1 else ''}"
                              f" ({type(exc).__name__}: {exc})")
        return ApiError(f"{label}: {detail}", status=None, detail=detail)

    def _redact(self, text: str) -> str:
        # A proxy or debug server may echo the request, Authorization header included.
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _error_detail(response: httpx.Response) -> str:
    """The JSON:API error details of `response`, joined; else a short excerpt of the body or the
    reason."""
    try:
        body = response.json()
    except ValueError:  # not JSON (JSONDecodeError and UnicodeDecodeError are ValueErrors)
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):  # the spec allows a single error object too
        errors = [errors]
    if isinstance(errors, list) and errors:
        return "; ".join(_error_object_text(e) for e in errors)
    text = " ".join(response.text.split())
    if not text or "html" in response.headers.get("Content-Type", ""):
        # An HTML error page from a proxy says nothing its status line does not.
        return response.reason_phrase or "no details"
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…"


def _error_object_text(error: object) -> str:
    """One JSON:API error object as a reader wants it: its detail, led by where it points."""
    if not isinstance(error, dict):
        return str(error)
    message = error.get("detail") or error.get("title") or error.get("code")
    if not message:
        return json.dumps(error, ensure_ascii=False)
    source = error.get("source")
    where = (source.get("pointer") or source.get("parameter")) if isinstance(source, dict) else None
    return f"{where}: {message}" if where else str(message)


def _request_label(method: str, path: str, integration_id: int | None) -> str:
    about = f" (integration {integration_id})" if integration_id is not None else ""
    return f"{method} {path}{about}"


def _secret_spellings(credentials: Credentials) -> tuple[str, ...]:
    """Every form in which the keys could come back to us: as given, and as the Basic auth token."""
    pair = f"{credentials.public_key}:{credentials.secret_key}".encode()
    token = base64.b64encode(pair).decode("ascii")
    # Longest first, so a key inside the token does not leave a partial token behind. A value
    # too short to be a real key (Sendcloud's are 32 characters and more) would only garble
    # ordinary words of the message.
    spellings = (token, credentials.secret_key, credentials.public_key)
    return tuple(sorted({s for s in spellings if len(s) >= MIN_REDACTED}, key=len, reverse=True))
