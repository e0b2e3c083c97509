"""statusync in a process of its own, for what only a real process shows: signals, kills, two
runs at once."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

# What a process needs of the environment the tests run in; what statusync reads is the test's.
_PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def process_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a process a test starts: `env` (the `env` fixture, what the test set)
    on top of the few variables any process needs."""
    return {**{name: os.environ[name] for name in _PASSED_ON if name in os.environ}, **env}


def statusync(*args: str, env: Mapping[str, str], **kwargs: object) -> subprocess.Popen[str]:
    """`statusync ARGS` started in the background in the environment `env`, as a CI job (CI=1),
    its output piped (`kwargs` may say otherwise, such as stderr=subprocess.STDOUT)."""
    return subprocess.Popen(
        [sys.executable, "-m", "statusync", *args],  # type: ignore[call-overload]
        env={**process_env(env), "CI": "1"},
        text=True,
        **{"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs},
    )


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def read_until(proc: subprocess.Popen[str], text: str, timeout: float = 30) -> str:
    """What the process wrote to stderr up to `text`, read as it comes (the text layer of
    `proc.stderr` would wait for the end); `proc.communicate()` then gives the rest."""
    assert proc.stderr is not None
    fd, said = proc.stderr.fileno(), b""
    deadline = time.monotonic() + timeout
    while text.encode() not in said:
        assert time.monotonic() < deadline, f"timed out waiting for {text!r}; got {said!r}"
        if select.select([fd], [], [], 0.02)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"the process ended without saying {text!r}: {said.decode()!r}"
            said += chunk
    return said.decode()
