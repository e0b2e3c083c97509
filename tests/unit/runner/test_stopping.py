"""Ctrl-C and SIGTERM during the state's write at the end of a run: what the signal handler of
statusync.cli is told (stop_requested: True, held off; False, interrupt at once)."""

import pytest

from statusync.runner.stopping import stop_requested, uninterrupted


def test_a_signal_during_the_state_write_interrupts_right_after_it(capfd: pytest.CaptureFixture[str]) -> None:
    done: list[str] = []
    with pytest.raises(KeyboardInterrupt), uninterrupted():
        assert stop_requested()  # held off: the handler returns
        done.append("state written")
    assert done == ["state written"]
    assert capfd.readouterr().err == (
        "\nStopping once the state is written (a second Ctrl-C or SIGTERM stops at once).\n"
    )
    with uninterrupted():
        done.append("the next write, with no signal")  # nothing left over from the last one
    assert not stop_requested()  # outside a write and a run: interrupt at once


def test_a_second_signal_during_the_state_write_interrupts_at_once() -> None:
    with pytest.raises(KeyboardInterrupt), uninterrupted():
        assert stop_requested()
        if not stop_requested():  # the handler raises, as statusync.cli's does
            raise KeyboardInterrupt
        pytest.fail("the second signal was held off too")
    with uninterrupted():
        pass  # the signals of the write cut short are not carried over to this one
