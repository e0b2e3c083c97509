"""The last-applied state as a value: what the API accepted, per integration.

Pure: reading and writing `.statusync/state.json` is statusync.files.state_file's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from statusync.core.model import (
    ACCOUNT_NAME_PATTERN,
    CATEGORIES,
    MAX_INTEGRATION_ID,
    IntegrationSpec,
    LoadedSpec,
    MappingDict,
)


def readable_time(text: str) -> str:
    """`text`, a time the state may hold (ValueError otherwise): the state file's and its
    journal's."""
    # The merge orders two branches' writes by these times: one it cannot read would count as
    # the oldest, and a newer reset could lose to an older update.
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date and time such as 2026-01-31T09:00:00Z") from None
    return text


def account_name(name: str) -> str:
    """`name`, an account name the state may hold (ValueError otherwise): the state file's
    and its journal's."""
    # `statusync accounts` hands these names to a CI matrix, which puts them in arguments and
    # environment names: a name edited into the state must be as plain as one in statusync.yaml.
    if not re.fullmatch(ACCOUNT_NAME_PATTERN, name):
        raise ValueError(f"{name[:40]!r} is not an account name (letters, digits, '.', '_' and '-')")
    return name


def valid_integration_id(value: object) -> int:
    """`value`, an integration id the state may hold (ValueError otherwise): the state file's
    and its journal's, checked as the model checks a mapping file's (strict: an integer in
    range)."""
    if type(value) is not int or not 0 < value <= MAX_INTEGRATION_ID:
        raise ValueError(f"{repr(value)[:40]} is not an integration id")
    return value


# Specs validated already, by account and (category, external id) pairs: thousands of shops
# share a few of each.
ValidatedSpecs = dict[tuple[str, tuple[tuple[str, str | None], ...]], IntegrationSpec]


@dataclass(frozen=True)
class Entry:
    """One integration as last accepted by the API, and the file that asked for it."""

    file: str
    sha256: str
    account: str
    name: str | None
    mapping: MappingDict
    applied_at: str

    def as_loaded(self, integration_id: int, sha256: str, validated: ValidatedSpecs) -> LoadedSpec:
        """The file this entry recorded (its bytes hash to `sha256`), taken from the entry rather
        than parsed, checked by today's rules (ValueError when it breaks them): a file that an
        older statusync applied is then parsed, and its problem shown at its line.

        Each account and mapping is validated by the model once, in a spec of its own kept in
        `validated` for the next entries; the id and the name, which are each shop's own, are
        checked here as the model checks them (strict: an integer in range, text or null)."""
        key = (self.account, tuple(self.mapping.items()))
        shared = validated.get(key)
        if shared is None:
            shared = validated[key] = IntegrationSpec.model_validate(
                {"integration_id": 1, "name": None, "account": self.account, "mapping": self.mapping}
            )
        if self.name is not None and type(self.name) is not str:
            raise ValueError(f"name {self.name!r} is not text")
        # Values in CATEGORIES order, as the state keeps them (files.state_file).
        values = self.mapping if tuple(self.mapping) == CATEGORIES else shared.mapping.as_dict()
        return LoadedSpec.recorded(
            valid_integration_id(integration_id),
            self.account,
            self.name,
            shared.mapping,
            values,
            self.file,
            sha256,
        )


@dataclass(frozen=True)
class Pending:
    """A write whose outcome is unknown: the run sending it died while it was on the wire, or it
    failed in a way that may have reached the API all the same (a timeout waiting for the
    answer, a dropped connection, a 5xx). Live holds the last applied mapping or this one.

    Until a later write settles it, the integration is *uncertain*: a plan lists it under an
    action of its own, whatever the files say, so that reverting a file cannot hide the write.
    """

    file: str
    sha256: str
    account: str
    name: str | None
    mapping: MappingDict  # what was sent
    sent_at: str


@dataclass(frozen=True)
class Removed:
    """A tombstone: the integration left the state at `at`, reset (the API accepted an all-null
    mapping) or forgotten (live kept whatever was last written).

    It claims no mapping, so a plan sees the integration as not managed (a file for it again is
    a create). It is kept for the merge of two states: a removal is as dated as any write, and
    a record on another branch older than it must not come back as if it were live. Tombstones
    live as long as the state does (one short line each); a new record of the integration
    replaces its tombstone.
    """

    file: str  # the file it was last recorded from, for people reading the state
    reset: bool
    at: str


@dataclass(frozen=True)
class State:
    serial: int = 0
    lineage: str = ""  # "" until first written: a missing state has a stable fingerprint
    entries: Mapping[int, Entry] = field(default_factory=dict)
    # Integrations whose last write has an unknown outcome (see Pending); usually none.
    uncertain: Mapping[int, Pending] = field(default_factory=dict)
    # Integrations that left the state (see Removed); never in `entries` at the same time.
    removed: Mapping[int, Removed] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Changes whenever the state is written: a saved plan is stale once it differs."""
        return f"{self.lineage}:{self.serial}"

    def with_entry(self, integration_id: int, entry: Entry) -> State:
        return replace(
            self,
            entries={**self.entries, integration_id: entry},
            removed={k: v for k, v in self.removed.items() if k != integration_id},
        )

    def without(self, integration_id: int) -> State:
        return replace(self, entries={k: v for k, v in self.entries.items() if k != integration_id})

    def spec_index(self) -> dict[tuple[str, str], tuple[int, Entry]]:
        """(file, sha256) -> entry, so that files unchanged since apply need no parsing."""
        return {(e.file, e.sha256): (i, e) for i, e in self.entries.items()}
