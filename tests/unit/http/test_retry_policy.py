"""The one retry policy, as a table: what happened to a request, and what is done next (wait this
long, or give up), for Sendcloud's API, its OAuth2 token endpoint and GitHub's API."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from statusync.github.rest import RETRY as GITHUB
from statusync.http.retry_policy import Answer, GiveUp, Loss, Lost, Profile, Tally, Wait, decide, loss_of
from statusync.sendcloud.retry import API as SENDCLOUD
from statusync.sendcloud.retry import TOKEN_ENDPOINT

NOW = 1_767_225_600.0  # the wall clock: 2026-01-01T00:00:00Z
LIMITED = "rate limited (HTTP 429)"
SECONDARY = "You have exceeded a secondary rate limit"


def http_date(after: float) -> str:
    return email.utils.formatdate(NOW + after, usegmt=True)


def none_left(reset_after: float) -> dict[str, str]:
    """GitHub's primary rate limit spent, until `reset_after` seconds from now."""
    return {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + reset_after)}


def limited(seconds: float, tally: Tally, status: int = 429, paced: bool = False) -> Wait:
    return Wait(seconds, f"rate limited (HTTP {status})", tally, rate_limited=True, paced=paced)


# (profile, method, tally so far, what happened, the decision). The backoff's random is 0.5:
# Sendcloud's waits are then 3/4 of each step (0.375 s, 0.75 s, 1.5 s, ... up to 7.5 s).
ROWS: dict[str, tuple[Profile, str, Tally, Answer | Lost, Wait | GiveUp]] = {
    # Sendcloud's 429: the account's pace waits what the server asks, capped; 8 waits per request,
    # counted apart from the attempts.
    "sendcloud 429 with Retry-After": (
        SENDCLOUD,
        "POST",
        Tally(),
        Answer(429, {"Retry-After": "3"}),
        limited(3.0, Tally(throttled=1), paced=True),
    ),
    "sendcloud 429 without Retry-After": (
        SENDCLOUD,
        "POST",
        Tally(),
        Answer(429),
        limited(2.0, Tally(throttled=1), paced=True),
    ),
    "sendcloud 429 with an unreadable Retry-After": (
        SENDCLOUD,
        "GET",
        Tally(),
        Answer(429, {"Retry-After": "nan"}),
        limited(2.0, Tally(throttled=1), paced=True),
    ),
    "sendcloud 429 with an HTTP-date Retry-After": (
        SENDCLOUD,
        "GET",
        Tally(),
        Answer(429, {"Retry-After": http_date(30)}),
        limited(30.0, Tally(throttled=1), paced=True),
    ),
    "sendcloud 429 asking for an hour waits two minutes": (
        SENDCLOUD,
        "POST",
        Tally(),
        Answer(429, {"Retry-After": "3600"}),
        limited(120.0, Tally(throttled=1), paced=True),
    ),
    "sendcloud 429 spends no attempt": (
        SENDCLOUD,
        "POST",
        Tally(attempts=3, throttled=2),
        Answer(429),
        limited(2.0, Tally(attempts=3, throttled=3), paced=True),
    ),
    "sendcloud 429 after 8 waits": (
        SENDCLOUD,
        "POST",
        Tally(throttled=8),
        Answer(429),
        GiveUp(Tally(throttled=8), "still rate limited after 8 waits", rate_limited=True),
    ),
    # Sendcloud's 5xx: retried for a GET and a POST alike (the upsert may be sent twice), with
    # backoff or the Retry-After; any 5xx but a 503 may have carried the write out.
    "sendcloud 500 on a POST": (
        SENDCLOUD,
        "POST",
        Tally(),
        Answer(500),
        Wait(0.375, "HTTP 500", Tally(1, maybe_applied=True)),
    ),
    "sendcloud 502 on a GET": (
        SENDCLOUD,
        "GET",
        Tally(),
        Answer(502),
        Wait(0.375, "HTTP 502", Tally(1, maybe_applied=True)),
    ),
    "sendcloud 503 did not start": (
        SENDCLOUD,
        "POST",
        Tally(),
        Answer(503),
        Wait(0.375, "HTTP 503", Tally(1)),
    ),
    "sendcloud 503 keeps an earlier maybe-applied": (
        SENDCLOUD,
        "POST",
        Tally(1, maybe_applied=True),
        Answer(503),
        Wait(0.75, "HTTP 503", Tally(2, maybe_applied=True)),
    ),
    "sendcloud 503 with Retry-After": (
        SENDCLOUD,
        "POST",
        Tally(1),
        Answer(503, {"Retry-After": "4"}),
        Wait(4.0, "HTTP 503", Tally(2)),
    ),
    "sendcloud 5xx of the token request is not the write's": (
        SENDCLOUD,
        "POST",
        Tally(),
        Answer(500, carried=False),
        Wait(0.375, "HTTP 500", Tally(1)),
    ),
    "sendcloud backoff is capped at 10 s": (
        SENDCLOUD.with_attempts(20),
        "GET",
        Tally(9),
        Answer(500),
        Wait(7.5, "HTTP 500", Tally(10, maybe_applied=True)),
    ),
    "sendcloud 5xx after 4 attempts": (
        SENDCLOUD,
        "POST",
        Tally(3),
        Answer(503),
        GiveUp(Tally(4), "after 4 attempts"),
    ),
    "sendcloud 404 is final": (SENDCLOUD, "GET", Tally(2), Answer(404), GiveUp(Tally(2))),
    "sendcloud 401 is final": (SENDCLOUD, "POST", Tally(), Answer(401), GiveUp(Tally())),
    # Sendcloud's losses on the wire: retried when transient; a write that was sent and whose
    # answer was lost may have been carried out.
    "sendcloud no connection: nothing sent": (
        SENDCLOUD,
        "POST",
        Tally(),
        Lost(Loss.NO_CONNECTION),
        Wait(0.375, "could not connect", Tally(1)),
    ),
    "sendcloud no answer after sending": (
        SENDCLOUD,
        "POST",
        Tally(),
        Lost(Loss.NO_ANSWER),
        Wait(0.375, "no answer", Tally(1, maybe_applied=True)),
    ),
    "sendcloud no answer to the token request": (
        SENDCLOUD,
        "POST",
        Tally(),
        Lost(Loss.NO_ANSWER, carried=False),
        Wait(0.375, "no answer", Tally(1)),
    ),
    "sendcloud interrupted while sending": (
        SENDCLOUD,
        "POST",
        Tally(),
        Lost(Loss.INTERRUPTED),
        Wait(0.375, "interrupted", Tally(1)),
    ),
    "sendcloud a loss that would recur": (SENDCLOUD, "GET", Tally(), Lost(Loss.FATAL), GiveUp(Tally(1))),
    "sendcloud losses after 4 attempts": (
        SENDCLOUD,
        "POST",
        Tally(3),
        Lost(Loss.NO_ANSWER),
        GiveUp(Tally(4, maybe_applied=True), "after 4 attempts"),
    ),
    # The OAuth2 token endpoint: retried like the API, but a 429 is the request's own wait, and a
    # token request changes nothing; any other answer is the auth's to judge.
    "token 429 waits alone": (TOKEN_ENDPOINT, "POST", Tally(), Answer(429), limited(2.0, Tally(throttled=1))),
    "token 429 with Retry-After": (
        TOKEN_ENDPOINT,
        "POST",
        Tally(1),
        Answer(429, {"Retry-After": "3"}),
        limited(3.0, Tally(1, throttled=1)),
    ),
    "token 429 after 8 waits": (
        TOKEN_ENDPOINT,
        "POST",
        Tally(throttled=8),
        Answer(429),
        GiveUp(Tally(throttled=8), "still rate limited after 8 waits", rate_limited=True),
    ),
    "token 500 changes nothing": (
        TOKEN_ENDPOINT,
        "POST",
        Tally(),
        Answer(500),
        Wait(0.375, "HTTP 500", Tally(1)),
    ),
    "token 503 after 4 attempts": (
        TOKEN_ENDPOINT,
        "POST",
        Tally(3),
        Answer(503),
        GiveUp(Tally(4), "after 4 attempts"),
    ),
    "token no answer changes nothing": (
        TOKEN_ENDPOINT,
        "POST",
        Tally(),
        Lost(Loss.NO_ANSWER),
        Wait(0.375, "no answer", Tally(1)),
    ),
    "token 400 refusal is final": (TOKEN_ENDPOINT, "POST", Tally(), Answer(400), GiveUp(Tally())),
    "token 401 refusal is final": (TOKEN_ENDPOINT, "POST", Tally(1), Answer(401), GiveUp(Tally(1))),
    # GitHub: three attempts in all, 1 s then 2 s apart; a POST is never sent again once it may
    # have arrived.
    "github 502 on a GET": (GITHUB, "GET", Tally(), Answer(502), Wait(1.0, "HTTP 502", Tally(1))),
    "github 502 on a GET, again": (GITHUB, "GET", Tally(1), Answer(502), Wait(2.0, "HTTP 502", Tally(2))),
    "github 502 on a GET, third": (
        GITHUB,
        "GET",
        Tally(2),
        Answer(502),
        GiveUp(Tally(3), "after 3 attempts"),
    ),
    "github 502 on a PATCH": (GITHUB, "PATCH", Tally(), Answer(502), Wait(1.0, "HTTP 502", Tally(1))),
    "github 502 on a POST": (GITHUB, "POST", Tally(), Answer(502), GiveUp(Tally(1))),
    "github 501 is final": (GITHUB, "GET", Tally(), Answer(501), GiveUp(Tally())),
    "github 503 Retry-After is not read": (
        GITHUB,
        "GET",
        Tally(),
        Answer(503, {"Retry-After": "30"}),
        Wait(1.0, "HTTP 503", Tally(1)),
    ),
    "github no connection on a POST": (
        GITHUB,
        "POST",
        Tally(),
        Lost(Loss.NO_CONNECTION),
        Wait(1.0, "could not connect", Tally(1)),
    ),
    "github no answer on a POST": (GITHUB, "POST", Tally(), Lost(Loss.NO_ANSWER), GiveUp(Tally(1))),
    "github interrupted POST": (GITHUB, "POST", Tally(), Lost(Loss.INTERRUPTED), GiveUp(Tally(1))),
    "github any loss on a GET": (GITHUB, "GET", Tally(), Lost(Loss.FATAL), Wait(1.0, "failed", Tally(1))),
    "github losses after 3 attempts": (
        GITHUB,
        "GET",
        Tally(2),
        Lost(Loss.NO_ANSWER),
        GiveUp(Tally(3), "after 3 attempts"),
    ),
    # GitHub's rate limits, primary and secondary: a 429, or a 403 that says so; retried whatever
    # the method, never longer than a minute; they spend the attempts.
    "github 403 with Retry-After": (
        GITHUB,
        "POST",
        Tally(),
        Answer(403, {"retry-after": "7"}),
        limited(7.0, Tally(1), 403),
    ),
    "github 403 with no requests left": (
        GITHUB,
        "PATCH",
        Tally(),
        Answer(403, none_left(10)),
        limited(11.0, Tally(1), 403),
    ),
    "github 403 resetting in an hour": (
        GITHUB,
        "GET",
        Tally(),
        Answer(403, none_left(3600)),
        GiveUp(Tally(1), "the rate limit lasts longer than 60 s", rate_limited=True),
    ),
    "github 403 secondary rate limit message": (
        GITHUB,
        "POST",
        Tally(),
        Answer(403, message=SECONDARY),
        limited(60.0, Tally(1), 403),
    ),
    "github 403 refusal of the token": (
        GITHUB,
        "GET",
        Tally(),
        Answer(403, message="Resource not accessible by integration"),
        GiveUp(Tally()),
    ),
    "github 429 asking for an hour waits a minute": (
        GITHUB,
        "GET",
        Tally(),
        Answer(429, {"retry-after": "3600"}),
        limited(60.0, Tally(1)),
    ),
    "github Retry-After in seconds only": (
        GITHUB,
        "GET",
        Tally(),
        Answer(429, {"retry-after": http_date(5)}),
        limited(60.0, Tally(1)),
    ),
    "github 429 on the last attempt": (
        GITHUB,
        "POST",
        Tally(2),
        Answer(429, {"retry-after": "1"}),
        GiveUp(Tally(3), "after 3 attempts", rate_limited=True),
    ),
}


@pytest.mark.parametrize(
    ("profile", "method", "tally", "outcome", "expected"), ROWS.values(), ids=ROWS.keys()
)
def test_the_retry_policy(
    profile: Profile, method: str, tally: Tally, outcome: Answer | Lost, expected: Wait | GiveUp
) -> None:
    assert decide(profile, method, tally, outcome, now=NOW, random=0.5) == expected


@pytest.mark.parametrize(
    ("error", "loss"),
    [
        (httpx.ConnectError, Loss.NO_CONNECTION),
        (httpx.ConnectTimeout, Loss.NO_CONNECTION),
        (httpx.ReadTimeout, Loss.NO_ANSWER),
        (httpx.ReadError, Loss.NO_ANSWER),
        (httpx.RemoteProtocolError, Loss.NO_ANSWER),
        (httpx.WriteTimeout, Loss.INTERRUPTED),
        (httpx.PoolTimeout, Loss.INTERRUPTED),
        (httpx.WriteError, Loss.INTERRUPTED),
        (httpx.ProxyError, Loss.FATAL),
        (httpx.UnsupportedProtocol, Loss.FATAL),
        (httpx.LocalProtocolError, Loss.FATAL),
        (httpx.TooManyRedirects, Loss.FATAL),
    ],
)
def test_how_a_lost_request_is_told(error: type[httpx.HTTPError], loss: Loss) -> None:
    assert loss_of(error("lost")) is loss
