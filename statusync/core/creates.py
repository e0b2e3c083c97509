"""What a create replaces: the plan `apply` shows once it has read the live mapping of every
integration it creates.

Offline, a create has no "before" (the state knows nothing of it). But the upsert sets all four
categories, so a create overwrites whatever the shop is mapped to now: apply reads that first,
shows it as the create's "before", and counts a create that overwrites a different, non-empty
mapping toward the safety threshold (core.safety). A create whose live mapping already equals the
file needs no request: it is only recorded, like reconcile's stale records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from statusync.core.model import MappingDict
from statusync.core.plan import Action, Change, Plan


@dataclass(frozen=True)
class LivePlan:
    """A plan whose creates carry the live mapping as `before`, and what it left out."""

    plan: Plan
    already_live: tuple[Change, ...]  # creates whose live mapping equals the file: record only
    not_found: tuple[int, ...]  # creates of integrations the API does not have (404)


def overwrites(change: Change) -> bool:
    """Whether `change` is a create that replaces a live mapping someone set up (anything but
    all-unmapped) with a different one: it may undo live work, like an update."""
    if change.action is not Action.CREATE or change.before is None:
        return False
    return any(v is not None for v in change.before.values()) and change.before != change.after


def with_live(plan: Plan, live: Mapping[int, MappingDict | None]) -> LivePlan:
    """`plan` with each create's live mapping (from `live`; None: not found, absent: not read)
    as its `before`; creates already live leave the plan and count as unchanged."""
    changes: list[Change] = []
    already: list[Change] = []
    missing: list[int] = []
    for change in plan.changes:
        if change.action is not Action.CREATE or change.integration_id not in live:
            changes.append(change)
            continue
        current = live[change.integration_id]
        if current is None:
            missing.append(change.integration_id)
            changes.append(change)
        elif current == change.after:
            already.append(replace(change, before=dict(current)))
        else:
            changes.append(replace(change, before=dict(current)))
    return LivePlan(
        replace(plan, changes=tuple(changes), unchanged=plan.unchanged + len(already)),
        tuple(already),
        tuple(missing),
    )
