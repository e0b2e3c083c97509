"""The safety threshold: a plan that would undo too much of what is live needs --force."""

from __future__ import annotations

from typing import Protocol

from statusync.core.creates import overwrites
from statusync.core.plan import RISKY, Plan


class SafetyLimits(Protocol):
    """`safety:` of statusync.yaml (files.settings.SafetySettings is one)."""

    @property
    def max_change_percent(self) -> float: ...

    @property
    def min_managed(self) -> int: ...


def safety_breach(plan: Plan, safety: SafetyLimits) -> str | None:
    """Why the plan is too large to apply without --force, or None when it is within bounds."""
    # A create that overwrites a live mapping (apply knows it once it has read live:
    # core.creates) may undo live work like an update does; the integration it takes over joins
    # the base, so that a lost state (every file a create) is still held to the threshold.
    taken = sum(1 for c in plan.changes if overwrites(c))
    managed = plan.managed + taken
    if managed < safety.min_managed or managed == 0:
        return None
    risky = sum(plan.count(a) for a in RISKY) + taken
    share = 100.0 * risky / managed
    if share <= safety.max_change_percent:
        return None
    what = "updates, resets, forgets or overwrites" if taken else "updates, resets or forgets"
    return (
        f"the plan {what} {risky} of {managed} managed integrations "
        f"({share:.0f}%), more than safety.max_change_percent ({safety.max_change_percent:g}%); "
        "review it and apply with --force if it is intended"
    )
