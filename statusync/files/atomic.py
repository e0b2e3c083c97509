"""Writing files so that readers see the old or the new content, never a mix."""

from __future__ import annotations

import errno
import glob
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
    regular file is refused rather than replaced, and so is anything under /dev or /proc:
    `--out /dev/stdout` must not swap a device or the shell's output file for a new file.
    A failure (permissions, a missing directory, a full disk) is a StatusyncError
    naming the file; the old content is then still in place.
    """
    if _is_special(Path(os.path.abspath(path))):
        raise StatusyncError(
            f"refusing to write {path}: it is a device or a stream (a terminal, "
            "a pipe), not a file; give the path of a file to write"
        )
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG | _new_file_mode()
        if not target.parent.is_dir():
            raise StatusyncError(
                f"cannot write {path}: the directory {target.parent} does not "
                "exist; create it first, or write somewhere else"
            ) from None
    except OSError as exc:
        raise StatusyncError(write_error(path, exc)) from None
    if not stat.S_ISREG(mode) or _is_special(target):
        raise StatusyncError(f"refusing to write {path}: it exists and is not a regular file")
    try:
        _replace(target, data, stat.S_IMODE(mode))
    except OSError as exc:
        raise StatusyncError(write_error(path, exc)) from None


# What to do about the errors a write meets most, beyond the system's own words.
_FIXES = {
    errno.ENOSPC: "free space on the disk that holds it",
    errno.EDQUOT: "free space within your disk quota",
    errno.EROFS: "the file system is read-only: make it writable, or work in a checkout that is",
    errno.EACCES: "check the permissions of the file and of its directory",
    errno.EPERM: "check the permissions of the file and of its directory",
}


def write_fix(exc: OSError) -> str | None:
    """What to do about an error met writing a file, when that is known."""
    return _FIXES.get(exc.errno or 0)


def write_error(path: Path, exc: OSError) -> str:
    """`cannot write PATH: <the system's reason>`, and what to do about it when that is known."""
    fix = write_fix(exc)
    return f"cannot write {path}: {exc.strerror or exc}" + (f"; {fix}" if fix else "")


def _is_special(path: Path) -> bool:
    """Whether `path` is under /dev or /proc: a device, or a stream of this process
    (/dev/stdout is /proc/self/fd/1, whose target may be a pipe with no path, or the file
    the shell redirected to, which renaming over would cut off from the shell)."""
    return path.parts[1:2] in (("dev",), ("proc",))


def remove_temp_files(path: Path) -> None:
    """Remove what a write of `path` killed halfway (SIGKILL, a power cut) left behind. Only for
    a file no one else writes meanwhile (the state, under its lock)."""
    target = Path(os.path.realpath(path))
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        tmp.unlink(missing_ok=True)


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
