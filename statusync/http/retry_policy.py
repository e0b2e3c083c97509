"""When a failed request is sent again, and after how long: one pure function, `decide`, over the
Profile of the API asked (no IO, no clock, no randomness of its own).

A request loop sends, describes what happened (an Answer, or a Lost request), and asks `decide`
with the Tally of the attempts so far. The answer is a Wait ("wait this long, because…") or a
GiveUp ("give up, because…"), each with the Tally after this attempt; the loop then sleeps or
raises. Where the APIs differ on purpose (GitHub never sends a POST again once it may have
arrived; Sendcloud's 429 slows the whole account; a token request changes nothing), the Profile
says so as data.
"""

from __future__ import annotations

import email.utils
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC

import httpx

from statusync.text import plural

__all__ = [
    "Answer",
    "Backoff",
    "GiveUp",
    "Lost",
    "Loss",
    "Profile",
    "Tally",
    "Wait",
    "decide",
    "loss_of",
    "retry_after_seconds",
]


class Loss(enum.Enum):
    """How a request was lost on the wire, as far as sending it again is concerned."""

    NO_CONNECTION = "could not connect"  # refused, unresolvable, no route, no handshake: nothing sent
    NO_ANSWER = "no answer"  # sent, then the answer timed out or the connection dropped
    INTERRUPTED = "interrupted"  # a connection, but the request was not (fully) sent
    FATAL = "failed"  # would fail the same way again (UnsupportedProtocol, ProxyError, ...)

    @property
    def transient(self) -> bool:
        """Whether the same request may well succeed a moment later."""
        return self is not Loss.FATAL

    @property
    def may_have_arrived(self) -> bool:
        """Whether the API may have received (and carried out) the request all the same."""
        return self is Loss.NO_ANSWER

    @property
    def connected(self) -> bool:
        """Whether a connection was made, so that some of the request may have left."""
        return self is not Loss.NO_CONNECTION


def loss_of(exc: httpx.HTTPError) -> Loss:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return Loss.NO_CONNECTION
    if isinstance(exc, httpx.ReadTimeout | httpx.ReadError | httpx.RemoteProtocolError):
        return Loss.NO_ANSWER
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError):
        return Loss.INTERRUPTED
    return Loss.FATAL


@dataclass(frozen=True)
class Answer:
    """The API answered (with anything but a 2xx)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    message: str = ""  # the API's own explanation, where a rate limit may be told by it (GitHub)
    carried: bool = True  # False: the answer is to the auth flow's own token request


@dataclass(frozen=True)
class Lost:
    """No answer came: the request was lost on the wire."""

    kind: Loss
    carried: bool = True  # False: the auth flow's own token request was lost


@dataclass(frozen=True)
class Tally:
    """The attempts of one request so far."""

    attempts: int = 0  # failed: lost on the wire or answered 5xx (and rate limited, on GitHub)
    throttled: int = 0  # waits on a rate limit, where they are counted apart
    maybe_applied: bool = False  # an attempt may have been carried out without a 2xx coming back


@dataclass(frozen=True)
class Wait:
    """Send the request again after `seconds`."""

    seconds: float
    because: str  # what happened: "HTTP 503", "rate limited (HTTP 429)", "no answer"
    tally: Tally
    rate_limited: bool = False
    paced: bool = False  # a rate limit the account's pace waits out (every worker), not the request


@dataclass(frozen=True)
class GiveUp:
    """Send the request no more."""

    tally: Tally
    because: str = ""  # the budget spent ("after 4 attempts"); "" when the outcome is final in itself
    rate_limited: bool = False

    @property
    def final(self) -> bool:
        """Whether the outcome was final in itself (a 404, a POST that may have arrived), rather
        than a budget running out."""
        return not self.because


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: `first`, twice that, ... up to `cap` seconds."""

    first: float
    cap: float
    # "Equal jitter": half of each step fixed, half random, so that every worker still backs off
    # for real (unlike full jitter, which may pick ~0), yet workers that failed together spread out.
    jitter: bool

    def delay(self, retry: int, random: float) -> float:
        """Seconds to wait before retry number `retry` (1-based); `random` is in [0, 1)."""
        step = min(self.cap, self.first * 2.0 ** (retry - 1))
        return step / 2 + step / 2 * random if self.jitter else step


@dataclass(frozen=True)
class Profile:
    """How one API wants to be retried."""

    max_attempts: int
    backoff: Backoff
    server_errors: frozenset[int]  # answers worth sending the request again for
    resent_losses: frozenset[Loss]  # losses on the wire worth sending the request again for
    # The wait on a rate limit without a usable Retry-After, and the longest one believed.
    rate_limit_wait: float
    max_wait: float
    # Waits on a rate limit per request, counted apart from the attempts (being throttled is not
    # failing, but a request refused forever must still end); None: they spend the attempts.
    rate_limit_waits: int | None
    rate_limited_403: bool = False  # a 403 with Retry-After, no requests left or a message saying so
    read_ratelimit_reset: bool = False  # x-ratelimit-reset says when requests are left again
    retry_after_dates: bool = True  # Retry-After may be an HTTP date (else finite seconds only)
    server_error_retry_after: bool = True  # a 5xx's Retry-After replaces the backoff
    paced: bool = False  # a rate limit is waited out by the account's pace, not by the request
    # Methods never sent again once an attempt may have reached the API (over a connection).
    sent_once: frozenset[str] = frozenset()
    # Whether an attempt may change something, so that `maybe_applied` is worth keeping, and the
    # answers that say it did not start.
    may_apply: bool = True
    not_started: frozenset[int] = frozenset()

    def with_attempts(self, max_attempts: int) -> Profile:
        return replace(self, max_attempts=max_attempts)


def decide(
    profile: Profile,
    method: str,
    tally: Tally,
    outcome: Answer | Lost,
    *,
    now: float = 0.0,
    random: float = 0.0,
) -> Wait | GiveUp:
    """What to do after `outcome`, the failed attempt that follows `tally`.

    `now` is the wall clock (epoch seconds) that an HTTP date or a rate limit's reset time is
    measured against; `random` in [0, 1) jitters the backoff.
    """
    if isinstance(outcome, Lost):
        return _after_loss(profile, method, tally, outcome, random)
    headers = httpx.Headers(outcome.headers)
    if _rate_limited(profile, outcome, headers):
        return _after_rate_limit(profile, tally, outcome.status, headers, now)
    if outcome.status in profile.server_errors:
        return _after_server_error(profile, method, tally, outcome, headers, now, random)
    return GiveUp(tally)


def _after_loss(profile: Profile, method: str, tally: Tally, lost: Lost, random: float) -> Wait | GiveUp:
    tally = _failed(profile, tally, lost.carried and lost.kind.may_have_arrived)
    if lost.kind not in profile.resent_losses or (method in profile.sent_once and lost.kind.connected):
        return GiveUp(tally)
    if tally.attempts >= profile.max_attempts:
        return GiveUp(tally, f"after {plural(tally.attempts, 'attempt')}")
    return Wait(profile.backoff.delay(tally.attempts, random), lost.kind.value, tally)


def _after_server_error(
    profile: Profile,
    method: str,
    tally: Tally,
    answer: Answer,
    headers: httpx.Headers,
    now: float,
    random: float,
) -> Wait | GiveUp:
    tally = _failed(profile, tally, answer.carried and answer.status not in profile.not_started)
    if method in profile.sent_once:
        return GiveUp(tally)
    if tally.attempts >= profile.max_attempts:
        return GiveUp(tally, f"after {plural(tally.attempts, 'attempt')}")
    # A server that says when it will be back knows better than the backoff.
    asked = _asked_wait(profile, headers, now) if profile.server_error_retry_after else None
    wait = profile.backoff.delay(tally.attempts, random) if asked is None else asked
    return Wait(wait, f"HTTP {answer.status}", tally)


def _after_rate_limit(
    profile: Profile, tally: Tally, status: int, headers: httpx.Headers, now: float
) -> Wait | GiveUp:
    wait = _rate_limit_wait(profile, headers, now)
    if profile.rate_limit_waits is None:
        tally = replace(tally, attempts=tally.attempts + 1)
        spent = tally.attempts >= profile.max_attempts
        because = f"after {plural(tally.attempts, 'attempt')}"
    else:
        spent = tally.throttled >= profile.rate_limit_waits
        because = f"still rate limited after {tally.throttled} waits"
        if not spent:
            tally = replace(tally, throttled=tally.throttled + 1)
    if wait is None:
        return GiveUp(tally, f"the rate limit lasts longer than {profile.max_wait:g} s", rate_limited=True)
    if spent:
        return GiveUp(tally, because, rate_limited=True)
    return Wait(wait, f"rate limited (HTTP {status})", tally, rate_limited=True, paced=profile.paced)


def _rate_limited(profile: Profile, answer: Answer, headers: httpx.Headers) -> bool:
    """Whether the API refused the request for a rate limit: a 429, or (GitHub) a 403 that carries
    Retry-After, `x-ratelimit-remaining: 0` or a message about the rate limit ("You have exceeded
    a secondary rate limit"). A 403 without any of them is a refusal of the credentials."""
    if answer.status == 429:
        return True
    return (
        profile.rate_limited_403
        and answer.status == 403
        and (
            "retry-after" in headers
            or headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in answer.message.lower()
        )
    )


def _rate_limit_wait(profile: Profile, headers: httpx.Headers, now: float) -> float | None:
    """The wait a rate limit asks for; None when it lasts longer than worth waiting for."""
    # GitHub's order: Retry-After; else, with no requests left, the reset time; else the default.
    if (asked := _asked_wait(profile, headers, now)) is not None:
        return asked
    if profile.read_ratelimit_reset and headers.get("x-ratelimit-remaining") == "0":
        reset = _finite(headers.get("x-ratelimit-reset"))
        if reset is not None:
            wait = max(reset - now, 0.0) + 1.0
            return wait if wait <= profile.max_wait else None
    return profile.rate_limit_wait


def _asked_wait(profile: Profile, headers: httpx.Headers, now: float) -> float | None:
    asked = retry_after_seconds(headers.get("retry-after"), now, dates=profile.retry_after_dates)
    return None if asked is None else min(asked, profile.max_wait)


def retry_after_seconds(value: str | None, now: float, *, dates: bool = True) -> float | None:
    """The wait a `Retry-After` header asks for (at least 0); None when absent or unreadable.

    `value` is delta-seconds or, where `dates`, an HTTP date measured against `now` (epoch
    seconds). Without `dates`, only a finite number of seconds is read.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        if not dates:
            return None
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000" means UTC without saying so
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if math.isnan(seconds) or (not dates and math.isinf(seconds)):
        return None
    return max(seconds, 0.0)


def _finite(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _failed(profile: Profile, tally: Tally, arrived: bool) -> Tally:
    return replace(
        tally,
        attempts=tally.attempts + 1,
        maybe_applied=tally.maybe_applied or (profile.may_apply and arrived),
    )
