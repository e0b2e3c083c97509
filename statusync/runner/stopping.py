"""What Ctrl-C and SIGTERM do: the signal handler of statusync.cli calls `stop_requested`.

- During a run of requests, the first signal stops it at its next safe point: no new request
  leaves, every wait ends at once, the requests on the wire finish and are recorded, and the
  command says what was done and what was not (statusync.runner.bounded).
- A second signal during that wind-down exits at once. The journal makes that safe: whatever
  the API accepted is in it, and the writes still on the wire are intents without an answer,
  uncertain for the next run. The hooks registered with `before_hard_exit` (the recorder's) fold
  it into the state file first, so that the state a CI job commits next is complete.
- During the state's write at the end of a run (`uninterrupted`), the first signal waits for
  the write, some milliseconds, and interrupts right after it: cut short, the write would leave
  what the run did in the journal only, which a CI job does not commit.
- Anywhere else (reading files, the confirmation prompt) the command is interrupted at once, as
  by a KeyboardInterrupt.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import NoReturn

from statusync.errors import ERROR
from statusync.runner.bounded import running, stop_running
from statusync.sendcloud.pacing import requests_on_the_wire
from statusync.text import plural

# Each returns a line for the user about what it saved, or None.
_hooks: list[Callable[[], str | None]] = []
_held = 0  # blocks under way that a signal must not cut short (`uninterrupted`)
_waiting = False  # a signal arrived during one of them: it interrupts once they are done


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold the first Ctrl-C or SIGTERM off the block; it interrupts right after it (a
    KeyboardInterrupt). A second one during the block interrupts at once, as anywhere."""
    global _held, _waiting
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        interrupt = _held == 0 and _waiting
        if _held == 0:
            _waiting = False  # also when the block was cut short by a second signal
    if interrupt:
        raise KeyboardInterrupt


@contextlib.contextmanager
def before_hard_exit(hook: Callable[[], str | None]) -> Iterator[None]:
    """Run `hook` if the process exits at once while the block runs."""
    _hooks.append(hook)
    try:
        yield
    finally:
        _hooks.remove(hook)


def stop_requested() -> bool:
    """A stop signal arrived: True when a run of requests will stop at its next safe point, or
    the state's write under way will interrupt once done (`uninterrupted`); False when the caller
    should interrupt at once. Never returns when asked a second time while a run is still
    winding down: the process exits."""
    global _waiting
    if _held and not _waiting:
        _waiting = True
        _say("\nStopping once the state is written (a second Ctrl-C or SIGTERM stops at once).\n")
        return True
    if stop_running():
        _say(_stopping())
        return True
    if running():
        _exit_now()
    return False


def _stopping() -> str:
    """What the first signal does, said at once: the requests on the wire may take seconds (up
    to the request timeout) to come back, and a silent wait looks like a hang."""
    count = requests_on_the_wire()
    if count == 0:
        return "\nStopping: no request is on the wire.\n"
    # Writes, that is: a read on the wire is only read again by the next run.
    uncertain = "; the writes among them are then recorded as uncertain" if _hooks else ""
    return (
        f"\nStopping: waiting for {plural(count, 'request')} on the wire (a second Ctrl-C or "
        f"SIGTERM exits at once{uncertain}).\n"
    )


def _say(text: str) -> None:
    # Straight to the file descriptor: this runs in a signal handler, which may have interrupted
    # the main thread in the middle of a write to sys.stderr (its buffer is not reentrant).
    with contextlib.suppress(OSError):
        os.write(2, text.encode())


def _exit_now() -> NoReturn:
    notes = []
    for hook in list(_hooks):
        try:
            note = hook()
        except Exception as exc:  # exiting anyway: the journal stays for the next run
            note = f"the journal was kept for the next run ({exc})"
        if note:
            notes.append(note)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # the main thread may have been writing to it
            stream.flush()
    _say("\nStopped at once (asked twice)." + "".join(f" {n}" for n in notes) + "\n")
    os._exit(ERROR)
