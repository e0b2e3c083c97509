"""A monotonic clock for the pacing, retry and lock logic that moves only when something sleeps
on it, so that tests wait for nothing and can see every wait that was asked for."""

from __future__ import annotations


class FakeTime:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
