"""The run engine against the sandbox, with real processes and signals: a write killed on the
wire, stops that stop, and a server slower than the settings say.

Two tests wait out a server limit of 30 or 120 requests a minute and take half a minute or so;
they run with STATUSYNC_SLOW_TESTS=1:

    STATUSYNC_SLOW_TESTS=1 python3 -m pytest tests/e2e/test_run_engine.py
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from statusync.files.journal import journal_path
from statusync.files.state_file import load_state
from statusync.sandbox import LoggedRequest, SandboxServer
from tests.support.gate import Gate, mapping_writes
from tests.support.processes import read_until, statusync, wait_until
from tests.support.project import MAPPING_PATH, PUBLIC_KEY, SECRET_KEY, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]

slow = pytest.mark.skipif(
    os.environ.get("STATUSYNC_SLOW_TESTS") != "1",
    reason="waits out a slow server limit; set STATUSYNC_SLOW_TESTS=1",
)


def intents(project: Project) -> list[dict[str, object]]:
    """The writes the run under way has made durable (the journal's `sent` lines)."""
    try:
        text = journal_path(project.state_file).read_text()
    except FileNotFoundError:
        return []
    return [
        json.loads(line)
        for line in text.splitlines()[1:]
        if line.endswith("}") and json.loads(line)["op"] == "sent"
    ]


def statuses(server: SandboxServer, method: str = "POST") -> list[int | None]:
    return [r.status for r in server.store.requests() if r.method == method and r.path == MAPPING_PATH]


def api_that_takes_no_connection(env: dict[str, str]) -> int:
    """Point statusync, with keys, at a loopback port nothing listens on; that port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env["STATUSYNC_API_URL"] = f"http://127.0.0.1:{port}/api/v3"
    env["SENDCLOUD_PUBLIC_KEY"] = "pk-not-a-real-key-1"
    env["SENDCLOUD_SECRET_KEY"] = "sk-not-a-real-key-2"
    return port


def test_a_write_killed_on_the_wire_then_reverted_is_put_back_by_the_next_apply(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.mapping(1, delivered='"3"')
    gate = Gate(holds=mapping_writes)
    server = sandbox(gate=gate)
    assert cli("apply", "--yes").code == 0
    project.mapping(1, delivered='"2"')  # a deploy ...
    gate.close()
    proc = statusync("apply", "--yes", env=env)
    gate.wait_held(1)  # the POST is on the wire (the sandbox is sitting on it)
    assert [i["id"] for i in intents(project)] == [1]
    proc.kill()
    proc.communicate()
    gate.open()
    wait_until(lambda: live(server, 1)["DELIVERED"] == "2")  # Sendcloud carried it out
    state = load_state(project.state_file)
    assert state.entries[1].mapping["DELIVERED"] == "3"  # the state never claims it ...
    assert state.uncertain[1].mapping["DELIVERED"] == "2"  # ... but knows it may be live

    project.mapping(1, delivered='"3"')  # ... cancelled: `git revert`
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "? uncertain 1" in plan.out and '"3" (Status 3) or "2" (Status 2) -> "3" (Status 3)' in plan.out
    assert json.loads(cli("plan", "--format", "json").out)["summary"]["uncertain"] == 1
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "1 settled" in result.out
    assert live(server, 1)["DELIVERED"] == "3"
    assert cli("drift").code == 0
    assert cli("plan", "--detailed-exitcode").code == 0
    assert load_state(project.state_file).uncertain == {}
    assert sorted(p.name for p in project.state_file.parent.iterdir()) == [
        "state.json",
        "state.json.lock",
        "statuses.json",
        "statuses.json.lock",
    ]  # no journal, no temporary file


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_during_a_long_retry_after_exits_at_once_and_sends_nothing_more(
    project: Project, sandbox: Start, signum: int, env: dict[str, str]
) -> None:
    project.write("statusync.yaml", "rate_limit: {unsafe_per_minute: 100}\n")
    for i in range(1, 7):
        project.mapping(i)
    server = sandbox(post_per_minute=2)  # 2 at once, then one every 30 s: Retry-After 30
    proc = statusync("apply", "--yes", env=env)
    wait_until(lambda: 429 in statuses(server))
    time.sleep(0.3)  # every worker now waits for the Retry-After
    seen = len(server.store.requests())
    started = time.monotonic()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 3
    time.sleep(0.3)
    assert len(server.store.requests()) == seen  # no request after the signal
    assert proc.returncode == 1 and "Traceback" not in err
    assert "rate limited (HTTP 429)" in err  # shown, so the wait does not look like a hang
    assert "Stopped: 2 of 6 done and recorded; 4 not sent." in err
    state = load_state(project.state_file)
    assert len(state.entries) == 2 and state.uncertain == {}
    assert not journal_path(project.state_file).exists()


def test_a_second_signal_exits_at_once_and_the_next_apply_settles_what_was_on_the_wire(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.pending_updates(range(1, 7))
    gate = Gate(holds=mapping_writes)
    gate.close()
    server = sandbox(gate=gate)
    proc = statusync("apply", "--yes", "--parallelism", "2", env=env)
    gate.wait_held(2)
    proc.send_signal(signal.SIGTERM)  # the first waits for the two on the wire ...
    read_until(proc, "Stopping:")
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)  # ... the second does not
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 1.5
    assert proc.returncode == 1
    assert "Stopped at once (asked twice)" in err
    assert "2 write(s) under way have an unknown outcome" in err
    state = load_state(project.state_file)
    assert sorted(state.uncertain) == [1, 2]
    assert all(entry.sha256 == "old" for entry in state.entries.values())  # nothing settled
    assert not journal_path(project.state_file).exists()  # folded into state.json already
    gate.open()
    wait_until(lambda: statuses(server).count(200) == 2)  # the sandbox finished them anyway
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "4 updated" in result.out and "2 settled" in result.out
    assert cli("drift").code == 0


@slow
def test_import_all_against_a_lower_get_limit_than_configured_writes_every_mapping(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    from tests.e2e.test_import import add_shop

    project.write("statusync.yaml", "rate_limit: {safe_per_minute: 1000}\n")
    server = sandbox(get_per_minute=120)
    for i in range(1, 31):
        add_shop(server, i, f"Shop {i}")
    result = cli("import", "--all")
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 30
    assert sorted(load_state(project.state_file).entries) == list(range(1, 31))
    assert 429 in [r.status for r in server.store.requests()]  # it did meet the real limit
    assert cli("plan", "--detailed-exitcode").code == 0


@slow
def test_apply_against_a_lower_post_limit_than_configured_completes(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.write("statusync.yaml", "rate_limit: {unsafe_per_minute: 100}\n")
    for i in range(1, 31):
        project.mapping(i)
    server = sandbox(post_per_minute=30)
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "30 created" in result.out and "0 failed" in result.out
    assert statuses(server).count(200) == 30
    assert cli("plan", "--detailed-exitcode").code == 0


def test_import_writes_what_it_read_and_names_what_it_could_not(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    from statusync.sandbox import FaultRule
    from tests.e2e.test_import import add_shop

    server = sandbox(
        faults=(FaultRule(method="GET", path="/shop-order-statuses/mapping", integration_id=2, status=503),)
    )
    for i in (1, 2, 3):
        add_shop(server, i, f"Shop {i}")
    result = cli("import", "--all")
    assert result.code == 1
    assert result.out == "mappings/shop-1-1.yaml\nmappings/shop-3-3.yaml\n"
    assert "error: integration 2 could not be read" in result.err
    assert "Import incomplete: 2 imported, 0 skipped, 1 not read." in result.err
    assert result.err.endswith("Import them with: statusync import --all\n")  # adopts only 2 now
    assert sorted(load_state(project.state_file).entries) == [1, 3]


@pytest.mark.parametrize("all_", [False, True], ids=["--integration", "--all"])
def test_import_names_the_integrations_one_server_error_kept_from_it_in_one_line(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str], all_: bool
) -> None:
    from statusync.sandbox import FaultRule
    from tests.e2e.test_import import add_shop

    project.write(
        "statusync.yaml",
        """
        accounts:
          eu: {public_key_env: EU_PUBLIC, secret_key_env: EU_SECRET}
    """,
    )
    server = sandbox(
        faults=tuple(
            FaultRule(method="GET", path="/shop-order-statuses/mapping", integration_id=i, status=503)
            for i in (2, 3, 5)
        )
    )
    env["EU_PUBLIC"] = PUBLIC_KEY
    env["EU_SECRET"] = SECRET_KEY
    for i in range(1, 7):
        add_shop(server, i, f"Shop {i}")
    which = ["--all"] if all_ else [*(f"--integration={i}" for i in range(1, 7)), "--force"]
    result = cli("import", *which, "--account", "eu")
    assert result.code == 1
    assert result.out == "mappings/shop-1-1.yaml\nmappings/shop-4-4.yaml\nmappings/shop-6-6.yaml\n"
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: 3 integrations (2, 3, 5) could not be read: HTTP 503: Failure "
        "injected by the statusync sandbox"
    ]
    again = "--all" if all_ else "--integration 2 --integration 3 --integration 5 --force"
    assert result.err.endswith(f"Import them with: statusync import {again} --account eu\n")


def test_import_with_rejected_credentials_stops_at_the_first_refusal(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    from tests.e2e.test_import import add_shop

    server = sandbox()
    for i in range(1, 31):
        add_shop(server, i, f"Shop {i}")
    env["SENDCLOUD_SECRET_KEY"] = "sk-wrong-secret-1"
    result = cli("import", "--parallelism", "1", *(f"--integration={i}" for i in range(1, 31)))
    assert result.code == 1 and result.out == ""
    assert result.err.count("HTTP 401") == 1, result.err
    assert "Sendcloud rejected the API credentials" in result.err
    assert "sk-wrong-secret-1" not in result.err
    assert len(server.store.requests()) == 1  # not one refused request per integration
    assert not project.state_file.exists() and list(project.root.joinpath("mappings").iterdir()) == []


def test_a_write_run_removes_what_a_killed_state_write_left(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1)
    sandbox()
    stray = project.state_file.parent / ".state.json.k1ll3d.tmp"
    stray.parent.mkdir()
    stray.write_text("{half a state")
    assert cli("apply", "--yes").code == 0
    assert not stray.exists()


def test_a_server_that_goes_away_mid_run_ends_the_run_instead_of_retrying_every_integration(
    project: Project, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch, retry_waits: list[float]
) -> None:
    for i in range(1, 51):
        project.mapping(i, cancel='"1"')
    project.applied_before(range(1, 51))  # 50 updates: no read first, straight to the POSTs
    project.write("statusync.yaml", "rate_limit: {unsafe_per_minute: 3000}\n")
    server = sandbox()
    store, log_request = server.store, server.store.log_request
    gone = threading.Event()

    def go_away_after_the_fifth_post(entry: LoggedRequest) -> None:
        log_request(entry)
        if statuses(server).count(200) == 5 and not gone.is_set():
            gone.set()  # from another thread: the server's shutdown waits for this handler
            threading.Thread(target=server.stop).start()

    monkeypatch.setattr(store, "log_request", go_away_after_the_fifth_post)

    result = cli("apply", "--yes", "--force")  # every shop changes: past the safety threshold
    assert result.code == 1 and "Traceback" not in result.err
    host = server.url.split("/api/")[0]
    assert (f"error: the API at {host} could not be reached (") in result.err
    assert (
        "nothing more was sent. Check STATUSYNC_API_URL / api_url in statusync.yaml, or the "
        "network, then run the command again"
    ) in result.err
    # A few requests' retries, not 4 attempts for each of the 45 integrations left.
    assert len(retry_waits) < 20
    summary = next(line for line in result.err.splitlines() if line.startswith("Stopped: "))
    done = int(summary.split()[1])
    assert done >= 4 and "not sent." in summary  # the 5th may be cut off on its way back
    state = load_state(project.state_file)  # truthful: what went live is recorded, as uncertain
    changed = {i for i in range(1, 51) if live(server, i)["CANCEL"] == "1"}  # if unsure
    recorded = {i for i, e in state.entries.items() if e.mapping["CANCEL"] == "1"}
    assert recorded <= changed <= recorded | set(state.uncertain)
    assert len(recorded) == done


def test_an_api_url_that_takes_no_connection_is_named_and_tried_a_few_times_only(
    project: Project, cli: Cli, env: dict[str, str], retry_waits: list[float]
) -> None:
    port = api_that_takes_no_connection(env)
    for i in range(1, 21):
        project.mapping(i)
    result = cli("drift", "--parallelism", "1")
    assert result.code == 1 and "Traceback" not in result.err
    # The first integration's own error names where it tried; the second gives up on the host.
    assert f"could not connect after 4 attempts to http://127.0.0.1:{port} (ConnectError:" in result.err
    assert f"error: the API at http://127.0.0.1:{port} could not be reached (6 " in result.err
    assert len(retry_waits) == 3 + 1  # not 3 retries for each of 20 integrations
    result = cli("drift")  # four workers at once: given up on as soon
    assert result.code == 1 and "Traceback" not in result.err
    assert f"error: the API at http://127.0.0.1:{port} could not be reached (" in result.err
    assert len(retry_waits) < 4 + 12
    assert "not-a-real-key" not in result.err


@pytest.mark.parametrize("proxy", [False, True])
def test_ca_certificates_that_cannot_be_loaded_are_an_error_not_a_crash(
    project: Project, cli: Cli, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, proxy: bool
) -> None:
    from statusync.http import tls

    port = api_that_takes_no_connection(env)
    env["STATUSYNC_API_URL"] = f"https://127.0.0.1:{port}/api/v3"
    monkeypatch.setattr(tls, "_context", None)
    # httpx reads these from the process's environment, not from the one statusync is handed.
    monkeypatch.setenv("SSL_CERT_FILE", str(project.root / "no-such-bundle.pem"))
    if proxy:  # httpx's own transport then, which builds a context of its own unless given one
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    project.mapping(1)
    for args in (["drift"], ["apply", "--yes"]):
        result = cli(*args)
        assert result.code == 1 and "internal error" not in result.err, result.err
        assert "error: cannot load the CA certificates" in result.err and "SSL_CERT_FILE" in result.err


def test_import_from_an_api_that_takes_no_connection_says_so_once(
    project: Project, cli: Cli, env: dict[str, str], retry_waits: list[float]
) -> None:
    port = api_that_takes_no_connection(env)
    result = cli("import", "--parallelism", "1", *(f"--integration={i}" for i in range(1, 13)))
    assert result.code == 1 and "Traceback" not in result.err
    assert result.out == ""
    # The first one's own error, then the others in one line: not the same words twelve times.
    assert (
        "error: integration 1 could not be read: GET /integrations/1: could not connect after "
        f"4 attempts to http://127.0.0.1:{port} (ConnectError"
    ) in result.err
    assert result.err.count("could not be reached") == 1, result.err
    assert (
        "error: 11 integrations (2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 1 more) could not be "
        f"read: the API at http://127.0.0.1:{port} could not be reached ("
    ) in result.err
    assert "Import incomplete: 0 imported, 0 skipped, 12 not read." in result.err
    assert "statusync import --integration 1 --integration 2 " in result.err


def test_the_first_stop_says_at_once_what_it_waits_for(
    project: Project, sandbox: Start, env: dict[str, str]
) -> None:
    project.pending_updates(range(1, 7))
    gate = Gate(holds=mapping_writes)
    gate.close()
    sandbox(gate=gate)
    proc = statusync("apply", "--yes", "--parallelism", "2", env=env)
    gate.wait_held(2)
    proc.send_signal(signal.SIGINT)
    said = read_until(proc, "Stopping:")  # while both answers are still held back
    gate.open()
    _, rest = proc.communicate(timeout=30)
    said += rest
    assert (
        "Stopping: waiting for 2 requests on the wire (a second Ctrl-C or SIGTERM exits at once; "
        "the writes among them are then recorded as uncertain)."
    ) in said
    assert proc.returncode == 1 and "Stopped: 2 of 6 done and recorded; 4 not sent." in said
