"""Bounded parallelism for API-bound work (apply, drift, import): the rate limit sets the pace,
enough workers to reach it hide the latency, and a stop ends the run at a safe point."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from statusync.sendcloud.pacing import STOP, Pace

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


@runtime_checkable
class Paced(Protocol):
    """A client whose pace sizes the workers (SendcloudClient)."""

    def pace(self, method: str) -> Pace: ...


def sized(parallelism: int | None, clients: Iterable[object], method: str) -> Workers:
    """The workers for `method` requests of `clients` (one per account in the run): as many as
    their paces need to reach their rates at the latency they measure, at most `parallelism`
    when given (--parallelism), and never more than their bursts."""
    paces = [c.pace(method) for c in clients if isinstance(c, Paced)]
    if not paces:
        return Workers.fixed(parallelism or DEFAULT_PARALLELISM)
    most = sum(int(p.bucket.capacity) for p in paces)
    if parallelism is not None:
        most = min(most, parallelism)
    most = max(1, most)
    return Workers(lambda: max(1, min(most, sum(p.workers() for p in paces))), most)


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
    parallelism: int | Workers | None,
    on_done: Callable[[R], None] = lambda _: None,
) -> list[R]:
    """`work` on every item, a bounded number at once; results in completion order.

    `parallelism`: a fixed count, Workers that adapt, or None for DEFAULT_PARALLELISM. Items are
    handed to the pool only as workers are free, so that a stop leaves no queued work to cancel.
    An exception from `work` ends the run: no further item is started, and the exception is
    raised once the items under way are finished. A stop asked for by `stop_running` does the
    same and raises RunStopped with the results of every item that finished.
    """
    global _running
    workers = (
        parallelism if isinstance(parallelism, Workers) else Workers.fixed(parallelism or DEFAULT_PARALLELISM)
    )
    failed = threading.Event()

    def guarded(item: T) -> R:
        if failed.is_set():
            raise _NotStarted
        try:
            return work(item)
        except BaseException:
            failed.set()
            raise

    results: list[R] = []
    pool = ThreadPoolExecutor(max_workers=workers.most, thread_name_prefix="statusync")
    pending: set[Future[R]] = set()
    queue = iter(items)
    error: BaseException | None = None
    STOP.clear()
    _running += 1
    try:
        while True:
            while error is None and not STOP.is_set() and len(pending) < workers.limit():
                item = next(queue, _END)
                if item is _END:
                    break
                pending.add(pool.submit(guarded, item))
            if not pending:
                break
            done, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
            if STOP.is_set() and error is None:
                error = RunStopped([])
                failed.set()
            for future in done:
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


_END: Any = object()
