"""One run at a time per state file: apply, reconcile and import hold this lock throughout.

An flock() on a side file: the kernel drops it when the holder dies, even by SIGKILL, so a
crashed run never leaves a lock behind that blocks the next one.

The side file itself is never removed: a run waiting on it holds it open, and once the holder
unlinked it, a third run would create a new file and lock that one while the waiter locks the
old, unlinked one, two runs at once. An empty file that stays is the price; it is kept out of
git (.gitignore), and its presence means nothing, only the lock on it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from statusync.errors import StatusyncError

DEFAULT_LOCK_TIMEOUT = 60.0
# What open() says of a file it may not create: a read-only file system, or no permission.
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
_POLL = 0.1


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


@contextmanager
def state_lock(
    state_path: Path,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[], None] | None = None,
    unless_read_only: bool = False,
) -> Iterator[None]:
    """Hold the lock of `state_path`, waiting at most `timeout` seconds for another run.

    `unless_read_only`: where the lock file cannot be created for want of permission (a
    read-only checkout), go on without it: no run can write beside it there either, so there is
    nothing to keep apart, and a write the caller then tries fails with its own error."""
    path = lock_path(state_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if unless_read_only and exc.errno in _READ_ONLY:
            yield
            return
        raise StatusyncError(f"cannot create the lock file {path}: {exc.strerror or exc}") from None
    try:
        deadline = clock() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock() >= deadline:
                    raise StatusyncError(
                        f"another statusync run holds the lock on {state_path} "
                        f"(waited {timeout:g}s); wait for it to finish and try again"
                    ) from None
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
