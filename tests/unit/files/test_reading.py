import os
from pathlib import Path

import pytest

from statusync.files.reading import _CHUNK, NotRegularFile, read_file, read_regular


@pytest.mark.parametrize("size", [0, 1, _CHUNK - 1, _CHUNK, _CHUNK + 1, 3 * _CHUNK + 5])
def test_a_file_is_read_whole_whatever_its_size(tmp_path: Path, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    path = tmp_path / "shop.yaml"
    path.write_bytes(data)
    assert read_file(str(path)) == data
    assert read_regular(path) == data


def test_a_missing_file_is_the_os_error_open_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_file(str(tmp_path / "gone.yaml"))


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile):
        read_regular(fifo)
