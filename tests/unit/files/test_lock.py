import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from statusync.errors import StatusyncError
from statusync.files.lock import state_lock
from tests.support.fake_time import FakeTime


def test_second_holder_waits_a_bounded_time_then_fails_clearly(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    clock = FakeTime()
    waits: list[str] = []
    with (
        state_lock(state),
        pytest.raises(StatusyncError, match="another statusync run holds the lock") as info,
        state_lock(state, 2.0, clock=clock.clock, sleep=clock.sleep, on_wait=lambda: waits.append("waiting")),
    ):
        pass
    assert str(state) in str(info.value)
    assert 2.0 <= clock.now < 2.5
    assert waits == ["waiting"]


def test_lock_is_free_again_after_release(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with state_lock(state):
        pass
    with state_lock(state, 0):
        pass


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from statusync.files.lock import state_lock
        with state_lock(Path({str(state)!r})):
            print("held", flush=True)
            time.sleep(60)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StatusyncError), state_lock(state, 0):
            pass
        holder.kill()  # SIGKILL: no cleanup code runs
        holder.wait()
        with state_lock(state, 5):
            pass
    finally:
        holder.kill()
        holder.wait()
