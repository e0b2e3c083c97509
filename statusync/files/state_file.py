"""`.statusync/state.json`: the state value on disk.

The file is a cache of accepted writes, so it is only ever replaced whole and atomically (temp
file, fsync, rename): a crash at any moment leaves the old or the new file. A run does that once,
at its end; meanwhile its results go to the journal beside it (statusync.files.journal), which
`load_state` folds in, so that readers see what a run that died had recorded too.

Integrations whose last write has an unknown outcome are kept under "uncertain" (only present
when there are any), so that they survive a commit of the state and a plan on another machine.
Integrations that left the state (reset or forgotten) are kept under "removed" as dated
tombstones (statusync.core.state.Removed), so that merging two branches' states keeps the newest
write of each integration. Version 1 files have none; a file with tombstones is written as
version 2, so that a statusync too old to know them refuses it ("upgrade statusync") rather than
calling it corrupt. Both versions are read.

The text is written from templates (dump_state), not by json.dumps: it is written after the last
answer of the API, so its time is part of a run's, and at 10,000 integrations json's indenting
took a tenth of a second of it.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from statusync.core.model import ACCOUNT_NAME_PATTERN, CATEGORIES, MAX_INTEGRATION_ID, MappingDict
from statusync.core.state import Entry, Pending, Removed, State, account_name, readable_time
from statusync.errors import StatusyncError, where_in
from statusync.files.atomic import atomic_write
from statusync.files.json_utf8 import utf8
from statusync.files.reading import read_regular
from statusync.text import json_safe, json_string

if TYPE_CHECKING:  # merging is for the merge driver and --push: a plan does without it
    from statusync.core.state_merge import MergedState

# The version written when the state has tombstones, and the newest one read; without any the
# file is version 1, which every statusync reads.
STATE_VERSION = 2
_VERSIONS = (1, 2)


_Time = Annotated[str, AfterValidator(readable_time)]


_Account = Annotated[str, AfterValidator(account_name)]


# An integration id as mapping files allow it (statusync.core.model.MAX_INTEGRATION_ID).
_Id = Annotated[int, Field(gt=0, le=MAX_INTEGRATION_ID)]


# The models below check a state that is not in the plain layout dump_state writes
# (_plain_state), and tell what is wrong with it: rarely needed, so built when first used
# (defer_build) rather than on every start.
class _RecordModel(BaseModel):
    """What an applied entry and an uncertain write both hold: a file's mapping, and whose."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    file: str
    sha256: str
    account: _Account = "default"
    name: str | None = None
    mapping: dict[str, str | None]


class _EntryModel(_RecordModel):
    applied_at: _Time


class _PendingModel(_RecordModel):
    sent_at: _Time


class _RemovedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    action: Literal["reset", "forget"]
    file: str = ""
    at: _Time


class _StateModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: int
    serial: Annotated[int, Field(ge=0, strict=True)]  # not true, nor 1.0
    lineage: str
    integrations: dict[_Id, _EntryModel]
    uncertain: dict[_Id, _PendingModel] = {}
    removed: dict[_Id, _RemovedModel] = {}


def load_state(path: Path) -> State:
    """The state at `path`, with the journal of a run that did not finish folded in; a missing
    file means nothing was applied yet.

    Anything unreadable is an error, never a silent reset: a reset would make the next apply
    believe nothing was applied and the one after forget every integration.
    """
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return _with_journal(State(), path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link to itself, or a directory on the way that is one
            fix = "fix the symbolic link, or point 'state' in statusync.yaml (or --state) at the state file"
            raise StatusyncError(f"{path}: cannot read the state file ({exc.strerror}); {fix}") from None
        raise StatusyncError(f"{path}: cannot read the state file: {exc.strerror}") from None
    return _with_journal(parse_state(raw, path), path)


def _with_journal(state: State, path: Path) -> State:
    """`state` with the journal that a run which did not finish left beside it folded in. Only
    such a run leaves one: the journal's rules (statusync.files.journal) are loaded for it alone,
    not on every plan."""
    if not os.path.lexists(path.with_name(path.name + ".journal")):  # files.journal.journal_path
        return state
    from statusync.files.journal import with_journal

    return with_journal(state, path)


def parse_state(raw: bytes, path: Path | str, *, restore_hint: bool = True) -> State:
    """The state in `raw`, the bytes of the state file `path` (named in errors): the file in the
    work tree, a version of it in git, or one side of a merge (which has no history to restore
    from: `restore_hint` False)."""

    def corrupt(detail: str, hint: str) -> StatusyncError:
        return StatusyncError(
            f"{path}: the state file is corrupt ({detail})" + (f"; {hint}" if restore_hint else "")
        )

    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise corrupt(
            str(exc), f"restore it from git history (git checkout -- {path}) rather than deleting it"
        ) from None
    version = data.get("version") if isinstance(data, dict) else None
    if version is not None and (type(version) is not int):  # not "1", 1.0 or true (== 1 all)
        meant = STATE_VERSION if data.get("removed") else 1  # the version dump_state writes
        raise corrupt(
            f'"version" is {json.dumps(version)[:40]}, not a whole number such as {meant}',
            f'write "version": {meant} if it was edited by hand, or restore it from git history',
        )
    if isinstance(data, dict) and data.get("version") not in (None, *_VERSIONS):
        raise StatusyncError(
            f"{path}: state version {data.get('version')!r} is not supported by this statusync "
            f"(it reads versions 1 to {STATE_VERSION}); upgrade statusync"
        )
    plain = _plain_state(data)
    if plain is not None:
        return plain
    try:
        return _modelled_state(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = where_in(first["loc"])
        raise corrupt(
            f"{where}: {first['msg'].removeprefix('Value error, ')}",
            "restore it from git history rather than deleting it",
        ) from None


def _modelled_state(data: Any) -> State:
    """The state in `data` as the models read it (ValidationError when they refuse it)."""
    model = _StateModel.model_validate(data)
    entries = {
        i: Entry(e.file, e.sha256, e.account, e.name, {c: e.mapping.get(c) for c in CATEGORIES}, e.applied_at)
        for i, e in sorted(model.integrations.items())
    }
    uncertain = {
        i: Pending(p.file, p.sha256, p.account, p.name, {c: p.mapping.get(c) for c in CATEGORIES}, p.sent_at)
        for i, p in sorted(model.uncertain.items())
    }
    # A record replaces its tombstone; a file edited by hand to hold both means the record.
    removed = {
        i: Removed(r.file, r.action == "reset", r.at)
        for i, r in sorted(model.removed.items())
        if i not in entries
    }
    return State(
        serial=model.serial, lineage=model.lineage, entries=entries, uncertain=uncertain, removed=removed
    )


_TOP_KEYS = {"version", "serial", "lineage", "integrations"}
_ALL_TOP_KEYS = {*_TOP_KEYS, "uncertain", "removed"}
_ENTRY_KEYS = {"file", "sha256", "account", "name", "mapping", "applied_at"}
_PENDING_KEYS = {"file", "sha256", "account", "name", "mapping", "sent_at"}
_REMOVED_KEYS = ({"action", "file", "at"}, {"action", "at"})
_NAME_TYPES = {str, type(None)}  # of a name, and of a mapping's value
_R = TypeVar("_R", Entry, Pending)


class _Seen(NamedTuple):
    """The accounts and the times already found to keep the rules: thousands of records share
    a few of each."""

    accounts: set[str]
    times: set[str]


def _plain_state(data: Any) -> State | None:
    """The state in `data` when it has the exact shapes `dump_state` writes and breaks no rule
    of the models; else None, for the models to check it (they may coerce a value, or tell what
    is wrong, as they always did).

    Every plan reads the state of every integration (10,000 of them on each pull request):
    checking these plain shapes by hand takes a third of the time the models take."""
    if type(data) is not dict or not _TOP_KEYS <= data.keys() <= _ALL_TOP_KEYS:
        return None
    version, serial, lineage = data["version"], data["serial"], data["lineage"]
    if type(version) is not int or version not in _VERSIONS or type(serial) is not int or serial < 0:
        return None
    if type(lineage) is not str:
        return None
    seen = _Seen(set(), set())
    entries = _plain_records(data["integrations"], _ENTRY_KEYS, "applied_at", Entry, seen)
    uncertain = _plain_records(data.get("uncertain", {}), _PENDING_KEYS, "sent_at", Pending, seen)
    removed = _plain_removed(data.get("removed", {}))
    if entries is None or uncertain is None or removed is None:
        return None
    return State(
        serial=serial,
        lineage=lineage,
        entries=dict(sorted(entries.items())),
        uncertain=dict(sorted(uncertain.items())),
        removed={i: r for i, r in sorted(removed.items()) if i not in entries},
    )


def _plain_records(
    records: Any, keys: set[str], time_key: str, make: Callable[..., _R], seen: _Seen
) -> dict[int, _R] | None:
    """`make(file, sha256, account, name, mapping, time)` of each record."""
    if type(records) is not dict:
        return None
    plain: dict[int, _R] = {}
    for key, record in records.items():
        integration_id = _plain_id(key)
        if integration_id is None or type(record) is not dict or record.keys() != keys:
            return None
        file, sha256, account, name = record["file"], record["sha256"], record["account"], record["name"]
        mapping, at = record["mapping"], record[time_key]
        if type(file) is not str or type(sha256) is not str or type(name) not in _NAME_TYPES:
            return None
        if type(mapping) is not dict or not _NAME_TYPES.issuperset(map(type, mapping.values())):
            return None
        if type(account) is not str or type(at) is not str:  # before the sets: a list is unhashable
            return None
        if account not in seen.accounts:
            if not re.fullmatch(ACCOUNT_NAME_PATTERN, account):
                return None
            seen.accounts.add(account)
        if at not in seen.times:
            if not _plain_time(at):
                return None
            seen.times.add(at)
        # As written, the four categories in order: the dict JSON made is the mapping.
        if tuple(mapping) != CATEGORIES:
            mapping = {c: mapping.get(c) for c in CATEGORIES}
        plain[integration_id] = make(file, sha256, account, name, mapping, at)
    return plain


def _plain_removed(removed: Any) -> dict[int, Removed] | None:
    if type(removed) is not dict:
        return None
    plain: dict[int, Removed] = {}
    for key, record in removed.items():
        integration_id = _plain_id(key)
        if integration_id is None or type(record) is not dict or record.keys() not in _REMOVED_KEYS:
            return None
        action, file, at = record["action"], record.get("file", ""), record["at"]
        if action not in ("reset", "forget") or type(file) is not str or type(at) is not str:
            return None
        if not _plain_time(at):
            return None
        plain[integration_id] = Removed(file, action == "reset", at)
    return plain


def _plain_id(key: str) -> int | None:
    """An integration id written as dump_state writes it ("7", not "07" or "+7"); a key of more
    digits than any id has is left to the models, which name it without reading it whole."""
    if key.isascii() and key.isdigit() and key[0] != "0" and len(key) <= 16:
        integration_id = int(key)
        return integration_id if integration_id <= MAX_INTEGRATION_ID else None
    return None


def _plain_time(text: str) -> bool:
    try:
        readable_time(text)
    except ValueError:
        return False
    return True


class EntryTexts:
    """The text of each applied entry of a state, made ahead of its write: a run makes them
    while it waits on the API (`make`, on a thread of its own), and the state written at its end
    then writes anew only the entries that changed, 5 ms at 10,000 integrations rather than 30.
    A text is used only for the very entry it was made from (entries are immutable)."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[Entry, str]] = {}

    def make(self, entries: Mapping[int, Entry]) -> None:
        """The texts of `entries`, a mapping that does not change meanwhile."""
        known: dict[tuple[str | None, ...], str] = {}
        texts = self._texts
        for integration_id, entry in entries.items():
            texts[integration_id] = (entry, _record_text(integration_id, entry, "applied_at", known))

    def get(self, integration_id: int, entry: Entry | Pending) -> str | None:
        made = self._texts.get(integration_id)
        return made[1] if made is not None and made[0] is entry else None


def dump_state(state: State, made: EntryTexts | None = None) -> bytes:
    """The state's text: exactly `json.dumps` of its data (version, serial, lineage, then the
    integrations, the uncertain writes and the tombstones, each by id; the last two only when
    there are any) with `indent=2` and `ensure_ascii=False`, and a newline, every character that
    is not printable escaped (text.json_safe). Sorted, indented, newline-terminated and without a
    right-to-left override to reorder a line: the state is committed, so its diffs are read.

    Written a record at a time from a template, each string escaped by json's own C function, as
    dump_catalog writes the catalog: a run writes the state at its end, after the last answer of
    the API, and at 10,000 integrations a generic indenting writer took 80 to 140 ms of that
    time, this about 30. A test holds the two texts equal, but for a lone surrogate, which
    only its escape can write (files.json_utf8). `made`: the texts of entries made ahead."""
    known: dict[tuple[str | None, ...], str] = {}  # the text of each mapping written so far
    pieces = [
        "{\n"
        f'  "version": {STATE_VERSION if state.removed else 1},\n'
        f'  "serial": {state.serial},\n'
        f'  "lineage": {json_string(state.lineage)},\n'
        '  "integrations": ',
        *_records(state.entries, "applied_at", known, made),
    ]
    if state.uncertain:
        pieces += [',\n  "uncertain": ', *_records(state.uncertain, "sent_at", known, None)]
    if state.removed:
        pieces += [
            ',\n  "removed": ',
            *_section([_removed_text(i, r) for i, r in sorted(state.removed.items())]),
        ]
    pieces.append("\n}\n")
    # One text made of the pieces, then its bytes: each copy of 4 MB (at 10,000 integrations)
    # costs a millisecond or two.
    return utf8("".join(pieces))


def _section(records: list[str]) -> tuple[str, ...]:
    """An object of `records`, in pieces: its opening, its records and its closing."""
    return ("{\n", ",\n".join(records), "\n  }") if records else ("{}",)


def _records(
    records: Mapping[int, Entry | Pending],
    time_key: str,
    known: dict[tuple[str | None, ...], str],
    made: EntryTexts | None,
) -> tuple[str, ...]:
    """The applied entries or the uncertain writes, each with its time under `time_key`."""
    texts = []
    for integration_id, record in sorted(records.items()):
        text = None if made is None else made.get(integration_id, record)
        texts.append(text or _record_text(integration_id, record, time_key, known))
    return _section(texts)


def _record_text(
    integration_id: int, record: Entry | Pending, time_key: str, known: dict[tuple[str | None, ...], str]
) -> str:
    return (
        f'    "{integration_id}": {{\n'
        f'      "file": {json_string(record.file)},\n'
        f'      "sha256": {json_string(record.sha256)},\n'
        f'      "account": {json_string(record.account)},\n'
        f'      "name": {_string_or_null(record.name)},\n'
        f'      "mapping": {_mapping_text(record.mapping, known)},\n'
        f'      "{time_key}": {json_string(getattr(record, time_key))}\n'
        "    }"
    )


# A mapping as the state holds it: the four categories, in order (core.model.MappingDict).
_MAPPING = "{\n" + ",\n".join(f"        {json_string(c)}: %s" for c in CATEGORIES) + "\n      }"


def _mapping_text(mapping: MappingDict, known: dict[tuple[str | None, ...], str]) -> str:
    """`mapping` as it is nested in a record; `known` keeps the text of each mapping of the four
    categories written so far, by its values: most shops share a few, and a lookup is faster
    than escaping four values again."""
    if tuple(mapping) != CATEGORIES:
        # Any other dict, as json.dumps writes it: its only line breaks are its own (one inside a
        # string is escaped), so indenting them nests it.
        return json_safe(json.dumps(mapping, indent=2, ensure_ascii=False)).replace("\n", "\n      ")
    values = tuple(mapping.values())
    text = known.get(values)
    if text is None:
        text = known[values] = _MAPPING % tuple(map(_string_or_null, values))
    return text


def _string_or_null(text: str | None) -> str:
    return "null" if text is None else json_string(text)


def _removed_text(integration_id: int, removed: Removed) -> str:
    return (
        f'    "{integration_id}": {{\n'
        f'      "action": "{"reset" if removed.reset else "forget"}",\n'
        f'      "file": {json_string(removed.file)},\n'
        f'      "at": {json_string(removed.at)}\n'
        "    }"
    )


def merge_bytes(
    base: bytes | None, ours: bytes, theirs: bytes | None, *, where: tuple[str, str, str]
) -> MergedState:
    """Merge three versions of the state file (None: no such file; an empty ancestor too, as
    git gives for a file both branches added); `where` names them, in errors and in reports.
    git's merge driver (`statusync merge-state`) and --push, when someone pushed first, both
    merge with it."""
    from statusync.core.state_merge import merge_states

    ancestor = State() if base is None or not base.strip() else _parse_named(base, where[0])
    return merge_states(
        ancestor,
        _parse_named(ours, where[1]),
        _parse_named(theirs, where[2]),
        labels=(where[1], where[2]),
        now=datetime.now(UTC),
    )


def _parse_named(raw: bytes | None, where: str) -> State:
    """A version of the state that a merge names by its role, not by a path to restore it at."""
    return State() if raw is None else parse_state(raw, where, restore_hint=False)


def check_writable(path: Path) -> None:
    """Fail now, before a run sends anything, when it could not record what the API accepts:
    the directory of the state (its journal and lock) and, when the state is a symlink, the
    directory of its target (where its atomic write makes the temporary file) must take a new
    file. A cheap probe: create and remove a file named like a state write's temporary file,
    which the next run removes should this one die in between (files.atomic.remove_temp_files).
    """
    directories = [path.parent]
    target = Path(os.path.realpath(path)).parent
    if target != Path(os.path.realpath(path.parent)):
        directories.append(target)
    for directory in directories:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StatusyncError(
                f"cannot record this run in the state {path}: the directory {directory} cannot "
                f"be created or written ({exc.strerror or exc}); nothing was sent. Make it "
                "writable, or give another state file with --state"
            ) from None


def save_state(path: Path, state: State, made: EntryTexts | None = None) -> State:
    """Write `state` with the next serial, atomically; return what was written. `made`: the
    texts of entries made ahead (EntryTexts)."""
    written = replace(state, serial=state.serial + 1, lineage=state.lineage or str(uuid.uuid4()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # .statusync/ on the first apply
    except OSError as exc:
        raise StatusyncError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    atomic_write(path, dump_state(written, made))
    return written
