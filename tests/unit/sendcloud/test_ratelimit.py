import pytest

from statusync.sendcloud.ratelimit import CLIENT_BURST, TokenBucket
from tests.support.fake_time import FakeTime


def send_all(count: int, per_minute: int, burst: int | None = None) -> list[float]:
    """When each of `count` requests would go out through a bucket."""
    t = FakeTime()
    bucket = TokenBucket(per_minute, burst, clock=t.clock, sleep=t.sleep)
    times = []
    for _ in range(count):
        bucket.acquire()
        times.append(t.now)
    return times


def most_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for u in times if t <= u < t + window - 1e-9) for t in times)


def test_sendclouds_post_limit_a_burst_then_the_steady_rate() -> None:
    times = send_all(215, 100)
    assert times[:15] == [0.0] * 15  # the burst
    assert times[15] == pytest.approx(0.6)  # then one every 60/100 s
    assert times[-1] == pytest.approx(200 * 0.6)
    assert most_in_window(times, 1.0) <= 15 + 1


@pytest.mark.parametrize("per_minute, burst", [(100, 15), (1000, 15), (100, CLIENT_BURST), (10, None)])
def test_never_more_than_the_burst_plus_the_rate_in_any_window(per_minute: int, burst: int | None) -> None:
    times = send_all(300, per_minute, burst)
    capacity = min(burst if burst is not None else 15, per_minute)
    for window in (1.0, 10.0, 60.0):
        assert most_in_window(times, window) <= capacity + per_minute * window / 60 + 1e-6


def test_a_client_bucket_never_outruns_the_apis_bucket() -> None:
    # The client keeps one token in hand, so a request that arrives a little early still finds
    # a token in the API's bucket of the same rate.
    client = send_all(200, 100, CLIENT_BURST)
    t = FakeTime()
    api = TokenBucket(100, 15, clock=t.clock, sleep=t.sleep)
    for sent in client:
        t.now = max(t.now, sent - 0.05)  # arriving up to 50 ms "early" relative to the client
        assert api.try_acquire() == 0


def test_try_acquire_says_how_long_to_wait() -> None:
    t = FakeTime()
    bucket = TokenBucket(60, 2, clock=t.clock, sleep=t.sleep)
    assert bucket.try_acquire() == 0 and bucket.try_acquire() == 0
    assert bucket.try_acquire() == pytest.approx(1.0)
    t.now = 0.5
    assert bucket.try_acquire() == pytest.approx(0.5)


def test_burst_never_exceeds_the_per_minute_limit() -> None:
    assert TokenBucket(5).capacity == 5


def test_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
