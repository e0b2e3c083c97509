"""When and how long to wait before sending a failed API request again (pure functions, no IO)."""

from __future__ import annotations

import email.utils
import math
from datetime import UTC

import httpx

# Capped exponential backoff for 5xx, timeouts and dropped connections: 0.5, 1, 2, 4, 8, 10 s ...
BACKOFF_BASE = 0.5
BACKOFF_CAP = 10.0
# 429: wait what the server asks; without a usable Retry-After, a pause long enough for a
# per-minute window to make room. A server asking for more than the cap is not worth believing.
DEFAULT_RETRY_AFTER = 2.0
MAX_RETRY_AFTER = 120.0
# Waits on 429 per request, counted apart from the error attempts: being throttled is not failing,
# but a request that is refused forever must still end.
MAX_RATE_LIMITED_WAITS = 8
DEFAULT_MAX_ATTEMPTS = 4

# Transport failures where the same request may well succeed a moment later. Others
# (UnsupportedProtocol, LocalProtocolError, ProxyError) would fail the same way again.
TRANSIENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


# Transport failures after which the request may have reached the API all the same: it was
# sent, and then the answer timed out or the connection dropped. (A failure to connect, or to
# finish sending the body, leaves nothing the API could carry out.)
MAYBE_ARRIVED: tuple[type[httpx.TransportError], ...] = (
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
)


# Failures to even open a connection: the host refused it, its name did not resolve, there was
# no route, or it did not answer the handshake in time. Nothing was sent, and when every request
# meets one the host is down (or the URL wrong) for all of them.
CONNECT_FAILURES: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
)


def origin(url: httpx.URL) -> str:
    """`scheme://host[:port]` of `url`: where a request went, without the user info, path or
    query a URL might carry credentials in."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def backoff_delay(retry: int, random: float) -> float:
    """Seconds to wait before retry number `retry` (1-based), with "equal jitter".

    Half of the capped exponential step is fixed, half random in [0, 1): every worker still backs
    off for real (unlike full jitter, which may pick ~0), yet workers that failed together spread
    out.
    """
    step = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (retry - 1))
    return step / 2 + step / 2 * random


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """The wait a `Retry-After` header asks for, capped; None when absent or unparsable.

    `value` is delta-seconds or an HTTP date; `now` is the wall clock (epoch seconds) to measure
    a date against.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000" means UTC without saying so
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def describe_transport_error(exc: httpx.TransportError) -> str:
    """What went wrong, in the user's words; never the request (its headers hold the
    credentials)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, TRANSIENT_ERRORS):
        return "connection dropped"
    return "request failed"
