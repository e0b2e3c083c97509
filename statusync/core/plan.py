"""The plan as data: which integrations to create, update, forget, reset or settle, and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from statusync.core.model import CATEGORIES, LoadedSpec, MappingDict, unmapped
from statusync.core.state import State

PLAN_FORMAT_VERSION = 1


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    RESET = "reset"
    FORGET = "forget"
    # The last write's outcome is unknown (State.uncertain): the file's mapping is sent again,
    # whatever the state says, so that live ends equal to the file.
    UNCERTAIN = "uncertain"

    @property
    def sends(self) -> bool:
        """Whether the action is a POST (forget only drops the integration from the state)."""
        return self is not Action.FORGET


# Actions that count against the safety threshold: each may undo something already live.
# Settling an uncertain integration does not count: it finishes a write statusync itself made,
# and a killed run leaves at most a few of them.
RISKY = (Action.UPDATE, Action.RESET, Action.FORGET)


@dataclass(frozen=True)
class Change:
    integration_id: int
    action: Action
    file: str
    account: str
    before: MappingDict | None  # last applied; None for create
    after: MappingDict | None  # to be sent; None for forget
    name: str | None = None
    sha256: str = ""  # of the desired file, recorded in the state after the POST
    sent: MappingDict | None = None  # uncertain only: the write whose outcome is unknown

    def differences(self) -> list[tuple[str, str | None, str | None]]:
        """(category, before, after) for every category the change touches; for an uncertain
        one, every category live may hold otherwise than the file says."""
        before = self.before or {}
        after = self.after or {}
        sent = self.sent or {}
        if self.action is Action.FORGET:
            return []
        if self.action is Action.UNCERTAIN:
            return [
                (c, before.get(c), after.get(c))
                for c in CATEGORIES
                if self.before is None or len({before.get(c), sent.get(c), after.get(c)}) > 1
            ]
        return [
            (c, before.get(c), after.get(c))
            for c in CATEGORIES
            if self.action is Action.CREATE or before.get(c) != after.get(c)
        ]

    def data(self) -> dict[str, Any]:
        data = {
            "integration_id": self.integration_id,
            "action": self.action.value,
            "file": self.file,
            "before": self.before,
            "after": self.after,
        }
        if self.action is Action.UNCERTAIN:
            data["sent"] = self.sent
        return data


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unchanged: int
    managed: int  # integrations in the state the plan was made from (the safety base)
    # The --only patterns of a partial plan (core.subset), as given; () for the whole repository.
    only: tuple[str, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    def summary(self) -> dict[str, int]:
        return {**{a.value: self.count(a) for a in Action}, "unchanged": self.unchanged}

    def data(self) -> dict[str, Any]:
        """The `plan --format json` document the README describes."""
        summary = self.summary()
        ordered = {k: summary[k] for k in ("create", "update", "forget", "reset", "uncertain", "unchanged")}
        # `only` and `uncertain` are always there (null, []), so that a script reading the
        # document needs no test for their presence.
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "only": list(self.only) if self.only else None,
            "changes": [c.data() for c in self.changes],
            "summary": ordered,
            "uncertain": [c.integration_id for c in self.changes if c.action is Action.UNCERTAIN],
        }


def make_plan(
    desired: Iterable[LoadedSpec], state: State, on_removed: Literal["forget", "reset"] = "forget"
) -> Plan:
    changes: list[Change] = []
    unchanged = 0
    seen: set[int] = set()
    for loaded in desired:
        integration_id = loaded.integration_id
        seen.add(integration_id)
        after = loaded.mapping
        entry = state.entries.get(integration_id)
        pending = state.uncertain.get(integration_id)
        if pending is not None:  # whatever the file says now: it may differ from live
            changes.append(
                Change(
                    integration_id,
                    Action.UNCERTAIN,
                    loaded.file,
                    loaded.account,
                    None if entry is None else dict(entry.mapping),
                    dict(after),
                    loaded.name,
                    loaded.sha256,
                    sent=dict(pending.mapping),
                )
            )
            continue
        if entry is not None and entry.mapping == after:
            unchanged += 1
            continue
        changes.append(
            Change(
                integration_id,
                Action.CREATE if entry is None else Action.UPDATE,
                loaded.file,
                loaded.account,
                None if entry is None else dict(entry.mapping),
                dict(after),
                loaded.name,
                loaded.sha256,
            )
        )
    # A removed file: an uncertain integration is reset or forgotten like a recorded one (a
    # reset sends all-null whatever live holds; a forget drops the unknown write with it).
    for integration_id in sorted((state.entries.keys() | state.uncertain.keys()) - seen):
        entry = state.entries.get(integration_id)
        known = entry or state.uncertain[integration_id]
        before = None if entry is None else dict(entry.mapping)
        if on_removed == "reset":
            changes.append(
                Change(
                    integration_id, Action.RESET, known.file, known.account, before, unmapped(), known.name
                )
            )
        else:
            changes.append(
                Change(integration_id, Action.FORGET, known.file, known.account, before, None, known.name)
            )
    order = {a: i for i, a in enumerate(Action)}
    changes.sort(key=lambda c: (order[c.action], c.file, c.integration_id))
    return Plan(tuple(changes), unchanged, len(state.entries))
