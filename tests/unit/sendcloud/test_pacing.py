"""Pacing that adapts (AIMD on 429s, the Retry-After honoured by every worker), workers sized to
the limit, and waits that a stop cuts short; all on fake clocks."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import httpx
import pytest

from statusync.errors import ApiError, HostUnreachable, NotSent, StopRun
from statusync.runner.bounded import Workers, per_account, run_bounded, sized
from statusync.sendcloud.client import SendcloudClient
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.pacing import (
    CAUTION,
    DECREASE,
    DOUBLING_SECONDS,
    FIRST_WORKERS,
    FLOOR,
    MOST_WORKERS,
    SHORT_WAIT,
    SLOW_DOUBLING_SECONDS,
    Pace,
    interruptible,
)
from statusync.sendcloud.ratelimit import CLIENT_BURST, TokenBucket
from tests.support.fake_time import FakeTime

MAPPING = {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}


def pace(per_minute: int, t: FakeTime, stop: threading.Event | None = None) -> Pace:
    bucket = TokenBucket(per_minute, CLIENT_BURST, clock=t.clock, sleep=t.sleep)
    return Pace(bucket, stop=stop or threading.Event(), what="POST requests")


def test_a_hold_pauses_every_caller_until_the_retry_after_then_lets_one_go_first() -> None:
    t = FakeTime()
    bucket = TokenBucket(60, 10, clock=t.clock, sleep=t.sleep)
    bucket.hold(30.0)
    assert bucket.try_acquire() == pytest.approx(30.0)  # a second worker waits as long
    assert bucket.acquire() == pytest.approx(30.0)
    assert bucket.try_acquire() == pytest.approx(1.0)  # then the rate, not the old burst
    bucket.hold(20.0)  # a hold ending earlier than the one under way changes nothing
    assert bucket.try_acquire() == pytest.approx(1.0)


def test_a_429_halves_the_pace_once_per_episode() -> None:
    t = FakeTime()
    p = pace(600, t)
    first, second = p.acquire(), p.acquire()
    assert p.throttled(2.0, first)  # the first 429: every worker waits 2 s, the pace halves
    assert p.per_minute() == pytest.approx(600 * DECREASE)
    assert not p.throttled(2.0, second)  # sent before the drop: says nothing new
    assert p.per_minute() == pytest.approx(300)
    after = p.acquire()
    assert after == pytest.approx(2.0)  # waited out the Retry-After
    assert p.throttled(1.0, after)  # sent at the lower pace and still too fast: halves again
    assert p.per_minute() == pytest.approx(150)


def test_the_pace_recovers_gradually_after_the_pause_and_never_passes_the_settings() -> None:
    t = FakeTime()
    p = pace(600, t)
    p.throttled(3.0, p.acquire())
    assert p.per_minute() == pytest.approx(300)
    t.now = 3.0  # the pause is over: the climb starts
    assert p.per_minute() == pytest.approx(300)
    t.now = 3.0 + DOUBLING_SECONDS / 2
    assert p.per_minute() == pytest.approx(300 * 2**0.5)
    t.now = 1e12
    assert p.per_minute() == pytest.approx(600)


def test_after_a_429_the_pace_climbs_quickly_to_just_under_the_rate_that_drew_it_then_slowly() -> None:
    t = FakeTime()
    p = pace(600, t)
    p.throttled(0.0, p.acquire())  # drawn at 600/min: halved to 300
    knee = DOUBLING_SECONDS * math.log2(CAUTION * 600 / 300)
    t.now = knee
    assert p.per_minute() == pytest.approx(CAUTION * 600)
    t.now = knee + SLOW_DOUBLING_SECONDS * math.log2(1 / CAUTION)
    assert p.per_minute() == pytest.approx(600)  # back at the ceiling only after minutes
    assert t.now > 60


def test_a_server_far_below_the_settings_refuses_few_requests_once_the_pace_settles() -> None:
    # The server allows 30 a minute, the settings 1000: after the first 429s, the pace must stay
    # near 30/min and not climb past it again and again.
    t = FakeTime()
    p = pace(1000, t)
    server = TokenBucket(30, clock=t.clock, sleep=t.sleep)
    outcomes = []
    while t.now < 3600:
        sent = p.acquire()
        wait = server.try_acquire()
        if wait > 0:
            p.throttled(float(math.ceil(wait)), sent)
        if t.now > 600:  # settled
            outcomes.append(wait > 0)
    assert sum(outcomes) / len(outcomes) < 0.04
    assert len(outcomes) > 0.8 * 30 * 50  # and still close to the server's limit


def test_the_climb_is_in_proportion_to_the_pace_a_429_left() -> None:
    # A server far below the settings: halved from 1000/min down to its 30/min, the pace must
    # not climb past 30 again within a second, as a climb by a share of 1000/min would.
    t = FakeTime()
    p = pace(1000, t)
    while p.per_minute() > 30:
        t.now += 0.001
        p.throttled(0.0, t.now)
    low = p.per_minute()
    t.now += 1.0
    assert p.per_minute() == pytest.approx(low * 2 ** (1 / DOUBLING_SECONDS))
    t.now += DOUBLING_SECONDS / 2 - 1.0
    assert p.per_minute() == pytest.approx(2**0.5 * low)


def test_the_pace_never_drops_below_its_floor() -> None:
    t = FakeTime()
    p = pace(640, t)
    for _ in range(20):
        t.now += 0.001  # each 429 from a request sent after the last drop
        p.throttled(0.0, t.now)
    assert p.per_minute() == pytest.approx(640 * FLOOR, abs=0.1)


def test_requests_go_out_at_the_slowed_pace() -> None:
    t = FakeTime()
    p = pace(120, t)  # 2 a second, a burst of 14
    for _ in range(CLIENT_BURST):
        p.acquire()
    p.throttled(5.0, t.now)  # now 1 a second, after a 5 s pause, then climbing back
    sent = [p.acquire() for _ in range(4)]
    assert sent[0] == pytest.approx(5.0)
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert all(0.85 < gap <= 1.0 for gap in gaps) and gaps == sorted(gaps, reverse=True)


def test_waiting_on_the_limit_is_shown_at_warning_without_flooding(caplog: pytest.LogCaptureFixture) -> None:
    t = FakeTime()
    p = pace(6, t)  # one every 10 s once the burst of 6 is gone
    with caplog.at_level(logging.WARNING, logger="statusync.api"):
        for _ in range(6 + 3):
            p.acquire()
    shown = [r.getMessage() for r in caplog.records]
    assert shown[0] == "waiting 10 s for the rate limit of POST requests (6.0/min)"
    assert len(shown) == 3  # one per long wait, and those are 10 s apart


@pytest.mark.parametrize(
    ("per_minute", "latency", "expected"),
    [
        (3000, 0.02, 2),  # 50/s × 20 ms × 1.25 headroom: 2 under way reach the limit
        (6000, 0.02, 3),
        (100, 0.3, 1),
        (6000, 0.2, 25),  # more than the burst when the latency asks for it ...
        (60000, 0.02, 25),
        (100, 60.0, MOST_WORKERS),  # ... yet a bounded number of threads
    ],
)
def test_workers_follow_littles_law(per_minute: int, latency: float, expected: int) -> None:
    t = FakeTime()
    p = pace(per_minute, t)
    assert p.workers() == FIRST_WORKERS  # nothing measured yet: a few, not a burst
    p.observe(latency)
    burst = int(p.bucket.capacity)
    assert p.workers() == min(MOST_WORKERS, expected + burst)  # the burst is ready
    while p.bucket.tokens >= 1:
        p.acquire()
    assert p.workers() == expected


def test_parallelism_caps_the_workers_and_sums_the_accounts() -> None:
    t = FakeTime()
    a, b = pace(6000, t), pace(6000, t)
    for p in (a, b):
        p.observe(0.02)
        while p.bucket.tokens >= 1:
            p.acquire()

    class Client:
        def __init__(self, p: Pace) -> None:
            self.p = p

        def pace(self, method: str) -> Pace:
            return self.p

    both = sized(None, [Client(a), Client(b)], "POST")
    assert both.limit() == 6 and both.most == 2 * MOST_WORKERS
    capped = sized(4, [Client(a), Client(b)], "POST")
    assert capped.limit() == 4 and capped.most == 4
    assert sized(3, [object()], "POST").limit() == 3  # nothing to size it by: as asked


def test_each_account_gets_the_workers_its_own_pace_needs() -> None:
    t = FakeTime()
    fast, slow = pace(60000, t), pace(600, t)
    fast.observe(0.02)
    slow.observe(0.02)
    for p in (fast, slow):
        while p.bucket.tokens >= 1:
            p.acquire()

    class Client:
        def __init__(self, p: Pace) -> None:
            self.p = p

        def pace(self, method: str) -> Pace:
            return self.p

    lanes = per_account(None, {"fast": Client(fast), "slow": Client(slow)}, "POST", str)
    assert lanes.workers["fast"].limit() == 25 and lanes.workers["slow"].limit() == 1
    assert lanes.most == 2 * MOST_WORKERS
    assert per_account(4, {"fast": Client(fast), "slow": Client(slow)}, "POST", str).most == 4


def test_the_runner_follows_a_changing_limit() -> None:
    limit = [1]
    running, peak = 0, []
    lock = threading.Lock()

    def work(item: int) -> int:
        nonlocal running
        with lock:
            running += 1
            peak.append(running)
        if item == 5:
            limit[0] = 3  # the pace learned it needs more under way
        with lock:
            running -= 1
        return item

    assert sorted(run_bounded(range(30), work, Workers(lambda: limit[0], 8))) == list(range(30))
    assert max(peak[:5]) == 1 and max(peak) <= 3


def test_a_stop_during_a_short_wait_is_seen_when_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    # A wait for the next token at thousands a minute is a plain sleep of a few ms: a stop that
    # comes meanwhile ends it as NotSent all the same, so no request leaves after the stop.
    stop = threading.Event()
    wait = interruptible(time.sleep, stop)
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the stop comes while the worker sleeps
        slept.append(seconds)
        stop.set()

    monkeypatch.setattr(time, "sleep", sleep)
    with pytest.raises(NotSent):
        wait(SHORT_WAIT / 2)
    assert slept == [SHORT_WAIT / 2]
    with pytest.raises(NotSent):
        wait(SHORT_WAIT / 2)
    assert len(slept) == 1  # a stop already set: no sleep at all


def test_a_stop_cuts_every_wait_short() -> None:
    stop = threading.Event()
    t = FakeTime()
    p = pace(6, t, stop)
    for _ in range(6):
        p.acquire()  # the burst
    stop.set()
    with pytest.raises(NotSent):
        p.acquire()  # the bucket's wait ends at once
    assert t.waits == []
    real = interruptible(time.sleep, stop)
    with pytest.raises(NotSent):
        real(3600)  # returns at once: the event is set
    fake_waits: list[float] = []
    with pytest.raises(NotSent):
        interruptible(fake_waits.append, stop)(5)
    assert fake_waits == []


class Api:
    """A client over a scripted transport, on a fake clock."""

    def __init__(self, *steps: Any, stop: threading.Event | None = None) -> None:
        self.t = FakeTime()
        self.requests: list[httpx.Request] = []
        self.stop = stop or threading.Event()
        self._steps = steps
        bucket = TokenBucket(100, CLIENT_BURST, clock=self.t.clock, sleep=self.t.sleep)
        self.client = SendcloudClient(
            "https://panel.sendcloud.sc/api/v3",
            Credentials("pk-test-1234", "sk-test-5678"),
            post_limiter=bucket,
            get_limiter=TokenBucket(1000, clock=self.t.clock, sleep=self.t.sleep),
            transport=httpx.MockTransport(self._handle),
            sleep=self.t.sleep,
            random=lambda: 0.5,
            stop=self.stop,
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self._steps[min(len(self.requests), len(self._steps)) - 1]
        if isinstance(step, type):
            raise step("boom", request=request)
        if callable(step):
            return step()  # type: ignore[no-any-return]
        return httpx.Response(step, headers={"Retry-After": "5"} if step == 429 else {})


def test_a_429_slows_every_request_of_the_account(caplog: pytest.LogCaptureFixture) -> None:
    api = Api(429, 200)
    with caplog.at_level(logging.WARNING, logger="statusync.api"):
        api.client.upsert_mapping(1, MAPPING)
    post = api.client.pace("POST")
    assert api.t.now == pytest.approx(5.0)  # the Retry-After, waited in the shared bucket
    assert post.per_minute() == pytest.approx(50.0)
    assert api.client.pace("GET").per_minute() == pytest.approx(1000)  # GETs are not slowed
    assert "rate limited (HTTP 429): all POST requests of this account wait 5.0 s" in caplog.text


@pytest.mark.parametrize(
    ("steps", "maybe"),
    [
        ((httpx.ReadTimeout,), True),  # sent; the answer never came
        ((httpx.RemoteProtocolError,), True),  # sent; the connection dropped
        ((httpx.ConnectError,), False),  # never sent
        ((502,), True),  # a gateway error: the API may have done it
        ((503,), False),
        ((httpx.ReadTimeout, 400), True),  # an earlier attempt may have landed
        ((400,), False),
    ],
)
def test_a_failure_says_whether_the_write_may_have_been_applied(steps: tuple[Any, ...], maybe: bool) -> None:
    api = Api(*steps)
    with pytest.raises(ApiError) as caught:
        api.client.upsert_mapping(1, MAPPING)
    assert caught.value.maybe_applied is maybe


def test_after_a_stop_no_request_leaves() -> None:
    api = Api(200)
    api.stop.set()
    sent: list[bool] = []
    with pytest.raises(NotSent) as caught:
        api.client.upsert_mapping(1, MAPPING, on_send=lambda: sent.append(True))
    assert api.requests == [] and sent == [] and not caught.value.maybe_applied


def test_a_stop_during_a_backoff_ends_it_and_says_the_first_attempt_may_have_landed() -> None:
    stop = threading.Event()

    def then_stop() -> httpx.Response:
        stop.set()  # Ctrl-C while this attempt is on the wire
        raise httpx.ReadTimeout("slow")

    api = Api(then_stop, 200, stop=stop)
    with pytest.raises(NotSent) as caught:
        api.client.upsert_mapping(1, MAPPING)
    assert len(api.requests) == 1 and caught.value.maybe_applied
    assert "not sent again: the run is stopping" in str(caught.value)


def test_a_host_that_takes_no_connection_is_given_up_on_after_a_few_attempts() -> None:
    api = Api(httpx.ConnectError)
    with pytest.raises(ApiError) as first:
        api.client.upsert_mapping(1, MAPPING)
    # The first integration's own error, naming where it tried.
    assert str(first.value).startswith(
        "POST /shop-order-statuses/mapping (integration 1): could not connect after 4 attempts to "
        "https://panel.sendcloud.sc (ConnectError: boom)"
    )
    assert not isinstance(first.value, StopRun)
    with pytest.raises(HostUnreachable) as second:  # gives up at its second failed connection
        api.client.upsert_mapping(2, MAPPING)
    assert len(api.requests) == 6 and not second.value.maybe_applied
    assert str(second.value) == (
        "the API at https://panel.sendcloud.sc could not be reached (6 connections failed in a row, "
        "the last: ConnectError: boom); nothing more was sent. Check STATUSYNC_API_URL / api_url "
        "in statusync.yaml, or the network, then run the command again"
    )
    sent: list[bool] = []
    with pytest.raises(HostUnreachable):  # no request leaves any more, and no intent is made
        api.client.upsert_mapping(3, MAPPING, on_send=lambda: sent.append(True))
    assert len(api.requests) == 6 and sent == []


def test_any_answer_between_failed_connections_keeps_the_host() -> None:
    # A request answered (even 503) between failed connections: a flaky host, not a gone one.
    api = Api(*([httpx.ConnectError] * 3 + [503]) * 4, httpx.ConnectError, 200)
    for integration_id in (1, 2, 3, 4):
        with pytest.raises(ApiError) as caught:
            api.client.upsert_mapping(integration_id, MAPPING)
        assert not isinstance(caught.value, HostUnreachable)
    api.client.upsert_mapping(5, MAPPING)


def test_a_timeout_after_connecting_is_no_sign_of_a_host_gone() -> None:
    # The host took the connection and was slow to answer: the streak of failed connections
    # starts again after it (and the write stays uncertain, as any timed-out write).
    api = Api(
        httpx.ConnectError,
        httpx.ConnectError,
        httpx.ConnectError,
        httpx.ReadTimeout,
        *[httpx.ConnectError] * 4,
        *[httpx.ConnectError] * 2,
    )
    with pytest.raises(ApiError) as first:
        api.client.upsert_mapping(1, MAPPING)
    assert first.value.maybe_applied and not isinstance(first.value, HostUnreachable)
    with pytest.raises(ApiError) as second:
        api.client.upsert_mapping(2, MAPPING)
    assert not isinstance(second.value, HostUnreachable)  # 4 in a row: not yet
    with pytest.raises(HostUnreachable):
        api.client.upsert_mapping(3, MAPPING)  # 6 in a row, and its own second one
    assert len(api.requests) == 10


def test_workers_waiting_for_a_token_wait_in_turn_so_that_each_token_wakes_one() -> None:
    t = FakeTime()
    lock = threading.Lock()
    sleeping: list[int] = [0]  # workers inside the bucket's wait right now
    most: list[int] = []
    first, second = threading.Event(), threading.Event()
    release = threading.Event()

    def held(seconds: float) -> None:
        with lock:
            sleeping[0] += 1
            most.append(sleeping[0])
            (second if first.is_set() else first).set()
        release.wait(5)
        with lock:
            t.now += seconds
            sleeping[0] -= 1

    p = Pace(TokenBucket(60, 1, clock=t.clock, sleep=held), stop=threading.Event())
    p.acquire()  # the one token of the burst
    taken: list[float] = []
    workers = [threading.Thread(target=lambda: taken.append(p.acquire())) for _ in range(3)]
    for worker in workers:
        worker.start()
    assert first.wait(5)
    # The others wait for their turn, not in the bucket's wait: a real wait only to see that none
    # of them enters it (without turns, all three sleep at once and wake together for one token).
    assert not second.wait(0.2)
    release.set()
    for worker in workers:
        worker.join(5)
    assert len(taken) == 3 and max(most) == 1
