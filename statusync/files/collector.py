"""Loading thousands of mapping files without the garbage collector walking them again and again.

Loading makes a handful of objects per mapping file and per state entry (a spec, its mapping, an
entry, their dicts), which all stay alive until the command ends and none of which refer back to
one another in a circle: the collector can free none of them. Yet CPython counts them as they are
made and, every so many, walks every object alive in a full collection: 3 times while loading
10,000 files, 16 times at 100,000, a cost that grows faster than the number of files. So the
collector is held off while loading, and what is alive once loaded is frozen (gc.freeze): later
collections leave it alone and walk only what the command makes after. Reference counting still
frees a frozen object that is no longer used; `thaw` gives back to the collector whatever a run
froze, so that a process running several commands (the tests) keeps collecting its garbage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_frozen = False
_starting = False  # held off by `hold_off_while_starting`, until `started`


@contextmanager
def held_off() -> Iterator[None]:
    """No garbage collection in the block; what is alive at its end is frozen."""
    global _frozen
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        _frozen = True
        if enabled:
            gc.enable()


def hold_off_while_starting() -> None:
    """No collection while the statusync process starts: its imports (click, pydantic and the
    models it builds) make some hundred thousand objects that live as long as it does, and the
    collector walked them over and over, some 20 ms of a start-up of 300. `started` ends it."""
    global _starting
    if gc.isenabled():
        gc.disable()
        _starting = True


def started() -> None:
    """The command has started running (its modules imported, its command line read): what
    starting made is frozen, and the collector is on again (a long run, such as the sandbox's,
    needs it)."""
    global _starting, _frozen
    if _starting:
        gc.freeze()
        _frozen = True
        _starting = False
        gc.enable()


def thaw() -> None:
    """Give back to the collector what `held_off` froze (nothing when it froze nothing)."""
    global _frozen
    if _frozen:
        gc.unfreeze()
        _frozen = False
