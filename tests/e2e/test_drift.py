"""drift and reconcile through the CLI against the sandbox over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from statusync.files.lock import state_lock
from statusync.files.state_file import load_state
from statusync.sandbox import FaultRule, SandboxServer
from tests.support.project import Project, Result

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]
MAPPING_PATH = "/api/v3/shop-order-statuses/mapping"


def requests(server: SandboxServer, method: str) -> list[int]:
    """Integration ids of the mapping requests with `method` the sandbox saw, sorted."""
    return sorted(
        r.integration_id
        for r in server.store.requests()
        if r.method == method and r.path == MAPPING_PATH and r.integration_id is not None
    )


def applied(project: Project, cli: Cli, sandbox: Start, count: int = 3, **options: object) -> SandboxServer:
    """`count` integrations whose files are applied and live, with an empty request log."""
    for i in range(1, count + 1):
        project.mapping(i)
    server = sandbox(**options)
    assert cli("apply", "--yes").code == 0
    server.store.clear_requests()
    return server


def test_in_sync(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    result = cli("drift")
    assert result.code == 0, result.err
    assert result.out == "No drift. 3 integrations in sync.\n"
    assert requests(server, "GET") == [1, 2, 3] and requests(server, "POST") == []


def test_a_panel_edit_is_drift_changed_outside_statusync(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    server.store.edit_mapping(2, {"DELIVERED": "1"})
    result = cli("drift")
    assert result.code == 2, result.err
    assert "~ drifted    2  mappings/shop-2.yaml" in result.out
    assert "# changed outside statusync" in result.out
    assert 'DELIVERED  "3" (Status 3)  "1" (Status 1)  "3" (Status 3)' in result.out
    assert "Drift: 1 drifted, 0 invalid, 0 not found, 2 in sync." in result.out
    assert "mappings/shop-1.yaml" not in result.out  # in sync: counted, not listed


def test_a_file_changed_but_not_applied(project: Project, cli: Cli, sandbox: Start) -> None:
    applied(project, cli, sandbox)
    project.mapping(1, cancel='"3"')
    result = cli("drift", "--format", "json")
    assert result.code == 2, result.err
    first = json.loads(result.out)["integrations"][0]
    assert first["status"] == "drifted" and first["cause"] == "not_applied_yet"
    assert first["differences"] == [
        {"category": "CANCEL", "desired": "3", "live": None, "last_applied": None}
    ]
    text = cli("drift").out
    assert "# not applied yet: the file changed since the last apply" in text


def test_reconcile_posts_exactly_the_drifted_integrations(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox, count=4)
    server.store.edit_mapping(2, {"READY_TO_SEND": None})
    project.mapping(3, cancel='"1"')
    result = cli("reconcile", "--yes")
    assert result.code == 0, result.err
    assert requests(server, "POST") == [2, 3]
    assert "Reconcile complete: 2 updated, 0 failed." in result.out
    entries = load_state(project.state_file).entries
    assert entries[3].mapping["CANCEL"] == "1"  # recorded like apply, with the file's hash
    assert entries[3].sha256 != entries[1].sha256
    assert cli("drift").code == 0
    assert cli("plan", "--detailed-exitcode").code == 0


def test_nothing_drifted_means_no_prompt_and_no_post(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    result = cli("reconcile")  # no --yes off a terminal: fine, nothing to confirm
    assert result.code == 0, result.err
    assert "Nothing to reconcile" in result.out and requests(server, "POST") == []


def test_a_deleted_shop_status_is_invalid_and_only_a_file_change_fixes_it(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = applied(project, cli, sandbox)
    server.store.delete_status(1, "2")
    result = cli("drift", "--format", "json")
    assert result.code == 2
    first = json.loads(result.out)["integrations"][0]
    assert first["status"] == "invalid"
    assert first["invalid"] == [{"category": "IN_TRANSIT", "external_id": "2"}]
    text = cli("drift").out
    assert 'IN_TRANSIT: live "2" (Status 2) points at a shop status the shop no longer has' in text
    result = cli("reconcile", "--yes")
    assert result.code == 2, result.err
    assert requests(server, "POST") == []
    assert "only be fixed by changing the file" in result.out


def test_an_unknown_integration_is_not_found(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox, count=1)
    project.mapping(404404)  # the sandbox was seeded before this file existed
    result = cli("drift", "--format", "json")
    assert result.code == 2, result.err
    doc = json.loads(result.out)
    assert doc["summary"] == {"in_sync": 1, "drifted": 0, "invalid": 0, "not_found": 1}
    assert doc["integrations"][1]["status"] == "not_found"
    assert "? not found  404404  mappings/shop-404404.yaml" in cli("drift").out
    assert cli("reconcile", "--yes").code == 2
    assert requests(server, "POST") == []


def test_markdown_is_an_issue_body(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    server.store.edit_mapping(1, {"CANCEL": "2"})
    result = cli("drift", "--format", "markdown")
    assert result.code == 2
    assert result.out.startswith("## statusync drift: 1 of 3 integrations differs from the files")
    assert '| 1 | `mappings/shop-1.yaml` | CANCEL | `null` | `"2"` (Status 2) | `null` |' in result.out
    assert "### What to do" in result.out


def test_progress_goes_to_stderr_so_stdout_stays_the_report(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    applied(project, cli, sandbox)
    result = cli("drift", "--format", "json")
    assert json.loads(result.out)["summary"]["in_sync"] == 3
    assert "[3/3] " in result.err


def test_an_api_error_for_one_integration_does_not_stop_the_others(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = applied(project, cli, sandbox)
    server.store.add_fault(
        FaultRule(
            method="GET",
            integration_id=2,
            status=400,
            detail="Integration 2 is not a PrestaShop V2 integration",
        )
    )
    server.store.edit_mapping(3, {"CANCEL": "1"})
    result = cli("drift", "--format", "json")
    assert result.code == 1
    assert "integration 2 (mappings/shop-2.yaml) could not be checked" in result.err
    assert "not a PrestaShop V2 integration" in result.err
    assert json.loads(result.out)["summary"] == {"in_sync": 1, "drifted": 1, "invalid": 0, "not_found": 0}
    # reconcile still fixes what it could check, and exits 1 for the rest
    result = cli("reconcile", "--yes")
    assert result.code == 1 and requests(server, "POST") == [3]


def test_a_failed_post_fails_reconcile(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    server.store.edit_mapping(1, {"CANCEL": "1"})
    server.store.edit_mapping(2, {"CANCEL": "1"})
    server.store.add_fault(FaultRule(method="POST", integration_id=1, status=422))
    result = cli("reconcile", "--yes")
    assert result.code == 1
    assert "error: update 1 (mappings/shop-1.yaml) failed" in result.err
    assert "the next reconcile retries them" in result.err
    assert "Reconcile complete: 1 updated, 1 failed." in result.out
    assert cli("drift").code == 2


@pytest.mark.parametrize("command", [["drift"], ["reconcile", "--yes"]])
def test_missing_credentials_make_no_request(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str], command: list[str]
) -> None:
    server = applied(project, cli, sandbox)
    del env["SENDCLOUD_PUBLIC_KEY"]
    result = cli(*command)
    assert result.code == 1 and "SENDCLOUD_PUBLIC_KEY" in result.err
    assert server.store.requests() == []


def test_reconcile_refuses_without_yes_off_a_terminal(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    server.store.edit_mapping(1, {"CANCEL": "1"})
    serial = load_state(project.state_file).serial
    result = cli("reconcile")
    assert result.code == 1
    assert "refusing to reconcile without confirmation" in result.err and "--yes" in result.err
    assert requests(server, "POST") == [] and load_state(project.state_file).serial == serial


def test_reconcile_refuses_beyond_the_safety_threshold_unless_forced(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.write("statusync.yaml", "safety: {min_managed: 3, max_change_percent: 50}\n")
    server = applied(project, cli, sandbox, count=3)
    server.store.edit_mapping(1, {"CANCEL": "1"})
    server.store.edit_mapping(2, {"CANCEL": "1"})
    result = cli("reconcile", "--yes")
    assert result.code == 1
    assert "refusing to reconcile" in result.err and "2 of 3 managed" in result.err
    assert "--force" in result.err and requests(server, "POST") == []
    result = cli("reconcile", "--yes", "--force")
    assert result.code == 0, result.err
    assert "Warning: " in result.out and requests(server, "POST") == [1, 2]


def test_reconcile_waits_for_the_state_lock_but_drift_does_not(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = applied(project, cli, sandbox)
    server.store.edit_mapping(1, {"CANCEL": "1"})
    with state_lock(project.state_file):
        assert cli("drift").code == 2
        result = cli("reconcile", "--yes", "--lock-timeout", "0.2")
    assert result.code == 1 and "another statusync run holds the lock" in result.err
    assert requests(server, "POST") == []


def test_drift_keeps_to_the_get_limit_without_a_429(project: Project, cli: Cli, sandbox: Start) -> None:
    # 600/min: a burst, then one GET every 0.1 s; the sandbox answers 429 beyond it.
    project.write("statusync.yaml", "rate_limit: {safe_per_minute: 600}\n")
    for i in range(1, 25):
        project.mapping(i)
    server = sandbox(get_per_minute=600)
    result = cli("drift", "--parallelism", "8")
    assert result.code == 2, result.err  # never applied: every one drifted
    statuses = [r.status for r in server.store.requests() if r.method == "GET"]
    assert statuses == [200] * 24


def test_reconcile_records_integrations_already_in_sync_that_the_state_did_not_know(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = applied(project, cli, sandbox)
    project.mapping(2, cancel='"3"')  # a file change, not applied yet...
    server.store.edit_mapping(2, {"CANCEL": "3"})  # ...that someone made by hand in the panel
    assert cli("drift").code == 0
    assert "~ update 2" in cli("plan").out
    result = cli("reconcile", "--yes")
    assert result.code == 0, result.err
    assert "Recorded 1 integration already in sync in the state" in result.out
    assert requests(server, "POST") == []
    assert load_state(project.state_file).entries[2].mapping["CANCEL"] == "3"
    assert cli("plan", "--detailed-exitcode").code == 0
