"""A gate in front of the sandbox: the test decides when a request is answered.

Signal and kill tests need requests "on the wire" when the signal comes. A latency makes that
likely and costs its seconds on every request; a gate makes it certain and costs nothing: the
sandbox calls its latency `sleep` before answering, and the gate holds each call while closed.
"""

from __future__ import annotations

import threading
import time

# A held request is let go after this long, so that a failing test cannot hang the suite.
_LONGEST_HOLD = 30.0


class Gate:
    """`sandbox(gate=Gate())` puts it in front of the sandbox. Open, it lets every request
    through; closed, it holds each one until `open()`."""

    def __init__(self, *, let_through: int | None = None) -> None:
        """let_through: open for that many requests, then closed (None: open until closed)."""
        self._changed = threading.Condition()
        self._left = let_through
        self._closed = False
        self.held = 0  # requests waiting at the gate now

    def __call__(self, _seconds: float) -> None:
        with self._changed:
            if self._left is not None:
                if self._left > 0:
                    self._left -= 1
                    return
                self._closed = True
                self._left = None
            if not self._closed:
                return
            self.held += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: not self._closed, timeout=_LONGEST_HOLD)
            self.held -= 1
            self._changed.notify_all()

    def close_after(self, count: int) -> None:
        """Let `count` more requests through, then close (apply's reads of the shops' statuses
        come before its writes: a test that holds the writes lets the reads pass)."""
        with self._changed:
            self._left = count
            self._closed = False

    def close(self) -> None:
        with self._changed:
            self._closed = True

    def open(self) -> None:
        with self._changed:
            self._closed = False
            self._left = None
            self._changed.notify_all()

    def wait_held(self, count: int, timeout: float = 30) -> None:
        """Until `count` requests wait at the gate."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.held < count:
                left = deadline - time.monotonic()
                assert left > 0, f"timed out: {self.held} of {count} requests at the gate"
                self._changed.wait(left)
