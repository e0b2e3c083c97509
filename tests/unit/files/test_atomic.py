import errno
import os
import stat
from pathlib import Path

import pytest

from statusync.errors import StatusyncError
from statusync.files.atomic import atomic_write


def test_replaces_content_and_keeps_permissions(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["f"]


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_bytes(b"old")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_a_device_is_refused_not_replaced(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to("/dev/null")
    with pytest.raises(StatusyncError, match="not a regular file"):
        atomic_write(link, b"x")
    assert os.path.realpath(link) == "/dev/null" and Path("/dev/null").is_char_device()


def test_a_missing_directory_is_an_error_not_created(tmp_path: Path) -> None:
    with pytest.raises(
        StatusyncError,
        match=r"cannot write .*nowhere/f: the directory "
        r".*nowhere does not exist; create it first",
    ):
        atomic_write(tmp_path / "nowhere" / "f", b"x")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (errno.ENOSPC, "; free space on the disk that holds it"),
        (errno.EROFS, "; the file system is read-only: make it writable, or work in a checkout that is"),
        (errno.EACCES, "; check the permissions of the file and of its directory"),
        (errno.EIO, ""),  # no fix known: the reason alone
    ],
)
def test_a_failed_write_says_what_to_do_when_that_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, fix: str
) -> None:
    def failing(path: Path, data: bytes, mode: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("statusync.files.atomic._replace", failing)
    path = tmp_path / "state.json"
    with pytest.raises(StatusyncError) as raised:
        atomic_write(path, b"{}")
    assert str(raised.value) == f"cannot write {path}: {os.strerror(code)}{fix}"
