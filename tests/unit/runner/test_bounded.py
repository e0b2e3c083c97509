import threading

import pytest

from statusync.runner import bounded
from statusync.runner.bounded import Lanes, Workers, run_bounded


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


def test_accounts_are_served_side_by_side_whatever_the_order_of_the_items() -> None:
    # Each account's items together, as when each account's files sit in a folder of their own;
    # one worker per account. Every item of "a" waits until one of "b" runs beside it: served
    # from one queue in item order, "b" would only start once "a" were done.
    items = [("a", n) for n in range(5)] + [("b", n) for n in range(5)]
    lock = threading.Lock()
    running: dict[str, int] = {"a": 0, "b": 0}
    peaks: list[dict[str, int]] = []
    b_started = threading.Event()

    def work(item: tuple[str, int]) -> tuple[str, int]:
        with lock:
            running[item[0]] += 1
            peaks.append(dict(running))
        if item[0] == "b":
            b_started.set()
        else:
            assert b_started.wait(5), "the second account was not served beside the first"
        with lock:
            running[item[0]] -= 1
        return item

    lanes: Lanes[tuple[str, int]] = Lanes(
        lambda item: item[0], {"a": Workers.fixed(1), "b": Workers.fixed(1)}, most=8
    )
    assert sorted(run_bounded(items, work, lanes)) == sorted(items)
    assert all(p["a"] <= 1 and p["b"] <= 1 for p in peaks)  # each within its own workers


def test_the_run_wide_cap_holds_across_accounts() -> None:
    lock = threading.Lock()
    running, peak = 0, 0
    release = threading.Event()

    def work(item: tuple[str, int]) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            if running == 3:
                release.set()
        release.wait(5)
        with lock:
            running -= 1
        return item[1]

    items = [(account, n) for account in "abcd" for n in range(6)]
    lanes: Lanes[tuple[str, int]] = Lanes(lambda i: i[0], {a: Workers.fixed(4) for a in "abcd"}, most=3)
    assert sorted(run_bounded(items, work, lanes)) == sorted(n for _, n in items)
    assert peak == 3


def test_results_are_reported_on_the_calling_thread() -> None:
    # The console is not shared between threads: every on_done runs where run_bounded was called.
    threads: set[int] = set()
    run_bounded(range(40), lambda i: i, 8, lambda _: threads.add(threading.get_ident()))
    assert threads == {threading.get_ident()}


def test_threads_the_system_refuses_leave_the_work_to_those_it_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = threading.Thread.start
    started = 0

    def start_two_at_most(thread: threading.Thread) -> None:
        nonlocal started
        if thread.name.startswith("statusync_") and started >= 2:
            raise RuntimeError("can't start new thread")
        started += 1
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", start_two_at_most)
    assert sorted(run_bounded(range(30), lambda i: i, 8)) == list(range(30))


def test_no_thread_at_all_is_an_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(thread: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    with pytest.raises(RuntimeError, match="can't start new thread"):
        run_bounded(range(5), lambda i: i, 2)


@pytest.mark.parametrize("fails_at", [1, 4])
def test_a_failure_outside_the_work_ends_the_run_rather_than_hanging_it(
    monkeypatch: pytest.MonkeyPatch, fails_at: int
) -> None:
    # The first ask is the calling thread's, as the run starts; later ones are the workers'.
    monkeypatch.setattr(bounded, "_LIMIT_FOR", 0.0)  # the limit asked for every item
    asked = 0

    def limit() -> int:
        nonlocal asked
        asked += 1
        if asked >= fails_at:
            raise ValueError("no pace")
        return 2

    with pytest.raises(ValueError, match="no pace"):
        run_bounded(range(100), lambda i: i, Workers(limit, 2))
