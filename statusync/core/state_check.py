"""The state checked against the mapping files it claims to have recorded.

`plan` and `apply` take a file whose bytes are exactly those the state recorded (same path, same
sha256) from the state, without parsing it: that is what keeps them fast at 10,000 files, and it
makes apply send exactly what the reviewed plan showed. A state edited by hand so that a record
keeps a file's hash but says something else would make both show and send what the record says,
not what the file says. `validate`, which parses every file anyway (the first step of the plan
workflow, and the pre-commit hook), finds such records and fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from statusync.core.model import CATEGORIES, LoadedSpec
from statusync.core.state import State
from statusync.core.status_check import Finding
from statusync.text import printable, quote


def hand_edits(state: State, specs: Iterable[LoadedSpec], state_shown: str) -> list[tuple[str, Finding]]:
    """(file, finding) for each value that a record of a file's exact bytes says otherwise than
    the file; `state_shown` names the state in the messages."""
    index = state.spec_index()
    found: list[tuple[str, Finding]] = []
    for loaded in specs:
        hit = index.get((loaded.file, loaded.sha256))
        if hit is None:
            continue
        recorded_id, entry = hit
        spec = loaded.spec
        # What is sent and with which keys; a name is only shown.
        pairs: list[tuple[tuple[str, ...], object, object]] = [
            (("integration_id",), recorded_id, spec.integration_id),
            (("account",), entry.account, spec.account),
        ]
        written = spec.mapping.as_dict()
        pairs += [(("mapping", c), entry.mapping.get(c), written[c]) for c in CATEGORIES]
        for loc, recorded, actual in pairs:
            if recorded != actual:
                found.append((loaded.file, Finding(loc, _message(loc, recorded, state_shown))))
    return found


def _message(loc: tuple[str, ...], recorded: object, state_shown: str) -> str:
    shown = "null" if recorded is None else quote(recorded) if isinstance(recorded, str) else str(recorded)
    state = printable(state_shown)
    return (
        f"{'.'.join(loc[1:]) or loc[0]}: the state {state} records {shown} here for this file's exact "
        f"bytes, so it was edited by hand: plan and apply, which take an unchanged file from the "
        f"state, would show and send {shown}. Restore the state from git history "
        f"(git log -p -- {state})"
    )
