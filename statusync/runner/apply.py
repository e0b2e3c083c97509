"""Run a plan through the API: one POST per sending change, each success recorded at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

from statusync.errors import NotFound, StatusyncError, StopRun
from statusync.core.model import MappingDict
from statusync.runner.bounded import run_bounded
from statusync.core.plan import Action, Change, Plan
from statusync.runner.recorder import StateWriter
from statusync.core.text import printable


class MappingWriter(Protocol):
    def upsert_mapping(self, integration_id: int, mapping: MappingDict) -> None: ...

    def integration_exists(self, integration_id: int) -> bool: ...


@dataclass(frozen=True)
class Outcome:
    change: Change
    error: str | None = None  # None: the API accepted it (or, for forget, nothing was needed)
    note: str | None = None   # how it went, when not the usual way

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        c = self.change
        what = f"{c.action.value} {c.integration_id} ({printable(c.file)})"
        if not self.ok:
            return f"{what}: FAILED: {self.error}"
        return f"{what}: {self.note or _DONE[c.action]}"


_DONE = {Action.CREATE: "created", Action.UPDATE: "updated", Action.RESET: "reset",
         Action.FORGET: "forgotten"}


def apply_plan(plan: Plan, writers: Mapping[str, MappingWriter], state: StateWriter, *,
               parallelism: int = 4,
               report: Callable[[Outcome], None] = lambda _: None) -> list[Outcome]:
    """Apply every change; a failure is reported and the others go on."""
    outcomes: list[Outcome] = []
    forgotten = [c for c in plan.changes if c.action is Action.FORGET]
    if forgotten:
        state.record(forgotten)
        for change in forgotten:
            outcomes.append(Outcome(change))
            report(outcomes[-1])
    sending = [c for c in plan.changes if c.action.sends]

    def send(change: Change) -> Outcome:
        assert change.after is not None
        try:
            writers[change.account].upsert_mapping(change.integration_id, change.after)
        except StopRun:
            raise  # e.g. rejected credentials: the other integrations would fail the same way
        except NotFound as exc:
            if change.action is not Action.RESET or not _gone(change, writers[change.account]):
                return Outcome(change, str(exc))
            # Nothing is left to unmap: the reset is done, and the integration leaves the state.
            state.record([change])
            return Outcome(change, note="not found in Sendcloud, nothing to unmap; forgotten")
        except StatusyncError as exc:
            return Outcome(change, str(exc))
        state.record([change])
        return Outcome(change)

    outcomes += run_bounded(sending, send, parallelism, report)
    return outcomes


def _gone(change: Change, api: MappingWriter) -> bool:
    """Whether the account's list of integrations, read fine, lacks the integration."""
    try:
        return not api.integration_exists(change.integration_id)
    except StopRun:
        raise
    except StatusyncError:
        return False  # the list itself failed: nothing is known, the reset stays to do
