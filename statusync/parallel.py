"""Bounded parallelism for API-bound work (apply, drift, import): the rate limit sets the pace,
a few workers hide the latency."""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_bounded(items: Iterable[T], work: Callable[[T], R], parallelism: int,
                on_done: Callable[[R], None] = lambda _: None) -> list[R]:
    """`work` on every item with at most `parallelism` at once; results in completion order.

    Items are submitted a few ahead of the workers rather than all at once, so that an
    interrupt (Ctrl-C) leaves little queued work to cancel.
    """
    parallelism = max(1, parallelism)
    results: list[R] = []
    pool = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="statusync")
    pending: set[Future[R]] = set()
    queue = iter(items)
    try:
        for item in queue:
            pending.add(pool.submit(work, item))
            if len(pending) >= 2 * parallelism:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                results.append(future.result())
                on_done(results[-1])
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(work, nxt))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results
