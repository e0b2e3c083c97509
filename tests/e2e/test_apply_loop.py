"""The CLI against the sandbox over real HTTP on loopback: the whole loop and its failure modes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync.files.state_file import load_state
from statusync.sandbox import FaultRule, SandboxServer
from tests.support.project import MAPPING_PATH, PUBLIC_KEY, SECRET_KEY, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]


def posts(server: SandboxServer, integration_id: int | None = None) -> list[int | None]:
    """Statuses of the mapping POSTs the sandbox saw (None: connection dropped)."""
    return [
        r.status
        for r in server.store.requests()
        if r.method == "POST"
        and r.path == MAPPING_PATH
        and (integration_id is None or r.integration_id == integration_id)
    ]


def test_the_whole_loop(project: Project, cli: Cli, sandbox: Start) -> None:
    for i in (1, 2, 3):
        project.mapping(i, rts=f'"{i}"')
    server = sandbox()
    assert cli("validate").code == 0
    assert cli("plan", "--detailed-exitcode").code == 2
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "Apply complete: 3 created, 0 updated, 0 reset, 0 forgotten, 0 failed." in result.out
    assert live(server, 2) == {"READY_TO_SEND": "2", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
    assert cli("plan", "--detailed-exitcode").code == 0

    # One file changes: exactly one POST, carrying all four categories.
    server.store.clear_requests()
    project.mapping(2, rts='"2"', cancel='"3"')
    result = cli("apply", "--yes")
    assert result.code == 0 and "1 updated" in result.out
    # The shop's statuses are read before the write (the status catalog records them).
    assert posts(server) == [200] and [(r.method, r.integration_id) for r in server.store.requests()] == [
        ("GET", 2),
        ("POST", 2),
    ]
    assert live(server, 2)["CANCEL"] == "3"
    assert cli("plan", "--detailed-exitcode").code == 0


def test_apply_a_saved_plan(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    server = sandbox()
    assert cli("plan", "--out", "tfplan").code == 0
    result = cli("apply", "tfplan", "--yes")
    assert result.code == 0, result.err
    assert posts(server) == [200]
    # Applying it again is refused: the state it was made from has moved on.
    again = cli("apply", "tfplan", "--yes")
    assert again.code == 1 and "stale" in again.err and "the state was written since" in again.err
    assert posts(server) == [200]


def test_reset_unmaps_and_forgets(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    doomed = project.mapping(2)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    doomed.unlink()
    project.write("statusync.yaml", "on_removed: reset\n")
    assert "! reset  2" in cli("plan").out
    assert cli("apply", "--yes").code == 0
    assert live(server, 2) == dict.fromkeys(live(server, 2))  # all null
    assert sorted(load_state(project.state_file).entries) == [1]


def test_reset_of_an_integration_sendcloud_no_longer_has_just_forgets_it(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1)
    doomed = project.mapping(2)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    doomed.unlink()
    project.write("statusync.yaml", "on_removed: reset\n")
    server.store.remove_integration(2)  # the shop was disconnected in Sendcloud meanwhile
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "reset 2 (mappings/shop-2.yaml): not found in Sendcloud, nothing to unmap; forgotten" in result.err
    assert sorted(load_state(project.state_file).entries) == [1]
    assert cli("plan", "--detailed-exitcode").code == 0


def test_retries_on_503(project: Project, cli: Cli, sandbox: Start, retry_waits: list[float]) -> None:
    project.mapping(1)
    server = sandbox(faults=(FaultRule(method="POST", status=503, times=2),))
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert posts(server, 1) == [503, 503, 200]
    assert len(retry_waits) == 2 and retry_waits[0] < retry_waits[1]  # backing off
    assert 1 in load_state(project.state_file).entries


def test_retries_on_a_dropped_connection(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    server = sandbox(faults=(FaultRule(method="POST", drop=True, times=1),))
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert posts(server, 1) == [None, 200]


def test_gives_up_after_four_attempts(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    project.mapping(2)
    server = sandbox(faults=(FaultRule(method="POST", integration_id=1, status=502),))
    result = cli("apply", "--yes")
    assert result.code == 1
    assert posts(server, 1) == [502] * 4 and posts(server, 2) == [200]
    assert "create 1 (mappings/shop-1.yaml) failed" in result.err


@pytest.mark.real_time
def test_429_waits_for_retry_after(project: Project, cli: Cli, sandbox: Start) -> None:
    # The client believes in 1000 POSTs a minute; the sandbox allows a burst of 15, then one a second.
    project.write("statusync.yaml", "rate_limit: {unsafe_per_minute: 1000}\n")
    for i in range(1, 17):
        project.mapping(i)
    server = sandbox(post_per_minute=60)
    result = cli("apply", "--yes", "--parallelism", "8")
    assert result.code == 0, result.err
    statuses = posts(server)
    assert 429 in statuses and statuses.count(200) == 16
    assert len(load_state(project.state_file).entries) == 16


def test_a_permanent_400_fails_one_integration_only(project: Project, cli: Cli, sandbox: Start) -> None:
    for i in (1, 2, 3):
        project.mapping(i)
    server = sandbox()
    project.mapping(2, rts='"no-such-status"')  # the shop has no such status: the API would answer 400
    result = cli("apply", "--yes")
    assert result.code == 1
    assert posts(server, 2) == []  # refused after reading the shop's statuses: not even sent
    assert posts(server, 1) == [200] and posts(server, 3) == [200]
    assert 'mappings/shop-2.yaml:3:18: READY_TO_SEND: the shop has no status "no-such-status"' in result.err
    assert "2 created" in result.out and "1 failed" in result.out
    assert sorted(load_state(project.state_file).entries) == [1, 3]
    assert "+ create 2" in cli("plan").out


def test_wrong_credentials_never_show_the_secret(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.mapping(1)
    server = sandbox()
    wrong = "sk-wrong-and-secret-89"
    env["SENDCLOUD_SECRET_KEY"] = wrong
    result = cli("apply", "--yes")
    assert result.code == 1 and "401" in result.err and "rejected" in result.err
    assert "SENDCLOUD_PUBLIC_KEY / SENDCLOUD_SECRET_KEY (account 'default')" in result.err
    token = base64.b64encode(f"{PUBLIC_KEY}:{wrong}".encode()).decode()
    for text in (result.out, result.err):
        assert wrong not in text and token not in text and SECRET_KEY not in text
    # The first request, the read of what the create replaces, meets the 401: the run stops.
    assert [(r.method, r.status) for r in server.store.requests()] == [("GET", 401)]
    assert load_state(project.state_file).entries == {}


def test_rejected_credentials_stop_the_run_instead_of_failing_each_integration(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    for i in range(1, 31):
        project.mapping(i)
    server = sandbox()
    env["SENDCLOUD_SECRET_KEY"] = "sk-wrong"
    for command in (["apply", "--yes"], ["drift"]):
        server.store.clear_requests()
        result = cli(*command)
        assert result.code == 1 and "rejected the API credentials" in result.err
        # Only the requests already in flight (at most --parallelism, 4) were made.
        assert 1 <= len(server.store.requests()) <= 4


def test_missing_credentials_make_no_request(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.mapping(1)
    server = sandbox()
    del env["SENDCLOUD_SECRET_KEY"]
    result = cli("apply", "--yes")
    assert result.code == 1 and "SENDCLOUD_SECRET_KEY" in result.err
    assert server.store.requests() == []


def test_accounts_use_their_own_variables(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.write("statusync.yaml", "accounts:\n  eu: {public_key_env: EU_PK, secret_key_env: EU_SK}\n")
    project.mapping(1, extra="account: eu\n")
    server = sandbox()
    result = cli("apply", "--yes")
    assert result.code == 1 and "set EU_PK (the Sendcloud API public key) and EU_SK" in result.err
    env["EU_PK"] = PUBLIC_KEY
    env["EU_SK"] = SECRET_KEY
    assert cli("apply", "--yes").code == 0
    assert posts(server) == [200]
    assert json.loads(project.state_file.read_text())["integrations"]["1"]["account"] == "eu"
    assert SECRET_KEY not in project.state_file.read_text()


def test_state_never_holds_secrets_and_plan_files_neither(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    sandbox()
    assert cli("plan", "--out", "p.json").code == 0
    assert cli("apply", "p.json", "--yes").code == 0
    for path in (project.state_file, Path("p.json")):
        text = path.read_text()
        assert SECRET_KEY not in text and PUBLIC_KEY not in text


def test_env_api_url_wins_over_the_settings(project: Project, cli: Cli, sandbox: Start) -> None:
    project.write("statusync.yaml", "api_url: https://panel.sendcloud.sc/api/v3\n")
    project.mapping(1)
    server = sandbox()  # sets STATUSYNC_API_URL to the sandbox
    assert cli("apply", "--yes").code == 0
    assert posts(server) == [200]


@pytest.mark.parametrize(
    "forge",
    [
        lambda change: change.update(
            after={"READY_TO_SEND": None, "IN_TRANSIT": None, "DELIVERED": None, "CANCEL": None}
        ),
        lambda change: change.update(action="forget", after=None),
        lambda change: change.update(after=None),
    ],
)
def test_an_edited_plan_file_is_refused(
    project: Project, cli: Cli, sandbox: Start, forge: Callable[[dict[str, object]], None]
) -> None:
    project.mapping(1)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    project.mapping(1, cancel='"3"')
    assert cli("plan", "--out", "p.json").code == 0
    data = json.loads(Path("p.json").read_text())
    forge(data["changes"][0])
    Path("p.json").write_text(json.dumps(data))
    server.store.clear_requests()
    result = cli("apply", "p.json", "--yes")
    assert result.code == 1 and "does not match the plan its files and state give" in result.err
    assert server.store.requests() == []


def test_a_hand_edited_state_cannot_hide_a_file_from_review_or_drift(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1, cancel='"3"')
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    # Someone "fixes" the state by hand: the recorded mapping no longer matches the file,
    # though the file's hash still does.
    data = json.loads(project.state_file.read_text())
    data["integrations"]["1"]["mapping"]["CANCEL"] = None
    project.state_file.write_text(json.dumps(data))
    server.store.edit_mapping(1, {"CANCEL": None})
    # validate, the plan workflow's first step, fails at the value the state misreports.
    result = cli("validate")
    assert result.code == 1
    assert (
        "mappings/shop-1.yaml:6:11: CANCEL: the state .statusync/state.json records null here for "
        "this file's exact bytes, so it was edited by hand"
    ) in result.err
    drift = cli("drift", "--format", "json")
    assert drift.code == 2
    assert json.loads(drift.out)["integrations"][0]["differences"] == [
        {"category": "CANCEL", "desired": "3", "live": None, "last_applied": None}
    ]
    # apply sends what plan shows: both take the state's word for the file, so neither shows
    # nor sends a change nobody reviewed; reconcile puts the file's mapping back.
    assert "No changes" in cli("plan").out
    server.store.clear_requests()
    assert cli("apply", "--yes").code == 0 and server.store.requests() == []
    assert cli("reconcile", "--yes").code == 0
    assert live(server, 1)["CANCEL"] == "3"
