"""How Sendcloud's API and its OAuth2 token endpoint are retried: their profiles for the one
retry policy (statusync.http.retry_policy), and how a lost request is described (no IO)."""

from __future__ import annotations

import httpx

from statusync.http.retry_policy import Backoff, Loss, Profile, loss_of

# Capped exponential backoff for 5xx, timeouts and dropped connections: 0.5, 1, 2, 4, 8, 10 s ...
BACKOFF_BASE = 0.5
BACKOFF_CAP = 10.0
BACKOFF = Backoff(BACKOFF_BASE, BACKOFF_CAP, jitter=True)
# 429: wait what the server asks; without a usable Retry-After, a pause long enough for a
# per-minute window to make room. A server asking for more than the cap is not worth believing.
DEFAULT_RETRY_AFTER = 2.0
MAX_RETRY_AFTER = 120.0
# Waits on 429 per request, counted apart from the error attempts: being throttled is not failing,
# but a request that is refused forever must still end.
MAX_RATE_LIMITED_WAITS = 8
DEFAULT_MAX_ATTEMPTS = 4

# Every 5xx and every transient loss is retried, whatever the method: statusync's one write (the
# mapping's upsert) sets all four categories at once, so sending it twice does no harm. Only
# `maybe_applied` records that a write may have been carried out: any 5xx but a 503 (the API or
# its gateway refusing to start) and a request sent whose answer was lost. A 429 pauses the
# account's pace: every worker waits, and the pace slows down (pacing.Pace).
API = Profile(
    max_attempts=DEFAULT_MAX_ATTEMPTS,
    backoff=BACKOFF,
    server_errors=frozenset(range(500, 600)),
    resent_losses=frozenset({Loss.NO_CONNECTION, Loss.NO_ANSWER, Loss.INTERRUPTED}),
    rate_limit_wait=DEFAULT_RETRY_AFTER,
    max_wait=MAX_RETRY_AFTER,
    rate_limit_waits=MAX_RATE_LIMITED_WAITS,
    paced=True,
    not_started=frozenset({503}),
)
# The token request is retried like an API request, but it changes nothing, and holds up only the
# workers waiting for its token: a 429 is waited out by the request alone.
TOKEN_ENDPOINT = Profile(
    max_attempts=DEFAULT_MAX_ATTEMPTS,
    backoff=BACKOFF,
    server_errors=API.server_errors,
    resent_losses=API.resent_losses,
    rate_limit_wait=DEFAULT_RETRY_AFTER,
    max_wait=MAX_RETRY_AFTER,
    rate_limit_waits=MAX_RATE_LIMITED_WAITS,
    may_apply=False,
)


def backoff_delay(retry: int, random: float) -> float:
    """Seconds to wait before retry number `retry` (1-based), with equal jitter (`random` in
    [0, 1))."""
    return BACKOFF.delay(retry, random)


def origin(url: httpx.URL) -> str:
    """`scheme://host[:port]` of `url`: where a request went, without the user info, path or
    query a URL might carry credentials in."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def describe_transport_error(exc: httpx.TransportError) -> str:
    """What went wrong, in the user's words; never the request (its headers hold the
    credentials)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if loss_of(exc).transient:
        return "connection dropped"
    return "request failed"
