"""`statusync merge-state BASE OURS THEIRS`: git's merge driver for the state file.

git calls it as `statusync merge-state %O %A %B` when two branches changed `.statusync/state.json`
(with `merge=statusync` in .gitattributes and the driver set in git's config): the merged state
goes to OURS, exit 0; exit 1 leaves the conflict to the user. `--push` merges with the same
function when someone pushed first.
"""

from __future__ import annotations

from pathlib import Path

from statusync.console import Console
from statusync.core.state import State
from statusync.core.state_merge import MergedState, merge_states
from statusync.errors import OK, StatusyncError
from statusync.files.atomic import atomic_write
from statusync.files.state_file import dump_state, parse_state


def run(console: Console, base: Path, ours: Path, theirs: Path) -> int:
    try:
        # git gives an empty BASE when there is no common ancestor (both branches added the
        # file); a missing one means the same.
        ancestor = _read(base, "BASE") if base.exists() else None
        merged = merge_bytes(ancestor, _read(ours, "OURS"), _read(theirs, "THEIRS"),
                             where=("the common ancestor", "ours", "theirs"))
    except StatusyncError as exc:
        raise StatusyncError(f"cannot merge the state: {exc}; git leaves the conflict in the "
                             "state file for you to resolve") from None
    for note in merged.notes():
        console.note(f"statusync merge-state: {note}")
    atomic_write(ours, dump_state(merged.state))
    return OK


def merge_bytes(base: bytes | None, ours: bytes, theirs: bytes | None, *,
                where: tuple[str, str, str]) -> MergedState:
    """Merge three versions of the state file (None: no such file; an empty ancestor too, as
    git gives for a file both branches added); `where` names them, in errors and in reports."""
    ancestor = State() if base is None or not base.strip() else _parse(base, where[0])
    return merge_states(ancestor, _parse(ours, where[1]), _parse(theirs, where[2]),
                        labels=(where[1], where[2]))


def _parse(raw: bytes | None, where: str) -> State:
    return State() if raw is None else parse_state(raw, where, restore_hint=False)


def _read(path: Path, role: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StatusyncError(f"{role} {path} does not exist") from None
    except OSError as exc:
        raise StatusyncError(f"cannot read {role} {path}: {exc.strerror or exc}") from None
