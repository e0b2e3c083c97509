"""Bounded parallelism for API-bound work (apply, drift, import): the rate limit sets the pace,
enough workers to reach it hide the latency, and a stop ends the run at a safe point.

With several accounts, each is served from a queue of its own, round-robin, with as many workers
as its own pace needs: the accounts' buckets fill side by side, so the run's rate is the sum of
their limits whatever the order of the files (one queue in file order, with each account's files
in a folder of their own, had every worker wait on one account's bucket at a time)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
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


def stop_running() -> bool:
    """Ask the bounded run under way to stop at its next safe point; False when none is, or when
    it was asked already (the caller then interrupts by itself).

    Every wait of the API clients ends at once (statusync.sendcloud.pacing.STOP) and no request
    leaves after it; the requests on the wire finish. A signal handler calls this (through
    statusync.runner.stopping) rather than raising KeyboardInterrupt at whatever line the main
    thread is on: raised between taking a lock and the block that releases it, that exception
    would leave the lock held and the run's end waiting for it forever.
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
    served round-robin), or None for DEFAULT_PARALLELISM. Each worker takes its next item only
    when it may start it, so that a stop leaves no queued work to cancel. An exception from
    `work` ends the run: no further item is started, and the exception is raised once the items
    under way are finished. A stop asked for by `stop_running` does the same and raises
    RunStopped with the results of every item that finished. `on_done` runs on the calling
    thread, for the results that came in since it last looked (every _POLL seconds).
    """
    global _running
    crew = _Crew(items, work, _lanes(parallelism))
    results: list[R] = []
    error: BaseException | None = None
    STOP.clear()
    _running += 1
    try:
        crew.start()
        while True:
            over = crew.over.wait(_POLL)
            if STOP.is_set() and error is None:
                error = RunStopped([])
                crew.halt()
            for outcome in crew.outcomes():
                if isinstance(outcome, _Failed):
                    error = error or outcome.exc
                else:
                    results.append(outcome)
                    on_done(outcome)
            if over:
                break
        if isinstance(error, RunStopped):
            raise RunStopped(results)
        if error is not None:
            raise error
    finally:
        _running -= 1
        crew.halt()
        crew.join()
        # The stop has done its work (the run ends with RunStopped, and the command with it);
        # a client used afterwards in the same process (a test) must not find it still set.
        STOP.clear()
    return results


@dataclass(frozen=True)
class _Failed:
    """What an item raised, in place of its result."""

    exc: BaseException


# How long a lane's limit is taken as it was last asked: asked for every item, its sums and locks
# cost a few percent of the CPU of a request at thousands a minute, and a bucket's pace does not
# change that fast (the bucket, not this count, keeps the requests to the rate).
_LIMIT_FOR = 0.01


class _Crew(Generic[T, R]):
    """The threads of one run. Each takes its next item itself, round-robin over the lanes that
    have room, and drops its outcome in a list that the calling thread empties every _POLL
    seconds; threads are started as the room grows, up to the run's cap.

    Rather than concurrent.futures and a thread that hands out the items: a Future per item (a
    Condition, its locks, a callback) and two thread wake-ups per item cost, at thousands of
    requests a minute, as much of the GIL as a tenth of the requests themselves."""

    def __init__(self, items: Iterable[T], work: Callable[[T], R], lanes: Lanes[T]) -> None:
        self._work = work
        self._queues: dict[str, deque[T]] = {}
        for item in items:
            self._queues.setdefault(lanes.account(item), deque()).append(item)
        self._workers = {
            name: lanes.workers.get(name) or Workers.fixed(DEFAULT_PARALLELISM) for name in self._queues
        }
        self._names = list(self._queues)
        self._next = 0  # the lane whose turn is next
        self._under_way = dict.fromkeys(self._queues, 0)
        self._total = 0  # items under way in all lanes
        self._limits = dict.fromkeys(self._queues, (0, -math.inf))  # (limit, when asked)
        self._most = lanes.most  # items under way in all
        self._threads_most = max(1, min(lanes.most, sum(w.most for w in self._workers.values())))
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # idle threads wait here for room
        self._idle = 0
        self._alive = 0  # threads started and not ended
        self._threads: list[threading.Thread] = []
        self._results: list[R | _Failed] = []
        self._halted = False  # no item starts any more: a failure, a stop, the run's end
        self._raised = False  # a lane's limit rose since a thread last looked for more room
        self.over = threading.Event()  # set once every thread has ended

    def start(self) -> None:
        with self._lock:
            try:
                count = self._startable()
            except BaseException:
                self.over.set()  # nothing was started: nothing to wait for
                raise
            self._alive += count
        if count == 0:
            self.over.set()
        self._spawn(count)

    def outcomes(self) -> list[R | _Failed]:
        """The outcomes that came in since the last call, in the order they came."""
        with self._lock:
            done, self._results = self._results, []
        return done

    def halt(self) -> None:
        """No item starts any more; those under way finish."""
        with self._lock:
            self._halted = True
            self._room.notify_all()

    def join(self) -> None:
        """Wait for every thread to end (after `halt`: once the items under way are done)."""
        self.over.wait()
        for thread in list(self._threads):
            thread.join()

    def _serve(self) -> None:
        try:
            self._serve_items()
        except BaseException as exc:  # noqa: BLE001 - not from an item: the run ends with it
            with self._lock:
                self._results.append(_Failed(exc))
                self._halted = True
                self._room.notify_all()
        finally:
            self._ended(1)

    def _serve_items(self) -> None:
        """Take items and work on them until none may start any more."""
        outcome: R | _Failed | None = None
        lane = ""
        while True:
            with self._lock:
                if outcome is not None:
                    self._under_way[lane] -= 1
                    self._total -= 1
                    self._results.append(outcome)
                    if isinstance(outcome, _Failed):
                        self._halted = True
                        self._room.notify_all()
                taken = self._take()
                while taken is None and not self._halted and any(self._queues.values()):
                    # Items left and no room for them now: wait for room. Another thread's
                    # item finishing frees none for this one (that thread takes the next item
                    # itself); a limit asked again later may.
                    self._idle += 1
                    self._room.wait(_POLL)
                    self._idle -= 1
                    taken = self._take()
                if taken is None:
                    return
                lane, item = taken
                more = 0
                if self._raised:
                    # Room for more than this one only comes with a limit that rose (a thread
                    # whose item finishes takes the next itself): idle threads are woken, or
                    # new ones started, for it.
                    self._raised = False
                    more = self._startable()
                    if more and self._idle:
                        self._room.notify(more)
                        more = max(0, more - self._idle)
                    more = min(more, self._threads_most - self._alive)
                    self._alive += more
            self._spawn(more)
            try:
                outcome = self._work(item)
            except BaseException as exc:  # noqa: BLE001 - the calling thread raises it
                outcome = _Failed(exc)

    def _ended(self, count: int) -> None:
        """`count` threads ended, or could not be started."""
        with self._lock:
            self._alive -= count
            if self._alive == 0:
                self.over.set()

    def _take(self) -> tuple[str, T] | None:
        """The next item that may start now, round-robin over the lanes; under the lock."""
        if self._halted or STOP.is_set() or self._total >= self._most:
            return None
        names = self._names
        for turn in range(len(names)):
            index = (self._next + turn) % len(names)
            name = names[index]
            lane = self._queues[name]
            if lane and self._under_way[name] < self._limit(name):
                self._next = index + 1  # the next item comes from the lane after this one
                self._under_way[name] += 1
                self._total += 1
                return name, lane.popleft()
        return None

    def _startable(self) -> int:
        """How many more items could start right now; under the lock."""
        if self._halted or STOP.is_set():
            return 0
        free = self._most - self._total
        room = sum(
            min(len(lane), max(0, self._limit(name) - self._under_way[name]))
            for name, lane in self._queues.items()
        )
        return max(0, min(free, room))

    def _limit(self, name: str) -> int:
        """The lane's limit, asked again when the last ask is _LIMIT_FOR old; under the lock."""
        limit, asked = self._limits[name]
        now = time.monotonic()
        if now - asked >= _LIMIT_FOR:
            workers = self._workers[name]
            before, limit = limit, min(workers.most, workers.limit())
            self._raised = self._raised or limit > before
            self._limits[name] = (limit, now)
        return limit

    def _spawn(self, count: int) -> None:
        """Start `count` threads, counted as alive already. One that cannot be started (the
        system's limit on threads) is counted out; the others carry on with the items."""
        for started in range(count):
            thread = threading.Thread(target=self._serve, name=f"statusync_{len(self._threads)}")
            try:
                thread.start()
            except RuntimeError:
                self._ended(count - started)
                if started == 0 and not self._threads:
                    raise  # not a single thread: nothing can be done
                return
            self._threads.append(thread)


def _lanes(parallelism: int | Workers | Lanes[T] | None) -> Lanes[T]:
    if isinstance(parallelism, Lanes):
        return parallelism
    workers = (
        parallelism if isinstance(parallelism, Workers) else Workers.fixed(parallelism or DEFAULT_PARALLELISM)
    )
    return Lanes(lambda _: "", {"": workers}, workers.most)
