import threading

import pytest

from statusync.runner.bounded import run_bounded


@pytest.mark.parametrize("parallelism", [1, 3, 8])
def test_every_item_once_and_exactly_parallelism_at_once(parallelism: int) -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    full = threading.Event()  # set once `parallelism` items run at the same time

    def work(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            if running == parallelism:
                full.set()
        full.wait(5)  # hold the first ones until the pool is full
        with lock:
            running -= 1
        return item * 2

    seen: list[int] = []
    results = run_bounded(range(50), work, parallelism, seen.append)
    assert sorted(results) == [i * 2 for i in range(50)]
    assert seen == results  # on_done sees each result, in completion order
    assert peak == parallelism


def test_an_exception_in_work_propagates_and_stops_the_rest() -> None:
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 0:
            raise RuntimeError("boom")
        return item

    with pytest.raises(RuntimeError, match="boom"):
        run_bounded(range(1000), work, 2)
    assert len(started) < 1000  # queued work was cancelled, not run


def test_nothing_to_do() -> None:
    assert run_bounded([], lambda x: x, 4) == []


def test_a_stop_ends_the_run_at_a_safe_point_after_the_work_under_way() -> None:
    from statusync.runner.bounded import stop_running

    assert not stop_running()  # no run under way: the caller must interrupt by itself
    started: list[int] = []
    finished: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 3:
            assert stop_running()  # as a signal handler would, while the run is under way
        finished.append(item)
        return item

    with pytest.raises(KeyboardInterrupt):
        run_bounded(range(1000), work, 2)
    assert sorted(started) == sorted(finished)  # nothing was cut off halfway
    assert len(started) < 1000
    assert not stop_running()  # the run is over
