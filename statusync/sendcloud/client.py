"""SendcloudClient: the typed calls statusync makes, paced, retried, and with httpx's exceptions
translated into the ApiError family (statusync.errors) here, at the boundary, so that no caller
ever handles an httpx type."""

from __future__ import annotations

import json
import logging
import random as _random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar
from urllib.request import getproxies, proxy_bypass

import httpx
from pydantic import TypeAdapter, ValidationError

from statusync import __version__
from statusync.core.model import CATEGORIES, MappingDict
from statusync.errors import (
    ApiError,
    CredentialsRejected,
    HostUnreachable,
    IntegrationNotFound,
    NotSent,
    StatusyncError,
    TokenRequestFailed,
    with_maybe_applied,
)
from statusync.http.cookieless import CookielessClient
from statusync.http.excerpt import DETAIL_CHARS, body_excerpt
from statusync.http.per_thread import PoolPerThread
from statusync.http.proxy import environment_proxy_checked
from statusync.http.retry_policy import Answer, GiveUp, Loss, Lost, Tally, Wait, decide, loss_of
from statusync.http.tls import shared_context
from statusync.sendcloud.auth import ApiAuth, ClientCredentialsAuth, KeyPairAuth
from statusync.sendcloud.credentials import PARTNER_HEADER, PUBLIC_KEY_ENV, SECRET_KEY_ENV, Credentials
from statusync.sendcloud.models import Envelope, Integration, LiveMapping, ShopStatus
from statusync.sendcloud.pacing import STOP, Pace, interruptible, on_the_wire
from statusync.sendcloud.ratelimit import TokenBucket
from statusync.sendcloud.retry import (
    API,
    DEFAULT_MAX_ATTEMPTS,
    TOKEN_ENDPOINT,
    describe_transport_error,
    origin,
)
from statusync.sendcloud.urls import api_url_problem
from statusync.text import cut, plural, printable

__all__ = ["SendcloudClient"]

log = logging.getLogger("statusync.api")

T = TypeVar("T")

MAPPING_PATH = "/shop-order-statuses/mapping"
# A slow API is normal under load; a host that does not even accept the connection in 5 s is down.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
USER_AGENT = f"statusync/{__version__} (+python-httpx/{httpx.__version__})"
# Sendcloud's answers are kilobytes (the integrations of a large account a few megabytes): a body
# larger than this, counted once decompressed (a gzip bomb is kilobytes on the wire), comes from
# a broken or hostile server and is read no further.
MAX_BODY = 64 << 20
# The longest an answer's body may take to arrive. httpx's read timeout counts each read alone,
# so a server that sends a byte now and then would otherwise hold a worker for ever.
MAX_BODY_SECONDS = 120.0

_LIVE_MAPPING = TypeAdapter(Envelope[LiveMapping])
_SHOP_STATUSES = TypeAdapter(Envelope[list[ShopStatus]])
_INTEGRATION = TypeAdapter(Envelope[Integration])
_INTEGRATIONS = TypeAdapter(Envelope[list[Integration]])
# The account's host is given up on once it took none of this many connection attempts in a row,
# whichever workers made them, while no request of the account got any answer meanwhile, and a
# request failed to connect again after its backoff (so that workers failing together in one
# short blip do not count): each further integration would only wait out the same retries
# (minutes at 50 integrations, hours at 10,000).
UNREACHABLE_AFTER = 6
# The token request goes out with no auth of its own besides the header it carries.
_NO_AUTH = httpx.Auth()


class _Bounded(httpx.SyncByteStream):
    """The chunks of an answer's body as they arrive, cut off past MAX_BODY bytes or
    MAX_BODY_SECONDS (httpx.ReadError, httpx.ReadTimeout)."""

    def __init__(
        self, chunks: Iterable[bytes], request: httpx.Request, monotonic: Callable[[], float]
    ) -> None:
        self._chunks = chunks
        self._request = request
        self._monotonic = monotonic

    def __iter__(self) -> Iterator[bytes]:
        started = self._monotonic()
        size = 0
        for chunk in self._chunks:
            size += len(chunk)
            if size > MAX_BODY:
                raise httpx.ReadError(
                    f"the answer's body is larger than {MAX_BODY >> 20} MiB", request=self._request
                )
            if self._monotonic() - started > MAX_BODY_SECONDS:
                raise httpx.ReadTimeout(
                    f"the answer's body took longer than {MAX_BODY_SECONDS:g} s", request=self._request
                )
            yield chunk

    def close(self) -> None:
        if isinstance(self._chunks, httpx.SyncByteStream):
            self._chunks.close()


class SendcloudClient:
    """One account's connection to the API; safe to share between threads (it holds no per-call
    state).

    Each kind of request has its Pace (a TokenBucket given is wrapped in one), shared by every
    thread that uses the client: a 429 slows them all. Every wait ends at once when `stop` is
    set, and no request leaves after it (NotSent).
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | ApiAuth,
        *,
        post_limiter: TokenBucket | Pace,
        get_limiter: TokenBucket | Pace,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        key_source: str = f"{PUBLIC_KEY_ENV} / {SECRET_KEY_ENV}",
        partner_id: str | None = None,
        stop: threading.Event = STOP,
    ) -> None:
        if (problem := api_url_problem(base_url)) is not None:
            raise StatusyncError(problem)
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url
        self._paces = {
            "POST": _pace(post_limiter, stop, "POST requests"),
            "GET": _pace(get_limiter, stop, "GET requests"),
        }
        self._stop = stop
        self._sleep = interruptible(sleep, stop)  # backoff and 5xx Retry-After waits
        self._clock = clock
        self._monotonic = monotonic  # how long a body takes to arrive
        self._random = random
        self._policy = API.with_attempts(max_attempts)
        self._token_policy = TOKEN_ENDPOINT.with_attempts(max_attempts)
        self._key_source = key_source  # where the keys came from, named when they are rejected
        self._auth = credentials if isinstance(credentials, ApiAuth) else KeyPairAuth(credentials)
        if isinstance(self._auth, ClientCredentialsAuth):
            self._auth.bind(self._send_token_request)
        # Connection attempts in a row, across every worker, that the host did not take; and,
        # once it is given up on (UNREACHABLE_AFTER), why: no request of the account leaves then.
        self._reach_lock = threading.Lock()
        self._unconnected = 0
        self._unreachable: str | None = None
        # Identity: the body on the wire is the body, bounded as it arrives (`_read`).
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "identity"}
        if partner_id is not None:
            headers[PARTNER_HEADER] = partner_id
        transport = transport or _default_transport()
        with environment_proxy_checked():
            self._http = CookielessClient(
                base_url=base_url,
                auth=self._auth,
                headers=headers,
                timeout=timeout,
                transport=transport,
                # httpx's own transport (behind a proxy) checks TLS with the shared context too.
                verify=shared_context() if transport is None else True,
            )
        # Where request paths go: the base URL (never with a query: api_url_problem) and a slash.
        self._prefix = str(self._http.base_url).rstrip("/") + "/"

    def __repr__(self) -> str:
        return f"SendcloudClient(base_url={self.base_url!r})"

    def __enter__(self) -> SendcloudClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- typed calls -------------------------------------------------------------------------

    def pace(self, method: str) -> Pace:
        """The pace of the account's GET (safe) or other (unsafe) requests."""
        return self._paces["GET" if method == "GET" else "POST"]

    def upsert_mapping(
        self, integration_id: int, mapping: MappingDict, *, on_send: Callable[[], None] | None = None
    ) -> None:
        """Set all four categories of one integration (the API only accepts all four at once).

        `on_send` runs right before the request first leaves, once its turn under the rate limit
        has come (the runner makes the write's intent durable there).
        """
        body = {
            "integration_id": integration_id,
            "mapping": [{"status_category": c, "external_id": mapping[c]} for c in CATEGORIES],
        }
        self._request("POST", MAPPING_PATH, integration_id, body=body, on_send=on_send)

    def get_mapping(self, integration_id: int) -> LiveMapping:
        return self._get_data(
            MAPPING_PATH, integration_id, _LIVE_MAPPING, params={"integration_id": integration_id}
        )

    def list_shop_statuses(
        self, integration_id: int, show_deleted: bool = False, language: str | None = None
    ) -> list[ShopStatus]:
        """The shop's statuses, named in `language` (None: Sendcloud's default, en-gb); with
        `show_deleted`, also those the shop deleted, with their `deleted_at`."""
        params: dict[str, str | int] = {"integration_id": integration_id}
        if language is not None:
            params["language"] = language
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

    def _get_data(
        self,
        path: str,
        integration_id: int | None,
        adapter: TypeAdapter[Envelope[T]],
        params: dict[str, str | int] | None = None,
    ) -> T:
        """The `data` of a GET's answer; an answer of the wrong shape is the API's error."""
        response = self._request("GET", path, integration_id, params=params)
        try:
            return adapter.validate_json(response.content).data
        except ValidationError as exc:
            problem = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                for e in exc.errors(include_input=False)[:3]
            )
            detail = f"unexpected response ({problem})"
            raise ApiError(
                f"{_request_label('GET', path, integration_id)}: {detail}",
                status=response.status_code,
                detail=detail,
            ) from None

    # -- one request, paced and retried ------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        integration_id: int | None,
        *,
        params: dict[str, str | int] | None = None,
        body: Any = None,
        on_send: Callable[[], None] | None = None,
    ) -> httpx.Response:
        """Send until the API answers 2xx, a retry budget runs out, or an error is final.

        Errors say whether an attempt may have reached the API all the same (`maybe_applied`):
        a write's outcome is then unknown rather than failed. Once the run is asked to stop, no
        attempt leaves any more: NotSent.
        """
        pace = self.pace(method)
        label = _request_label(method, path, integration_id)
        tally = Tally()  # the attempts, the 429 waits, and whether one may have reached the API
        unconnected = 0  # attempts of this request that the host took no connection for
        while True:
            reached = tally.maybe_applied
            try:
                self._check_reachable(reached)
                # Every request sent counts against the account's limit, retries included.
                sent_at = pace.acquire()
                if self._stop.is_set():
                    raise NotSent()
            except NotSent:
                raise NotSent(f"{label}: not sent: the run is stopping", maybe_applied=reached) from None
            self._check_reachable(reached)  # given up on while this one waited for its turn
            if on_send is not None:
                on_send()
                on_send = None
            try:
                with on_the_wire():
                    request = self._http.build_request(method, self._url(path, params), json=body)
                    response = self._read(self._http.send(request, stream=True))
            except (ApiError, NotSent) as exc:
                # The auth flow's token request failed, or met the stop, before this attempt
                # left: an earlier attempt may still have arrived.
                raise (with_maybe_applied(exc) if reached else exc) from None
            except httpx.HTTPError as exc:
                loss = loss_of(exc)
                # A failed OAuth2 token request never carried the API request with it.
                decision = decide(
                    self._policy,
                    method,
                    tally,
                    Lost(loss, carried=not self._token_failed(exc)),
                    random=self._random(),
                )
                tally = decision.tally
                unconnected += self._note_connection(exc, loss)
                if unconnected >= 2:  # the streak then spans a backoff, not one burst of workers
                    self._maybe_unreachable(exc)
                if isinstance(decision, GiveUp):
                    raise self._transport_error(label, exc, tally.attempts, tally.maybe_applied) from None
                self._check_reachable(tally.maybe_applied)  # given up on: no backoff for a retry never sent
                self._back_off(label, decision, self._transport_reason(exc))
                continue
            self._answered()
            pace.observe(pace.bucket.clock() - sent_at)
            if response.is_success:
                return response
            decision = decide(
                self._policy, method, tally, self._answer(response), now=self._clock(), random=self._random()
            )
            tally = decision.tally
            if isinstance(decision, GiveUp):
                raise self._http_error(label, response, decision.because, tally.maybe_applied)
            if decision.paced:
                self._throttled(label, pace, decision.seconds, sent_at)
            else:
                self._back_off(label, decision, decision.because)

    def _read(self, response: httpx.Response) -> httpx.Response:
        """`response` with its body read, decompressed, up to MAX_BODY bytes and within
        MAX_BODY_SECONDS; past either, the answer counts as lost (httpx.ReadError, ReadTimeout):
        the request did arrive."""
        stream = response.stream
        if (
            isinstance(stream, httpx.SyncByteStream)
            and response.headers.get("Content-Encoding", "identity") == "identity"
        ):
            # As asked (Accept-Encoding: identity): the bytes on the wire are the body, bounded
            # as they arrive, and read as httpx reads any answer (at a tenth of the CPU of
            # building the answer again, at thousands of requests a minute).
            response.stream = _Bounded(stream, response.request, self._monotonic)
            try:
                response.read()
            finally:
                response.close()
            return response
        # Compressed all the same: the size that counts is the decompressed one (a gzip bomb is
        # kilobytes on the wire), so the body is decompressed here, chunk by chunk.
        bounded = _Bounded(response.iter_bytes(), response.request, self._monotonic)
        try:
            body = b"".join(bounded)
        finally:
            response.close()
        # The body as read: decompressed already, so without the headers that described it
        # on the wire.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=response.request,
            extensions=response.extensions,
        )

    def _url(self, path: str, params: dict[str, str | int] | None) -> str:
        """The absolute URL of `path` with `params`, as httpx would merge them with the base URL.
        Built as a string: httpx parses a relative URL, the merged one and the one with the
        query each in turn, which cost more than the rest of building the request."""
        url = self._prefix + path.lstrip("/")
        return f"{url}?{httpx.QueryParams(params)}" if params else url

    def _answer(self, response: httpx.Response) -> Answer:
        # An answer to the auth flow's own token request says nothing of the API request.
        return Answer(
            response.status_code, response.headers, carried=not self._auth.is_own_request(response.request)
        )

    def _throttled(self, label: str, pace: Pace, wait: float, sent_at: float) -> None:
        """A 429: the whole account pauses for the Retry-After and slows down (pacing.Pace)."""
        before = pace.per_minute()
        if pace.throttled(wait, sent_at):
            # WARNING: a run that waits on the limit must not look hung.
            log.warning(
                "%s: rate limited (HTTP 429): all %s of this account wait %.1f s, then "
                "go on at %.1f/min (was %.1f/min) and speed up again gradually",
                label,
                pace.what,
                wait,
                pace.per_minute(),
                before,
            )
        else:
            log.info("%s: rate limited (HTTP 429), waiting %.1f s with the others", label, wait)

    def _back_off(self, label: str, decision: Wait, reason: str) -> None:
        log.warning(
            "%s: %s; retrying in %.1f s (attempt %d of %d)",
            label,
            reason,
            decision.seconds,
            decision.tally.attempts + 1,
            self._policy.max_attempts,
        )
        try:
            self._sleep(decision.seconds)
        except NotSent:
            raise NotSent(
                f"{label}: {reason}; not sent again: the run is stopping",
                maybe_applied=decision.tally.maybe_applied,
            ) from None

    # -- a host that takes no connection -----------------------------------------------------

    def _check_reachable(self, reached: bool) -> None:
        if (why := self._unreachable) is not None:
            raise HostUnreachable(why, maybe_applied=reached)

    def _note_connection(self, exc: httpx.HTTPError, loss: Loss) -> int:
        """Count `exc` when the host took no connection for it (1, else 0); any other failure
        came from a host that did answer, which ends the streak."""
        if loss is not Loss.NO_CONNECTION or self._token_failed(exc):
            self._answered()
            return 0
        with self._reach_lock:
            self._unconnected += 1
        return 1

    def _answered(self) -> None:
        with self._reach_lock:
            self._unconnected = 0

    def _maybe_unreachable(self, exc: httpx.HTTPError) -> None:
        """A request failed to connect again: give the host up when the account's streak of
        failed connections is long enough (UNREACHABLE_AFTER)."""
        with self._reach_lock:
            count = self._unconnected
            if count < UNREACHABLE_AFTER or self._unreachable is not None:
                return
            self._unreachable = self._redact(
                f"the API at {self._where(exc)} could not be reached ({count} connections failed "
                f"in a row, the last: {type(exc).__name__}: {printable(str(exc))}); "
                "nothing more was sent. Check STATUSYNC_API_URL / api_url in statusync.yaml, or "
                "the network, then run the command again"
            )

    def _where(self, exc: httpx.HTTPError) -> str:
        try:
            url = exc.request.url
        except RuntimeError:  # httpx attached no request: the client's base URL it was
            url = httpx.URL(self.base_url)
        return origin(url) + _through_proxy(url)

    def _transport_reason(self, exc: httpx.HTTPError) -> str:
        what = describe_transport_error(exc) if isinstance(exc, httpx.TransportError) else "failed"
        return self._redact(f"{what} ({self._where(exc)})")

    # -- the OAuth2 token request ------------------------------------------------------------

    def _send_token_request(self, request: httpx.Request) -> httpx.Response:
        """Send the auth's token request, retried like an API request: its last answer for the
        auth to judge, or TokenRequestFailed once its retries are spent (NotSent on a stop).

        The auth holds its lock meanwhile, so this is the account's one token fetch: the other
        workers wait for its token, or fail with its error, rather than each asking again."""
        label = f"OAuth2 token request to {request.url}"
        # A request built by hand gets no timeout of the client's: a hung endpoint must not
        # hang the account.
        request.extensions.setdefault("timeout", self._http.timeout.as_dict())
        tally = Tally()
        while True:
            if self._stop.is_set():
                raise NotSent(f"{label}: not sent: the run is stopping")
            try:
                with on_the_wire():
                    response = self._read(self._http.send(request, auth=_NO_AUTH, stream=True))
            except httpx.HTTPError as exc:
                decision = decide(
                    self._token_policy, request.method, tally, Lost(loss_of(exc)), random=self._random()
                )
                tally = decision.tally
                if isinstance(decision, GiveUp):
                    what = (
                        describe_transport_error(exc) if isinstance(exc, httpx.TransportError) else "failed"
                    )
                    detail = self._redact(
                        f"{what} after {plural(tally.attempts, 'attempt')} to {self._where(exc)} "
                        f"({type(exc).__name__}: {exc}); check the account's token_url or the "
                        "network"
                    )
                    raise TokenRequestFailed(f"{label}: {detail}", status=None, detail=detail) from None
                self._back_off(label, decision, self._transport_reason(exc))
                continue
            if response.is_success:
                return response
            decision = decide(
                self._token_policy,
                request.method,
                tally,
                Answer(response.status_code, response.headers),
                now=self._clock(),
                random=self._random(),
            )
            tally = decision.tally
            if isinstance(decision, GiveUp):
                if decision.final:  # the auth judges the answer (a refusal, a token)
                    return response
                detail = _error_detail(response, self._redact)
                raise TokenRequestFailed(
                    f"{label}: HTTP {response.status_code}: {detail} ({decision.because})",
                    status=response.status_code,
                    detail=detail,
                )
            if decision.rate_limited:
                log.warning("%s: %s; retrying in %.1f s", label, decision.because, decision.seconds)
                self._pause(label, decision.seconds)
            else:
                self._back_off(label, decision, decision.because)

    def _pause(self, label: str, wait: float) -> None:
        try:
            self._sleep(wait)
        except NotSent:
            raise NotSent(f"{label}: not sent again: the run is stopping") from None

    # -- errors ------------------------------------------------------------------------------

    def _http_error(
        self, label: str, response: httpx.Response, note: str = "", maybe_applied: bool = False
    ) -> ApiError:
        label = self._via(label, response.request)
        status = response.status_code
        detail = _error_detail(response, self._redact)
        if status == 401:
            # Never name the keys themselves: only where they come from.
            return CredentialsRejected(
                f"{label}: HTTP 401: Sendcloud rejected the API credentials ({detail}); check the "
                f"{self._auth.what} in {self._key_source}",
                status=status,
                detail=detail,
                maybe_applied=maybe_applied,
            )
        text = f"{label}: HTTP {status}: {detail}" + (f" ({note})" if note else "")
        error_class = IntegrationNotFound if status == 404 else ApiError
        return error_class(text, status=status, detail=detail, maybe_applied=maybe_applied)

    def _transport_error(
        self, label: str, exc: httpx.HTTPError, attempts: int, maybe_applied: bool
    ) -> ApiError:
        if self._token_failed(exc):
            label = self._via(label, exc.request)
        what = describe_transport_error(exc) if isinstance(exc, httpx.TransportError) else "failed"
        # Where it tried: a wrong or unresolvable API URL must be visible in the message.
        detail = self._redact(
            f"{what} after {plural(attempts, 'attempt')} to {self._where(exc)} ({type(exc).__name__}: {exc})"
        )
        return ApiError(f"{label}: {detail}", status=None, detail=detail, maybe_applied=maybe_applied)

    def _redact(self, text: str) -> str:
        # A proxy or debug server may echo the request, Authorization header included.
        for secret in self._auth.secrets():
            text = text.replace(secret, "***")
        return text

    def _token_failed(self, exc: httpx.HTTPError) -> bool:
        """Whether `exc` befell the auth flow's token request rather than the API request."""
        try:
            return self._auth.is_own_request(exc.request)
        except RuntimeError:  # httpx attached no request: it was the client's
            return False

    def _via(self, label: str, request: httpx.Request) -> str:
        """`label`, naming the token request when it was the auth flow's that failed: else a
        token endpoint's failure would pass for the API's."""
        if self._auth.is_own_request(request):
            return f"{label}: OAuth2 token request to {request.url}"
        return label


def _error_detail(response: httpx.Response, redact: Callable[[str], str]) -> str:
    """The JSON:API error details of `response`, joined; else a short excerpt of the body or the
    reason; with the secrets `redact` hides hidden."""
    try:
        body = response.json()
    # Not JSON (JSONDecodeError and UnicodeDecodeError are ValueErrors), or nested deeper than
    # the parser recurses (a hostile or broken server's body).
    except (ValueError, RecursionError):
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):  # the spec allows a single error object too
        errors = [errors]
    # The API's own words, escaped where they enter a message (a newline or an escape
    # sequence in a detail must not reach a terminal or a log as itself).
    if isinstance(errors, list) and errors:
        return cut(redact(printable("; ".join(_error_object_text(e) for e in errors))), DETAIL_CHARS)
    return body_excerpt(response, redact)


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


def _pace(limiter: TokenBucket | Pace, stop: threading.Event, what: str) -> Pace:
    return limiter if isinstance(limiter, Pace) else Pace(limiter, stop=stop, what=what)


def _request_label(method: str, path: str, integration_id: int | None) -> str:
    about = f" (integration {integration_id})" if integration_id is not None else ""
    return f"{method} {path}{about}"


def _through_proxy(url: httpx.URL) -> str:
    """The words "through the proxy ..." (after a space) when the environment sends `url` through
    one, since a proxy that is down refuses the connection, not the API; else "". The proxy by
    its origin only: its URL may carry a user and password."""
    proxies = getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or proxy_bypass(url.host):
        return ""
    try:
        where = origin(httpx.URL(proxy if "://" in proxy else f"http://{proxy}"))
    except httpx.InvalidURL:
        where = "set in the environment"
    return f" through the proxy {where} ({url.scheme.upper()}_PROXY or ALL_PROXY)"


def _default_transport() -> httpx.BaseTransport | None:
    """A pool per worker thread (http.per_thread); None, httpx's own transport, when a proxy is
    set in the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY): httpx honours those
    only with its own transport, and a network that needs a proxy has no other way out. Tests
    give a transport of their own."""
    return None if getproxies() else PoolPerThread()
