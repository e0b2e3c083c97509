"""The safety threshold: a plan that would undo too much of what is live needs --force."""

from __future__ import annotations

from typing import Protocol

from statusync.core.plan import RISKY, Plan


class SafetyLimits(Protocol):
    """`safety:` of statusync.yaml (files.settings.SafetySettings is one)."""

    @property
    def max_change_percent(self) -> float: ...

    @property
    def min_managed(self) -> int: ...


def safety_breach(plan: Plan, safety: SafetyLimits) -> str | None:
    """Why the plan is too large to apply without --force, or None when it is within bounds."""
    if plan.managed < safety.min_managed or plan.managed == 0:
        return None
    risky = sum(plan.count(a) for a in RISKY)
    share = 100.0 * risky / plan.managed
    if share <= safety.max_change_percent:
        return None
    return (f"the plan updates, resets or forgets {risky} of {plan.managed} managed integrations "
            f"({share:.0f}%), more than safety.max_change_percent ({safety.max_change_percent:g}%); "
            "review it and apply with --force if it is intended")
