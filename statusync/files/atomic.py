"""Writing files so that readers see the old or the new content, never a mix."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from statusync.errors import StatusyncError


def _new_file_mode() -> int:
    # What open() would give a new file: 0o666 less the umask (read without changing it for
    # long: os.umask is the only way to learn it).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, data: bytes) -> None:
    """Replace the file at `path` with `data` (temp file, fsync, rename), keeping its permissions.

    A symlink is written through (its target is replaced, the link stays), and anything but a
    regular file is refused rather than replaced: `--out /dev/stdout` must not swap a device
    for a file. A failure (permissions, a missing directory, a full disk) is a StatusyncError
    naming the file; the old content is then still in place.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG | _new_file_mode()
    except OSError as exc:
        raise StatusyncError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise StatusyncError(f"refusing to write {path}: it exists and is not a regular file")
    try:
        _replace(target, data, stat.S_IMODE(mode))
    except OSError as exc:
        raise StatusyncError(f"cannot write {path}: {exc.strerror or exc}") from None


def _replace(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # The rename itself must reach the disk too, or a power loss could bring the old file back.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
