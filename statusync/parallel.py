"""Bounded parallelism for API-bound work (apply, drift, import): the rate limit sets the pace,
a few workers hide the latency."""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _NotStarted(Exception):
    """An item a worker reached after another item had failed: it was never worked on."""


def run_bounded(items: Iterable[T], work: Callable[[T], R], parallelism: int,
                on_done: Callable[[R], None] = lambda _: None) -> list[R]:
    """`work` on every item with at most `parallelism` at once; results in completion order.

    An exception from `work` stops the run: no further item is started, and it is raised once
    the items already under way are finished. Items are submitted a few ahead of the workers
    rather than all at once, so that an interrupt (Ctrl-C) leaves little queued work to cancel.
    """
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
    try:
        for item in queue:
            pending.add(pool.submit(guarded, item))
            if len(pending) >= 2 * parallelism:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
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
        pool.shutdown(wait=True, cancel_futures=True)
    return results
