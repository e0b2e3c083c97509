"""Real processes against the sandbox: SIGKILL halfway, two applies at once, a terminal user."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync.files.state_file import load_state
from statusync.sandbox import SandboxServer
from tests.support.gate import Gate, mapping_writes, status_reads
from tests.support.processes import process_env, read_until, statusync, wait_until
from tests.support.project import MAPPING_PATH, Project, live

Start = Callable[..., SandboxServer]


def accepted(server: SandboxServer) -> list[int]:
    return [
        r.integration_id
        for r in server.store.requests()  # type: ignore[misc]
        if r.method == "POST" and r.path == MAPPING_PATH and r.status == 200
    ]


def test_sigkill_halfway_leaves_a_truthful_state_and_a_second_apply_converges(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    ids = range(1, 25)
    project.pending_updates(ids)  # updates: every request is a POST
    gate = Gate(let_through=8, holds=mapping_writes)
    server = sandbox(gate=gate)
    proc = statusync("apply", "--yes", "--force", "--parallelism", "2", env=env)  # all change: --force
    gate.wait_held(2)  # 8 accepted, 2 on the wire
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    gate.open()
    wait_until(lambda: len(accepted(server)) == 10)  # the sandbox carried out the two anyway

    state = load_state(project.state_file)  # readable, not half-written
    recorded = {i for i, entry in state.entries.items() if entry.mapping["READY_TO_SEND"] == "1"}
    assert recorded, "some successes were recorded before the kill"
    assert recorded <= set(accepted(server))  # claims nothing the API did not accept
    assert len(accepted(server)) < len(ids)  # the kill really came halfway

    before = Counter(accepted(server))
    second = statusync("apply", "--yes", "--force", "--parallelism", "4", "--lock-timeout", "5", env=env)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert sorted(load_state(project.state_file).entries) == list(ids)
    resent = Counter(accepted(server)) - before
    # Only what the first run had not recorded is sent again (at most the in-flight ones twice).
    assert set(resent) == set(ids) - recorded
    for i in ids:
        assert live(server, i)["READY_TO_SEND"] == "1"
    check = statusync("plan", "--detailed-exitcode", env=env)
    check.communicate(timeout=30)
    assert check.returncode == 0


def test_two_applies_at_once_never_post_an_integration_twice(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    ids = range(1, 13)
    for i in ids:
        project.mapping(i)
    gate = Gate()
    gate.close()
    server = sandbox(gate=gate)
    first = statusync("apply", "--yes", env=env)
    gate.wait_held(1)  # the first run holds the lock and is reading what it will replace
    second = statusync("apply", "--yes", env=env)
    waiting = read_until(second, "Waiting for another statusync run")
    gate.open()
    results = [p.communicate(timeout=60) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, results
    assert Counter(accepted(server)) == Counter(ids)  # each exactly once
    # One run did the work; the other waited for the lock, then planned from its results.
    assert "12 created" in results[0][0]
    assert results[1][0].startswith("No changes.")
    assert "Waiting for another statusync run" in waiting
    assert sorted(load_state(project.state_file).entries) == list(ids)


def test_on_a_terminal_apply_asks_and_shows_a_progress_bar(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    for i in (1, 2, 3):
        project.mapping(i)
    server = sandbox()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "statusync", "apply"],
        env=process_env(env),
        text=True,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    os.write(master, b"y\n")
    out, _ = proc.communicate(timeout=60)
    screen = _drained(master)
    assert proc.returncode == 0, out
    assert "Apply these changes? [y/N]" in out
    assert "3 created" in out
    assert "Applying" in screen.decode(errors="replace")
    assert sorted(set(accepted(server))) == [1, 2, 3]


def test_on_a_terminal_answering_no_changes_nothing(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    project.mapping(1)
    server = sandbox()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "statusync", "apply"],
        env=process_env(env),
        text=True,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
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


def test_sandbox_command_serves_the_projects_integrations_and_stops_on_ctrl_c(
    project: Project, env: dict[str, str]
) -> None:
    import httpx

    project.mapping(7, rts='"picked"', extra="name: Shop Seven\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "statusync", "sandbox", "--port", str(port)],
        env=process_env(env),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
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
        statuses = httpx.get(f"{base}/shop-order-statuses", params={"integration_id": 7}, auth=auth).json()[
            "data"
        ]
        assert {s["external_id"] for s in statuses} == {"picked", "2", "3"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err and "stopped" in out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_lets_the_requests_under_way_finish_and_records_them(
    project: Project, sandbox: Start, signum: int, env: dict[str, str]
) -> None:
    ids = range(1, 25)
    project.pending_updates(ids)  # updates: every request is a POST
    gate = Gate(let_through=6, holds=mapping_writes)
    server = sandbox(gate=gate)
    proc = statusync("apply", "--yes", "--force", "--parallelism", "4", env=env)  # all change: --force
    gate.wait_held(4)
    proc.send_signal(signum)
    read_until(proc, "Stopping:")
    gate.open()  # the four under way are answered after the signal
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "Aborted" in err and "Traceback" not in err
    # Everything the sandbox accepted is in the state: nothing was left in flight unrecorded.
    state = load_state(project.state_file)
    assert sorted(i for i, e in state.entries.items() if e.mapping["READY_TO_SEND"] == "1") == sorted(
        accepted(server)
    )
    assert len(accepted(server)) == 10  # 6, then the 4 on the wire at the signal
    assert state.uncertain == {}


def test_a_stop_while_the_shops_statuses_are_read_sends_none_of_their_writes(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    ids = range(1, 7)
    project.pending_updates(ids)
    gate = Gate(holds=status_reads)
    gate.close()
    server = sandbox(gate=gate)
    proc = statusync("apply", "--yes", "--force", "--parallelism", "2", env=env)
    gate.wait_held(2)  # two reads on the wire, each right before its write
    proc.send_signal(signal.SIGINT)
    read_until(proc, "Stopping:")
    gate.open()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "Traceback" not in err
    assert "Stopped: 0 of 6 done and recorded; 6 not sent." in err
    assert accepted(server) == []  # the reads were answered; no write left after the stop
    assert all(entry.sha256 == "old" for entry in load_state(project.state_file).entries.values())


def test_the_process_leaves_its_whole_output_and_its_exit_code_and_a_reader_may_stop_early(
    project: Project, env: dict[str, str]
) -> None:
    # The process ends without the interpreter's teardown: what it wrote must still all arrive,
    # with its exit code, and a reader that stops early (`| head`) must cost no traceback.
    for integration_id in range(1, 2001):
        project.mapping(integration_id, '"1"')
    proc = statusync("plan", "--detailed-exitcode", env=env, cwd=project.root)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert out.count("+ create") == 2000 and out.endswith(
        "2000 to create, 0 to update, 0 to reset, 0 to forget, 0 unchanged.\n"
    )

    early = subprocess.Popen(
        [sys.executable, "-m", "statusync", "plan"],
        env={**process_env(env), "CI": "1"},
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert early.stdout is not None and early.stderr is not None
    early.stdout.read(100)
    early.stdout.close()  # the reader stops: statusync's next write meets a closed pipe
    assert early.wait(timeout=60) == 1
    assert early.stderr.read() == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_output_to_a_full_disk_is_an_error_not_a_bug(project: Project, env: dict[str, str]) -> None:
    for integration_id in range(1, 201):
        project.mapping(integration_id, '"1"')
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "statusync", "plan"],
            env={**process_env(env), "CI": "1"},
            cwd=project.root,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert run.stderr == "error: cannot write: No space left on device; free some space\n"


def _started_without(*fds: int) -> Callable[[], None]:
    """A preexec_fn closing `fds` in the child, as a shell's `<&-`, `>&-` or `2>&-` does."""

    def close() -> None:
        for fd in fds:
            os.close(fd)

    return close


def test_a_closed_standard_input_is_no_terminal_and_a_closed_stderr_discards_what_goes_there(
    project: Project, env: dict[str, str]
) -> None:
    # Started from cron, a daemon or `nohup` without stdin (`<&-`), statusync is not interactive;
    # without stderr (`2>&-`) it runs as with `2>/dev/null`. Neither is a bug report.
    project.mapping(1, '"1"')
    for closed in (0, 2):
        run = subprocess.run(
            [sys.executable, "-m", "statusync", "plan", "--detailed-exitcode"],
            env={**process_env(env), "CI": "1"},
            cwd=project.root,
            stdin=None if closed == 0 else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if closed == 2 else subprocess.PIPE,
            preexec_fn=_started_without(closed),
            text=True,
            timeout=60,
        )
        assert run.returncode == 2, run.stderr
        assert "+ create 1  mappings/shop-1.yaml" in run.stdout
        assert "internal error" not in (run.stderr or "")
    keys = {"SENDCLOUD_PUBLIC_KEY": "public", "SENDCLOUD_SECRET_KEY": "secret"}
    apply = subprocess.run(
        [sys.executable, "-m", "statusync", "apply"],
        env={**process_env(env), **keys, "CI": "1"},
        cwd=project.root,
        capture_output=True,
        preexec_fn=_started_without(0),
        text=True,
        timeout=60,
    )
    assert apply.returncode == 1 and "--yes" in apply.stderr and "internal error" not in apply.stderr


def test_a_closed_standard_output_is_an_error_before_anything_is_done(
    project: Project, env: dict[str, str]
) -> None:
    # `statusync plan >&-`: the plan would be written nowhere, and a file opened later (the
    # state being written) could take the free descriptor 1 and receive output meant for it.
    project.mapping(1, '"1"')
    run = subprocess.run(
        [sys.executable, "-m", "statusync", "plan"],
        env={**process_env(env), "CI": "1"},
        cwd=project.root,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_started_without(1),
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr == (
        "error: the standard output is closed (>&-), so nothing statusync prints could be read; "
        "redirect it to a file, or to /dev/null to discard it\n"
    )


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`statusync ARGS` with stdout and stderr on a pseudo-terminal: its exit code and screen."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "statusync", *args],
        env=process_env(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    return proc.wait(timeout=60), _drained(master).decode(errors="replace")


def _drained(master: int) -> bytes:
    """Everything written to the pseudo-terminal of `master` until its process closed it."""
    screen = b""
    try:
        while chunk := os.read(master, 4096):
            screen += chunk
    except OSError:
        pass  # the terminal closed with the process
    os.close(master)
    return screen


def test_a_dumb_terminal_gets_no_colour_and_no_redrawn_progress_bar(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    # TERM=dumb (Emacs' shell, some CI consoles) shows escape sequences as they are: no colour,
    # and one line per integration instead of a bar redrawn in place.
    for i in (1, 2):
        project.mapping(i)
    code, screen = _on_a_terminal(["plan"], env, project.root)
    assert code == 0 and "\x1b[" in screen  # a terminal that can: colour
    env["TERM"] = "dumb"
    code, screen = _on_a_terminal(["plan"], env, project.root)
    assert code == 0 and "+ create 1" in screen and "\x1b[" not in screen
    sandbox()
    code, screen = _on_a_terminal(["apply", "--yes"], env, project.root)
    assert code == 0 and "2 created" in screen, screen
    assert "\x1b[" not in screen and "\r" not in screen.replace("\r\n", "\n")
    assert "[2/2] create" in screen


def test_apply_writes_its_plan_out_before_its_first_request_and_before_any_progress(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    # A CI log merges stdout and stderr: the plan comes first, whole, and is there to read
    # while the first write is still unanswered.
    ids = range(1, 4)
    project.pending_updates(ids)
    gate = Gate(let_through=0, holds=mapping_writes)
    sandbox(gate=gate)
    proc = statusync("apply", "--yes", "--force", env=env, stderr=subprocess.STDOUT)
    gate.wait_held(1)
    assert proc.stdout is not None
    shown = ""
    while "3 to update" not in shown:
        shown += proc.stdout.readline()
    assert "[1/3]" not in shown
    gate.open()
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, shown + rest
    assert "[1/3]" in rest and "Apply complete: 0 created, 3 updated" in rest


def test_a_plan_that_cannot_be_written_out_sends_nothing(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    # `statusync apply --yes | head -1` with the reader gone: a change nobody could see in the
    # log is not sent.
    ids = range(1, 13)
    project.pending_updates(ids)
    server = sandbox()
    read, write = os.pipe()
    os.close(read)
    proc = statusync("apply", "--yes", "--force", env=env, stdout=write)
    os.close(write)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert server.store.requests() == []
    assert all(e.sha256 == "old" for e in load_state(project.state_file).entries.values())


def test_names_the_output_s_encoding_cannot_hold_are_escaped(project: Project, env: dict[str, str]) -> None:
    project.mapping(1, extra='name: "Café ☕"\n')
    proc = statusync("plan", env={**env, "PYTHONIOENCODING": "ascii"})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Caf\\xe9 \\u2615" in out
