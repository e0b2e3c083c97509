"""`--only` for the commands: narrow the files and the state to a subset, or say why not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from statusync.console import Console, plural
from statusync.core.model import LoadedSpec
from statusync.core.plan import Plan
from statusync.core.state import State
from statusync.core.subset import BadPattern, Subset, narrow, parse_subset, unmatched
from statusync.errors import StatusyncError
from statusync.text import printable


def described(texts: Sequence[str]) -> str:
    """The filter as the command line spells it: `--only a --only b`."""
    return " ".join(f"--only {printable(t)}" for t in texts)


def select(subset: Subset | None, specs: list[LoadedSpec], state: State) -> tuple[list[LoadedSpec], State]:
    """The files and state entries in `subset` (everything when None). A pattern that matches
    nothing is an error naming it: a typo must not make a run silently do nothing."""
    if subset is None:
        return specs, state
    missing = unmatched(subset, specs, state)
    if missing:
        raise StatusyncError(
            "\n".join(
                f"--only {printable(text)} matches no mapping file and no integration in the state "
                "(a pattern is a path glob relative to the repository such as mappings/eu/**, "
                "id:N or account:NAME)"
                for text in missing
            )
        )
    return narrow(subset, specs, state)


def partial(plan: Plan, subset: Subset | None) -> Plan:
    """The plan, marked as covering only `subset` (saved with it, shown by every renderer)."""
    return plan if subset is None else replace(plan, only=subset.texts)


def checking(console: Console, subset: Subset | None, chosen: int, total: int) -> None:
    """Say on stderr that a read-only check covers part of the repository."""
    if subset is not None:
        console.note(f"Only {chosen} of {plural(total, 'mapping file')}: {described(subset.texts)}.")


def saved_subset(planfile: Path, saved: Sequence[str], given: Subset | None) -> Subset | None:
    """The filter `apply PLANFILE` works with: the one the plan was saved with. Giving --only
    as well is allowed only when it is the same filter (in any order), since applying part of a
    reviewed plan, or more than it, would not be applying that plan."""
    try:
        subset = parse_subset(saved)
    except BadPattern as exc:
        raise StatusyncError(
            f"{planfile}: the plan file's --only filter is damaged ({exc}); make a new plan"
        ) from None
    mine = set(subset.texts) if subset else set()
    if given is not None and set(given.texts) != mine:
        made = f"with {described(saved)}" if saved else "for the whole repository (no --only)"
        raise StatusyncError(
            f"the saved plan {planfile} was made {made}, not {described(given.texts)}; apply it "
            "without --only (it keeps its own filter), or make a new plan with the filter you want"
        )
    return subset
