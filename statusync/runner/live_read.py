"""Reading the live mapping of every integration a plan creates, a few at a time, paced by each
account's client like drift: what the create replaces (statusync.core.creates)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from statusync.core.model import MappingDict
from statusync.core.plan import Action, Change, Plan
from statusync.errors import NotFound, StatusyncError, StopRun
from statusync.runner.bounded import per_account, run_bounded
from statusync.runner.drift_check import MappingReader
from statusync.text import printable


@dataclass(frozen=True)
class LiveRead:
    change: Change
    mapping: MappingDict | None = None  # None: not found (404), or not read (error)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        what = f"{self.change.integration_id} ({printable(self.change.file)})"
        if self.error is not None:
            return f"{what}: FAILED: {printable(self.error)}"
        return f"{what}: {'not found' if self.mapping is None else 'read'}"


def read_creates(
    plan: Plan,
    readers: Mapping[str, MappingReader],
    *,
    parallelism: int | None = None,
    report: Callable[[LiveRead], None] = lambda _: None,
) -> list[LiveRead]:
    """The live mapping of each create of `plan`; a failure to read one is returned with the
    others (a 401 stops the run: every other read would meet it)."""
    creates = [c for c in plan.changes if c.action is Action.CREATE]

    def read(change: Change) -> LiveRead:
        try:
            live = readers[change.account].get_mapping(change.integration_id)
        except StopRun:
            raise
        except NotFound:
            return LiveRead(change)
        except StatusyncError as exc:
            return LiveRead(change, error=str(exc))
        return LiveRead(change, live.as_mapping())

    if not creates:
        return []
    accounts = {c.account: readers[c.account] for c in creates}
    return run_bounded(creates, read, per_account(parallelism, accounts, "GET", lambda c: c.account), report)
