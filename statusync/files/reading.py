"""Reading a file that must be a regular one (statusync.yaml, the state), and the mapping files.

A symbolic link to /dev/null would read as an empty file (the default settings, or a state that
looks corrupt), and one to a FIFO would wait for a writer forever: both are refused as what
they are, not a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """`path` exists but is a pipe, socket, device or directory; `strerror` says so for messages."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            errno.EINVAL,
            "not a regular file (a pipe, socket or device); it must be a regular file",
            str(path),
        )


def read_regular(path: Path) -> bytes:
    """The bytes of the regular file at `path`, symbolic links followed. Raises OSError as open()
    does (FileNotFoundError for none), and NotRegularFile for anything else that is there."""
    # O_NONBLOCK: opening a FIFO that no one writes to would otherwise wait here.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(path)
        return file.read()


def read_file(path: str) -> bytes:
    """The bytes of the file at `path`, read with plain system calls: for the many small mapping
    files, whose type the scan has checked, open() and its buffered reader cost more than the
    reading itself. Raises OSError as open() does."""
    # O_NONBLOCK: a file swapped for a FIFO since the scan must not wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        chunks = []
        while chunk := os.read(fd, _CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


_CHUNK = 1 << 16
