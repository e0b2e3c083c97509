"""The intent journal on disk: `.statusync/state.json.journal` beside the state, while a run that
writes is under way (and after one that died).

One JSON object per line, appended, never rewritten:

    {"op": "begin", "version": 1, "base": "<lineage>:<serial>", "command": "apply"}
    {"op": "sent", "seq": 1, "id": 23452345, "removes": false, "file": "mappings/acme-nl.yaml",
     "sha256": "...", "account": "default", "name": "ACME NL", "mapping": {...}, "at": "..."}
    {"op": "answered", "seq": 1, "result": "ok", "at": "..."}
    {"op": "noted", "id": 23452345, "entry": {...} | null, "at": "..."}

A `sent` line reaches the disk (fdatasync) before its request leaves; an `answered` line is only
written: if the machine loses it, its intent looks unanswered and the integration uncertain,
which the next apply settles. A kill can tear the last line; a torn line was never acknowledged,
so it is skipped. The run folds the journal into state.json once, at its end, and removes it;
the next run folds whatever a run that died left behind (statusync.core.journal).

A journal's `mark` (a digest of its whole lines) goes into a saved plan: a plan made before a
run died and applied after sees another mark, and can say what changed the state it was made on.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statusync.core.journal import Answered, Fold, Noted, Record, Sent
from statusync.core.model import CATEGORIES
from statusync.core.state import Entry, Pending, State, account_name, readable_time, valid_integration_id
from statusync.errors import JournalUnwritable, StatusyncError
from statusync.files.atomic import write_fix
from statusync.text import plural, printable

JOURNAL_VERSION = 1
# fdatasync where there is one (Linux): the data and the file's size, not its times.
_datasync = getattr(os, "fdatasync", os.fsync)
_RESULTS = ("ok", "refused", "unknown")


def journal_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".journal")


@dataclass(frozen=True)
class Journal:
    """A journal as read from disk."""

    base: str  # the fingerprint of the state it began on
    records: list[Record]
    next_seq: int  # the first sequence number not used yet
    size: int  # bytes up to the last whole line (a torn one follows)
    mark: str = ""  # a digest of those bytes: tells this journal from another
    command: str = ""  # the command of the run that began it ("" before it was noted)

    def fold_into(self, state: State) -> State:
        folded = Fold(state, trusted=state.fingerprint == self.base)
        for record in self.records:
            folded.add(record)
        return folded.state()

    def describe(self) -> str:
        """The run that left this journal, for a person: "an interrupted apply (begun <time>, 2
        writes accepted, 1 of unknown outcome)"."""
        answers = {r.seq: r.result for r in self.records if isinstance(r, Answered)}
        sent = [r.seq for r in self.records if isinstance(r, Sent)]
        accepted = sum(1 for seq in sent if answers.get(seq) == "ok")
        unknown = sum(1 for seq in sent if answers.get(seq, "unknown") == "unknown")
        noted = sum(1 for r in self.records if isinstance(r, Noted))
        times = [_at(r) for r in self.records]
        what = [f"{plural(accepted, 'write')} accepted"]
        if unknown:
            what.append(f"{unknown} of unknown outcome")
        if noted:
            what.append(f"{plural(noted, 'integration')} recorded without a request")
        since = f"begun {min(times)}, " if times else ""
        # The file's words, escaped: whatever a damaged journal holds must not reach a terminal.
        return printable(f"an interrupted {self.command or 'run'} ({since}{', '.join(what)})")


def _at(record: Record) -> str:
    return record.write.sent_at if isinstance(record, Sent) else record.at


def journal_mark(state_path: Path) -> str:
    """The mark of the journal beside the state at `state_path`; "" when there is none."""
    journal = read_journal(journal_path(state_path))
    return "" if journal is None else journal.mark


def read_journal(path: Path) -> Journal | None:
    """The journal at `path`, or None when there is none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StatusyncError(f"{path}: cannot read the journal: {exc.strerror}") from None
    lines = raw.split(b"\n")
    lines.pop()  # after the last newline: empty, or a line torn by a kill (never acknowledged)
    base = command = ""
    records: list[Record] = []
    for number, line in enumerate(lines, start=1):
        try:
            data = json.loads(line)
            if number == 1:
                if data.get("op") != "begin" or data.get("version") != JOURNAL_VERSION:
                    raise ValueError("not a statusync journal of a version this statusync reads")
                base = str(data["base"])
                command = str(data.get("command", ""))
            else:
                records.append(_decode(data))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StatusyncError(
                f"{path}:{number}: the journal is damaged ({exc}). It holds writes of a run "
                "that did not finish; move it away and run 'statusync drift' to compare the "
                "state with what is live"
            ) from None
    seqs = [r.seq for r in records if isinstance(r, Sent)]
    size = raw.rfind(b"\n") + 1
    return Journal(
        base, records, max(seqs, default=0) + 1, size, hashlib.sha256(raw[:size]).hexdigest()[:16], command
    )


def with_journal(state: State, state_path: Path) -> State:
    """`state` with the journal a run left beside it folded in (in memory; nothing is written)."""
    journal = read_journal(journal_path(state_path))
    return state if journal is None else journal.fold_into(state)


class JournalWriter:
    """Appends records to the journal of one state, creating it on the first record; safe to
    use from many threads."""

    def __init__(self, path: Path, base: str, command: str = "") -> None:
        self.path = path
        self._base = base
        self._command = command  # named by a later command this run's journal may stop
        self._fd: int | None = None
        self._lock = threading.Lock()
        existing = read_journal(path)
        self.next_seq = 1 if existing is None else existing.next_seq
        self.existed = existing is not None
        self._whole = 0 if existing is None else existing.size

    def write(self, record: Record) -> None:
        """Append `record` (to the page cache: `sync` makes it durable). JournalUnwritable when
        it cannot be, with nothing of it left in the file."""
        line = (json.dumps(_encode(record), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        try:
            with self._lock:
                self._whole = _append(self._open(), line, self._whole)
        except OSError as exc:
            raise self._unwritable(exc) from None

    def sync(self) -> None:
        """Return once everything written so far is on the disk. Called without a lock held, so
        that the intents of several workers share one flush."""
        fd = self._fd
        if fd is None:
            return
        try:
            _datasync(fd)
        except OSError as exc:  # a full disk may only show here, when the blocks are allocated
            raise self._unwritable(exc) from None

    def _unwritable(self, exc: OSError) -> JournalUnwritable:
        # A write whose intent is not on the disk must not leave, and every write after it would
        # meet the same disk: the run stops (a StopRun), and says how to go on.
        return JournalUnwritable(
            f"cannot write the journal {self.path}: {exc.strerror or exc}; nothing is sent that "
            f"it cannot record first. {(write_fix(exc) or 'fix the cause').capitalize()}, then run "
            "the command again: it settles what this run sent"
        )

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if os.fstat(fd).st_size > self._whole:
                os.ftruncate(fd, self._whole)  # a line torn by a kill: the next would join it
            if os.fstat(fd).st_size == 0:
                header = {
                    "op": "begin",
                    "version": JOURNAL_VERSION,
                    "base": self._base,
                    **({"command": self._command} if self._command else {}),
                }
                try:
                    self._whole = _append(fd, (json.dumps(header) + "\n").encode(), 0)
                    os.fsync(fd)
                    _sync_directory(self.path.parent)  # the new name must survive a crash too
                except OSError:
                    os.close(fd)
                    with contextlib.suppress(OSError):
                        self.path.unlink()  # empty: no run is left to fold in
                    raise
            self._fd = fd
        return self._fd

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def remove(self) -> None:
        """Close and delete the journal: its records are in the state file now."""
        self.close()
        try:
            self.path.unlink(missing_ok=True)
            _sync_directory(self.path.parent)
        except OSError as exc:
            raise StatusyncError(f"cannot remove the journal {self.path}: {exc.strerror or exc}") from None


def _append(fd: int, line: bytes, whole: int) -> int:
    """Append all of `line` to the journal open at `fd`, whose whole lines end at `whole`; the
    size with it. A full disk may take part of a line and refuse the rest: what it took is cut
    off again before the error is raised, or the next line written (once space is freed) would
    join the torn one, and the journal would read as damaged."""
    view = memoryview(line)
    try:
        while view:
            written = os.write(fd, view)  # O_APPEND, under the writer's lock
            if written == 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[written:]
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, whole)
        raise
    return whole + len(line)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode(record: Record) -> dict[str, Any]:
    if isinstance(record, Sent):
        w = record.write
        return {
            "op": "sent",
            "seq": record.seq,
            "id": record.integration_id,
            "removes": record.removes,
            "file": w.file,
            "sha256": w.sha256,
            "account": w.account,
            "name": w.name,
            "mapping": dict(w.mapping),
            "at": w.sent_at,
        }
    if isinstance(record, Answered):
        return {"op": "answered", "seq": record.seq, "result": record.result, "at": record.at}
    entry = record.entry
    return {
        "op": "noted",
        "id": record.integration_id,
        "at": record.at,
        "entry": None
        if entry is None
        else {
            "file": entry.file,
            "sha256": entry.sha256,
            "account": entry.account,
            "name": entry.name,
            "mapping": dict(entry.mapping),
            "applied_at": entry.applied_at,
        },
    }


def _decode(data: dict[str, Any]) -> Record:
    """One line's record, holding only what the state file may hold (ValueError otherwise):
    folded in, it becomes the state, which the run writes at its end and every run reads."""
    op = data["op"]
    if op == "sent":
        return Sent(
            _whole(data["seq"]),
            valid_integration_id(data["id"]),
            bool(data["removes"]),
            Pending(
                _text(data["file"]),
                _text(data["sha256"]),
                _account(data["account"]),
                _name(data["name"]),
                _mapping(data["mapping"]),
                _time(data["at"]),
            ),
        )
    if op == "answered":
        if data["result"] not in _RESULTS:
            raise ValueError(f"unknown result {data['result']!r}")
        return Answered(_whole(data["seq"]), data["result"], _time(data["at"]))
    if op == "noted":
        e = data["entry"]
        entry = (
            None
            if e is None
            else Entry(
                _text(e["file"]),
                _text(e["sha256"]),
                _account(e["account"]),
                _name(e["name"]),
                _mapping(e["mapping"]),
                _time(e["applied_at"]),
            )
        )
        return Noted(valid_integration_id(data["id"]), entry, _time(data["at"]))
    raise ValueError(f"unknown record {op!r}")


def _whole(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"{_shown(value)} is not a whole number")
    return value


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(f"{_shown(value)} is not text")
    return value


def _name(value: Any) -> str | None:
    return None if value is None else _text(value)


def _account(value: Any) -> str:
    return account_name(_text(value))


def _time(value: Any) -> str:
    return readable_time(_text(value))


def _shown(value: Any) -> str:
    return repr(value)[:40]


def _mapping(data: Any) -> dict[str, str | None]:
    if type(data) is not dict:
        raise ValueError(f"{_shown(data)} is not a mapping of the four categories")
    return {c: _name(data[c]) for c in CATEGORIES}
