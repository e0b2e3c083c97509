"""Bounded parallelism for API-bound work (apply, drift, import): the rate limit sets the pace,
enough workers to reach it hide the latency, and a stop ends the run at a safe point.

With several accounts, each is served from a queue of its own, round-robin, with as many workers
as its own pace needs: the accounts' buckets fill side by side, so the run's rate is the sum of
their limits whatever the order of the files (one queue in file order, with each account's files
in a folder of their own, had every worker wait on one account's bucket at a time)."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from statusync.sendcloud.pacing import MOST_WORKERS, STOP, Pace

T = TypeVar("T")
R = TypeVar("R")

# Without a pace to size the workers by (tests with fake clients), as many as before "auto".
DEFAULT_PARALLELISM = 4
# How often the runner looks whether it was asked to stop (Ctrl-C, SIGTERM).
_POLL = 0.05
_running = 0  # bounded runs under way; only the main thread starts them


@dataclass(frozen=True)
class Workers:
    """How many items may be under way at once: `limit()` (asked again whenever one finishes),
    never more than `most`."""

    limit: Callable[[], int]
    most: int

    @classmethod
    def fixed(cls, count: int) -> Workers:
        count = max(1, count)
        return cls(lambda: count, count)


@dataclass(frozen=True)
class Lanes(Generic[T]):
    """Items served per account: `account(item)` names its lane, `workers[lane]` bounds the items
    of that lane under way, and `most` the items under way in all (--parallelism)."""

    account: Callable[[T], str]
    workers: Mapping[str, Workers]
    most: int


@runtime_checkable
class Paced(Protocol):
    """A client whose pace sizes the workers (SendcloudClient)."""

    def pace(self, method: str) -> Pace: ...


def sized(parallelism: int | None, clients: Iterable[object], method: str) -> Workers:
    """The workers for `method` requests of `clients`, served from one queue: as many as their
    paces need to reach their rates at the latency they measure, at most `parallelism` when
    given (--parallelism), and never more than MOST_WORKERS threads per client."""
    paces = [c.pace(method) for c in clients if isinstance(c, Paced)]
    if not paces:
        return Workers.fixed(parallelism or DEFAULT_PARALLELISM)
    most = MOST_WORKERS * len(paces)
    if parallelism is not None:
        most = min(most, parallelism)
    most = max(1, most)
    return Workers(lambda: max(1, min(most, sum(p.workers() for p in paces))), most)


def per_account(
    parallelism: int | None, clients: Mapping[str, object], method: str, account: Callable[[T], str]
) -> Lanes[T]:
    """The workers for `method` requests, a lane per account of `clients` (`account(item)` is the
    account of an item): each sized by its own pace, all together at most `parallelism` when
    given. Without paces to size them by, `parallelism` (or DEFAULT_PARALLELISM) in all."""
    lanes = {name: sized(None, [client], method) for name, client in clients.items()}
    paced = any(isinstance(c, Paced) for c in clients.values())
    if not paced:
        most = parallelism or DEFAULT_PARALLELISM
    else:
        most = sum(w.most for w in lanes.values())
        if parallelism is not None:
            most = min(most, parallelism)
    return Lanes(account, lanes, max(1, most))


class RunStopped(KeyboardInterrupt):
    """The run was asked to stop: the items under way finished and their results are here; no
    other item was started. A KeyboardInterrupt, so that whatever does not handle it aborts."""

    def __init__(self, results: list[Any]) -> None:
        super().__init__()
        self.results = results


class _NotStarted(Exception):
    """An item a worker reached after another item had failed: it was never worked on."""


def stop_running() -> bool:
    """Ask the bounded run under way to stop at its next safe point; False when none is, or when
    it was asked already (the caller then interrupts by itself).

    Every wait of the API clients ends at once (statusync.sendcloud.pacing.STOP) and no request
    leaves after it; the requests on the wire finish. A signal handler calls this (through
    statusync.runner.stopping) rather than raising KeyboardInterrupt at whatever line the main
    thread is on: raised inside the thread pool's own locked sections, that exception would
    leave a lock held and the pool's shutdown waiting for it forever.
    """
    if _running == 0 or STOP.is_set():
        return False
    STOP.set()
    return True


def running() -> bool:
    """Whether a bounded run is under way."""
    return _running > 0


def run_bounded(
    items: Iterable[T],
    work: Callable[[T], R],
    parallelism: int | Workers | Lanes[T] | None,
    on_done: Callable[[R], None] = lambda _: None,
) -> list[R]:
    """`work` on every item, a bounded number at once; results in completion order.

    `parallelism`: a fixed count, Workers that adapt, Lanes (a queue and workers per account,
    served round-robin), or None for DEFAULT_PARALLELISM. Items are handed to the pool only as
    workers are free, so that a stop leaves no queued work to cancel. An exception from `work`
    ends the run: no further item is started, and the exception is raised once the items under
    way are finished. A stop asked for by `stop_running` does the same and raises RunStopped
    with the results of every item that finished.
    """
    global _running
    lanes = _lanes(parallelism)
    failed = threading.Event()

    def guarded(item: T) -> R:
        if failed.is_set():
            raise _NotStarted
        try:
            return work(item)
        except BaseException:
            failed.set()
            raise

    queues: dict[str, deque[T]] = {}
    for item in items:
        queues.setdefault(lanes.account(item), deque()).append(item)
    workers = {name: lanes.workers.get(name) or Workers.fixed(DEFAULT_PARALLELISM) for name in queues}
    under_way = dict.fromkeys(queues, 0)
    lane_of: dict[Future[R], str] = {}
    threads = max(1, min(lanes.most, sum(w.most for w in workers.values())))

    results: list[R] = []
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="statusync")
    pending: set[Future[R]] = set()
    # Each item's future lands here when it is done: one wake-up of this thread per batch of
    # finished items, where concurrent.futures.wait added and removed a waiter on every pending
    # future each time (a cost in the number of workers, per item).
    finished: queue.SimpleQueue[Future[R]] = queue.SimpleQueue()
    error: BaseException | None = None

    def start_what_may_start() -> None:
        # Round-robin: one item of each lane in turn that has room, until none has.
        started = True
        while started and error is None and not STOP.is_set():
            started = False
            for name, lane in queues.items():
                if len(pending) >= lanes.most:
                    return
                if lane and under_way[name] < min(workers[name].most, workers[name].limit()):
                    future = pool.submit(guarded, lane.popleft())
                    future.add_done_callback(finished.put)
                    pending.add(future)
                    lane_of[future] = name
                    under_way[name] += 1
                    started = True

    STOP.clear()
    _running += 1
    try:
        while True:
            start_what_may_start()
            if not pending:
                break
            done = _done_within(finished, _POLL)
            pending.difference_update(done)
            if STOP.is_set() and error is None:
                error = RunStopped([])
                failed.set()
            for future in done:
                under_way[lane_of.pop(future)] -= 1
                exc = future.exception()
                if exc is None:
                    results.append(future.result())
                    on_done(results[-1])
                elif not isinstance(exc, _NotStarted):
                    error = error or exc
        if isinstance(error, RunStopped):
            raise RunStopped(results)
        if error is not None:
            raise error
    finally:
        _running -= 1
        pool.shutdown(wait=True, cancel_futures=True)
        # The stop has done its work (the run ends with RunStopped, and the command with it);
        # a client used afterwards in the same process (a test) must not find it still set.
        STOP.clear()
    return results


def _done_within(finished: queue.SimpleQueue[Future[R]], timeout: float) -> list[Future[R]]:
    """The futures done by now, waiting up to `timeout` for the first (none: a stop is looked at)."""
    try:
        done = [finished.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            done.append(finished.get_nowait())
        except queue.Empty:
            return done


def _lanes(parallelism: int | Workers | Lanes[T] | None) -> Lanes[T]:
    if isinstance(parallelism, Lanes):
        return parallelism
    workers = (
        parallelism if isinstance(parallelism, Workers) else Workers.fixed(parallelism or DEFAULT_PARALLELISM)
    )
    return Lanes(lambda _: "", {"": workers}, workers.most)


_END: Any = object()
