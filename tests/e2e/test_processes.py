"""Real processes against the sandbox: SIGKILL halfway, two applies at once, a terminal user."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable

import pytest

from statusync.files.state_file import load_state
from statusync.sandbox import SandboxServer
from tests.support.project import MAPPING_PATH, Project, live

Start = Callable[..., SandboxServer]


def statusync(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "CI": "1"}
    return subprocess.Popen([sys.executable, "-m", "statusync", *args], env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]


def accepted(server: SandboxServer) -> list[int]:
    return [r.integration_id for r in server.store.requests()  # type: ignore[misc]
            if r.method == "POST" and r.path == MAPPING_PATH and r.status == 200]


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_sigkill_halfway_leaves_a_truthful_state_and_a_second_apply_converges(
        project: Project, sandbox: Start) -> None:
    ids = range(1, 25)
    for i in ids:
        project.mapping(i)
    server = sandbox(latency=0.1)
    proc = statusync("apply", "--yes", "--parallelism", "2")
    wait_until(lambda: len(accepted(server)) >= 8)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    state = load_state(project.state_file)  # readable, not half-written
    assert state.entries, "some successes were recorded before the kill"
    assert set(state.entries) <= set(accepted(server))  # claims nothing the API did not accept
    assert len(accepted(server)) < len(ids)  # the kill really came halfway

    before = Counter(accepted(server))
    second = statusync("apply", "--yes", "--parallelism", "4", "--lock-timeout", "5")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert sorted(load_state(project.state_file).entries) == list(ids)
    resent = Counter(accepted(server)) - before
    # Only what the first run had not recorded is sent again (at most the in-flight ones twice).
    assert set(resent) == set(ids) - set(state.entries)
    for i in ids:
        assert live(server, i)["READY_TO_SEND"] == "1"
    check = statusync("plan", "--detailed-exitcode")
    check.communicate(timeout=30)
    assert check.returncode == 0


def test_two_applies_at_once_never_post_an_integration_twice(project: Project, sandbox: Start) -> None:
    ids = range(1, 13)
    for i in ids:
        project.mapping(i)
    server = sandbox(latency=0.2)
    first = statusync("apply", "--yes")
    second = statusync("apply", "--yes")
    results = [p.communicate(timeout=60) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, results
    assert Counter(accepted(server)) == Counter(ids)  # each exactly once
    # One run did the work; the other waited for the lock, then planned from its results.
    outs = sorted(out for out, _ in results)
    assert outs[0].startswith("No changes.")
    assert "12 created" in outs[1]
    assert any("Waiting for another statusync run" in err for _, err in results)
    assert sorted(load_state(project.state_file).entries) == list(ids)


def test_on_a_terminal_apply_asks_and_shows_a_progress_bar(project: Project, sandbox: Start) -> None:
    for i in (1, 2, 3):
        project.mapping(i)
    server = sandbox()
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen([sys.executable, "-m", "statusync", "apply"], env=env, text=True,
                            stdin=slave, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    os.write(master, b"y\n")
    out, _ = proc.communicate(timeout=60)
    screen = b""
    try:
        while chunk := os.read(master, 4096):
            screen += chunk
    except OSError:
        pass  # the terminal closed with the process
    os.close(master)
    assert proc.returncode == 0, out
    assert "Apply these changes? [y/N]" in out
    assert "3 created" in out
    assert "Applying" in screen.decode(errors="replace")
    assert sorted(set(accepted(server))) == [1, 2, 3]


def test_on_a_terminal_answering_no_changes_nothing(project: Project, sandbox: Start) -> None:
    project.mapping(1)
    server = sandbox()
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "statusync", "apply"], text=True,
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    os.write(master, b"n\n")
    out, err = proc.communicate(timeout=60)
    os.close(master)
    assert proc.returncode == 1 and "cancelled" in err
    # Only the read of what the create would replace, shown before the question.
    assert [r.method for r in server.store.requests()] == ["GET"]
    assert not project.state_file.exists()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sandbox_command_serves_the_projects_integrations_and_stops_on_ctrl_c(project: Project) -> None:
    import httpx

    project.mapping(7, rts='"picked"', extra="name: Shop Seven\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "STATUSYNC_"))}
    proc = subprocess.Popen([sys.executable, "-m", "statusync", "sandbox", "--port", str(port)],
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        banner = ""
        while "Ctrl-C" not in banner:
            line = proc.stdout.readline()
            assert line, f"the sandbox stopped: {proc.stderr.read() if proc.stderr else ''}"
            banner += line
        assert f"http://127.0.0.1:{port}/api/v3" in banner
        assert "SENDCLOUD_PUBLIC_KEY=demo-public-key" in banner  # no keys set: the demo pair
        auth = ("demo-public-key", "demo-secret-key")
        base = f"http://127.0.0.1:{port}/api/v3"
        integrations = httpx.get(f"{base}/integrations", auth=auth).json()["data"]
        assert [(i["id"], i["shop_name"]) for i in integrations] == [(7, "Shop Seven")]
        statuses = httpx.get(f"{base}/shop-order-statuses", params={"integration_id": 7},
                             auth=auth).json()["data"]
        assert {s["external_id"] for s in statuses} == {"picked", "2", "3"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err and "stopped" in out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_lets_the_requests_under_way_finish_and_records_them(
        project: Project, sandbox: Start, signum: int) -> None:
    ids = range(1, 25)
    for i in ids:
        project.mapping(i)
    server = sandbox(latency=0.2)
    proc = statusync("apply", "--yes", "--parallelism", "4")
    wait_until(lambda: len(accepted(server)) >= 6)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "Aborted" in err and "Traceback" not in err
    # Everything the sandbox accepted is in the state: nothing was left in flight unrecorded.
    assert set(load_state(project.state_file).entries) == set(accepted(server))
    assert len(accepted(server)) < len(ids)
