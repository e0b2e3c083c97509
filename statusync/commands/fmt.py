"""`statusync fmt`: rewrite mapping files in canonical form, keeping comments."""

from __future__ import annotations

from statusync.console import Console, plural
from statusync.errors import CHANGES, OK
from statusync.workspace import Workspace


def run(ws: Workspace, console: Console, *, check: bool) -> int:
    from statusync.files.canonical import format_files
    from statusync.files.mappings import discover

    changed = format_files(discover(ws.mappings_dir, ws.root), ws.root, check)
    verb = "would reformat" if check else "reformatted"
    for file in changed:
        console.out.write(f"{verb} {file}\n")
    if check and changed:
        console.out.write(
            f"{plural(len(changed), 'file')} not in canonical form; run 'statusync fmt' to fix\n"
        )
        return CHANGES
    return OK
