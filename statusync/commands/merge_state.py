"""`statusync merge-state BASE OURS THEIRS`: git's merge driver for the state file and the status
catalog (`.statusync/statuses.json`), told apart by their content (git names them by temporary
files).

git calls it as `statusync merge-state %O %A %B` when two branches changed `.statusync/state.json`
(with `merge=statusync` in .gitattributes and the driver set in git's config): the merged state
goes to OURS, exit 0; exit 1 leaves the conflict to the user. The merges themselves are the
files' own (statusync.files.state_file.merge_bytes, statusync.files.catalog_file's
merge_catalog_bytes: the newest read per integration wins), which --push uses too.
"""

from __future__ import annotations

from pathlib import Path

from statusync.console import Console
from statusync.errors import OK, StatusyncError
from statusync.files.atomic import atomic_write
from statusync.files.catalog_file import CATALOG_NAME, looks_like_catalog, merge_catalog_bytes
from statusync.files.state_file import dump_state, merge_bytes


def run(console: Console, base: Path, ours: Path, theirs: Path) -> int:
    ours_raw = _read(ours, "OURS")
    theirs_raw = _read(theirs, "THEIRS")
    # Each side decoded once to tell its kind: a catalog is megabytes of JSON.
    ours_catalog, theirs_catalog = looks_like_catalog(ours_raw), looks_like_catalog(theirs_raw)
    if ours_raw.strip() and theirs_raw.strip() and ours_catalog != theirs_catalog:
        kinds = ("a status catalog", "a state") if ours_catalog else ("a state", "a status catalog")
        raise StatusyncError(
            f"cannot merge: ours is {kinds[0]} and theirs {kinds[1]}, not two versions of one file "
            "(check the merge=statusync lines of .gitattributes); git leaves the conflict in the "
            "file for you to resolve"
        )
    if ours_catalog or theirs_catalog or ours.name == CATALOG_NAME:
        return _merge_catalogs(base, ours, ours_raw, theirs_raw)
    try:
        # git gives an empty BASE when there is no common ancestor (both branches added the
        # file); a missing one means the same.
        ancestor = _read(base, "BASE") if base.exists() else None
        merged = merge_bytes(
            ancestor,
            ours_raw,
            theirs_raw,
            where=("the common ancestor", "ours", "theirs"),
        )
    except StatusyncError as exc:
        raise StatusyncError(
            f"cannot merge the state: {exc}; git leaves the conflict in the state file for you to resolve"
        ) from None
    for note in merged.notes():
        console.note(f"statusync merge-state: {note}")
    atomic_write(ours, dump_state(merged.state))
    return OK


def _merge_catalogs(base: Path, ours: Path, ours_raw: bytes, theirs_raw: bytes) -> int:
    try:
        ancestor = _read(base, "BASE") if base.exists() else None
        merged = merge_catalog_bytes(
            ancestor, ours_raw, theirs_raw, where=("the common ancestor", "ours", "theirs")
        )
    except StatusyncError as exc:
        raise StatusyncError(
            f"cannot merge the status catalog: {exc}; git leaves the conflict in the file for you to "
            "resolve (or take either side and run 'statusync statuses --refresh')"
        ) from None
    atomic_write(ours, merged)
    return OK


def _read(path: Path, role: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StatusyncError(f"{role} {path} does not exist") from None
    except OSError as exc:
        raise StatusyncError(f"cannot read {role} {path}: {exc.strerror or exc}") from None
