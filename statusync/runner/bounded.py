"""Bounded parallelism for API-bound work (apply, drift, import): the rate limit sets the pace,
a few workers hide the latency."""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# How often the runner looks whether it was asked to stop (Ctrl-C, SIGTERM).
_POLL = 0.1
_stop = threading.Event()
_running = 0  # bounded runs under way; only the main thread starts them


class _NotStarted(Exception):
    """An item a worker reached after another item had failed: it was never worked on."""


def stop_running() -> bool:
    """Ask the bounded run under way to stop at its next safe point; False when none is.

    A signal handler calls this rather than raising KeyboardInterrupt at whatever line the main
    thread is on: raised inside the thread pool's own locked sections, that exception would
    leave a lock held and the pool's shutdown waiting for it forever.
    """
    if _running == 0 or _stop.is_set():
        return False  # nothing to stop gracefully, or asked twice: the caller interrupts now
    _stop.set()
    return True


def run_bounded(items: Iterable[T], work: Callable[[T], R], parallelism: int,
                on_done: Callable[[R], None] = lambda _: None) -> list[R]:
    """`work` on every item with at most `parallelism` at once; results in completion order.

    An exception from `work`, or a stop asked for by `stop_running` (raised here as
    KeyboardInterrupt), ends the run: no further item is started, and the exception is raised
    once the items already under way are finished. Items are submitted a few ahead of the
    workers rather than all at once, so that a stop leaves little queued work to cancel.
    """
    global _running
    parallelism = max(1, parallelism)
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
    pool = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="statusync")
    pending: set[Future[R]] = set()
    queue = iter(items)
    error: BaseException | None = None
    _stop.clear()
    _running += 1
    try:
        for item in queue:
            pending.add(pool.submit(guarded, item))
            if len(pending) >= 2 * parallelism:
                break
        while pending:
            done, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
            if _stop.is_set() and error is None:
                error = KeyboardInterrupt()
                failed.set()
            for future in done:
                exc = future.exception()
                if exc is None:
                    results.append(future.result())
                    on_done(results[-1])
                elif not isinstance(exc, _NotStarted):
                    error = error or exc
                for nxt in queue if error is None else ():  # one more item, if any is left
                    pending.add(pool.submit(guarded, nxt))
                    break
        if error is not None:
            raise error
    finally:
        _running -= 1
        pool.shutdown(wait=True, cancel_futures=True)
    return results
