"""`--only PATTERN` on validate, plan, apply, drift and reconcile, against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable

from statusync.files.state_file import load_state
from statusync.sandbox import SandboxServer
from tests.support.project import MAPPING_PATH, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]

EU = (1, 2, 3, 4)
US = (11, 12, 13, 14)


def two_regions(project: Project) -> None:
    for i in EU:
        project.mapping(i, file=f"mappings/eu/shop-{i}.yaml")
    for i in US:
        project.mapping(i, file=f"mappings/us/shop-{i}.yaml")


def touched(server: SandboxServer, method: str) -> list[int | None]:
    """The integrations of the mapping requests with `method` the sandbox saw, sorted."""
    return sorted(
        (r.integration_id for r in server.store.requests() if r.method == method and r.path == MAPPING_PATH),
        key=lambda i: i or 0,
    )


def applied(project: Project, cli: Cli, sandbox: Start) -> SandboxServer:
    two_regions(project)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    server.store.clear_requests()
    return server


def test_apply_sends_only_the_subset(project: Project, cli: Cli, sandbox: Start) -> None:
    two_regions(project)
    server = sandbox()
    result = cli("apply", "--yes", "--only", "mappings/eu/**", "--only", "id:12")
    assert result.code == 0, result.err
    assert result.out.startswith("Partial plan (--only mappings/eu/** --only id:12)")
    assert touched(server, "POST") == [1, 2, 3, 4, 12]
    assert sorted(load_state(project.state_file).entries) == [1, 2, 3, 4, 12]
    # The rest is still to do, and a plan of everything says so.
    assert "6 to create" not in cli("plan").out and "3 to create" in cli("plan").out


def test_a_forget_outside_the_filter_is_not_applied(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    (project.root / "mappings/us/shop-11.yaml").unlink()  # outside the filter
    (project.root / "mappings/eu/shop-1.yaml").unlink()  # inside it
    project.mapping(2, file="mappings/eu/shop-2.yaml", cancel='"3"')
    project.mapping(12, file="mappings/us/shop-12.yaml", cancel='"3"')

    plan = cli("plan", "--only", "mappings/eu", "--format", "json")
    data = json.loads(plan.out)
    assert data["only"] == ["mappings/eu"]
    assert [(c["integration_id"], c["action"]) for c in data["changes"]] == [(2, "update"), (1, "forget")]
    assert data["summary"]["unchanged"] == 2  # shops 3 and 4: the subset's

    result = cli("apply", "--yes", "--only", "mappings/eu")
    assert result.code == 0, result.err
    assert "1 updated, 0 reset, 1 forgotten" in result.out
    assert touched(server, "POST") == [2]
    entries = load_state(project.state_file).entries
    assert 1 not in entries and 11 in entries  # the forget outside the filter waits
    assert entries[12].mapping["CANCEL"] is None
    assert "- forget 11" in cli("plan").out


def test_a_removed_file_is_selected_by_its_recorded_id_or_account(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    applied(project, cli, sandbox)
    (project.root / "mappings/us/shop-13.yaml").unlink()
    # No file has id 13 any more, but the state does: the pattern is valid, the forget planned.
    result = cli("plan", "--only", "id:13")
    assert result.code == 0, result.err
    assert "- forget 13" in result.out and "0 to create, 0 to update, 0 to reset, 1 to forget" in result.out
    assert cli("apply", "--yes", "--only", "id:13").code == 0
    assert 13 not in load_state(project.state_file).entries


def test_the_safety_threshold_is_computed_on_the_subset(project: Project, cli: Cli, sandbox: Start) -> None:
    project.write("statusync.yaml", "safety: {max_change_percent: 50, min_managed: 2}\n")
    server = applied(project, cli, sandbox)
    for i in (1, 2, 3):
        project.mapping(i, file=f"mappings/eu/shop-{i}.yaml", cancel='"3"')
    # 3 of the 8 managed (38%) is within bounds; 3 of the 4 in mappings/eu (75%) is not.
    assert "Warning" not in cli("plan").out
    refused = cli("apply", "--yes", "--only", "mappings/eu/**")
    assert refused.code == 1
    assert "3 of 4 managed integrations (75%)" in refused.err
    assert touched(server, "POST") == []
    assert cli("apply", "--yes", "--only", "mappings/eu/**", "--force").code == 0
    assert touched(server, "POST") == [1, 2, 3]


def test_a_saved_plan_keeps_its_filter(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    (project.root / "mappings/us/shop-14.yaml").unlink()  # a forget outside the filter
    project.mapping(3, file="mappings/eu/shop-3.yaml", cancel='"3"')
    project.mapping(13, file="mappings/us/shop-13.yaml", cancel='"3"')
    saved = cli("plan", "--only", "id:13", "--only", "mappings/eu/**", "--out", "tfplan")
    assert saved.code == 0
    saved_data = json.loads((project.root / "tfplan").read_text())
    assert saved_data["only"] == ["id:13", "mappings/eu/**"]
    assert [c["integration_id"] for c in saved_data["changes"]] == [3, 13]

    # Another filter would not be applying this plan.
    other = cli("apply", "tfplan", "--yes", "--only", "id:3")
    assert other.code == 1
    assert "was made with --only id:13 --only mappings/eu/**, not --only id:3" in other.err
    assert touched(server, "POST") == []

    # The same filter (in any order) is fine, and so is none: the plan keeps its own.
    result = cli("apply", "tfplan", "--yes", "--only", "mappings/eu/**", "--only", "id:13")
    assert result.code == 0, result.err
    assert result.out.startswith("Partial plan (--only id:13 --only mappings/eu/**)")
    assert touched(server, "POST") == [3, 13]
    assert 14 in load_state(project.state_file).entries  # its forget was outside the filter
    assert "- forget 14" in cli("plan").out


def test_a_saved_plan_without_filter_refuses_one(project: Project, cli: Cli, sandbox: Start) -> None:
    applied(project, cli, sandbox)
    project.mapping(3, file="mappings/eu/shop-3.yaml", cancel='"3"')
    assert cli("plan", "--out", "tfplan").code == 0
    refused = cli("apply", "tfplan", "--yes", "--only", "id:3")
    assert refused.code == 1
    assert "was made for the whole repository (no --only)" in refused.err
    assert "Partial plan" not in cli("apply", "tfplan", "--yes").out


def test_validate_checks_every_file_and_counts_the_subset(project: Project, cli: Cli, sandbox: Start) -> None:
    two_regions(project)
    server = sandbox()
    result = cli("validate", "--only", "mappings/us/**")
    assert result.code == 0, result.err
    assert result.out == "8 mapping files valid; 4 in --only mappings/us/**.\n"
    remote = cli("validate", "--remote", "--only", "id:2")
    assert remote.code == 0, remote.err
    assert "1 in --only id:2 checked against the shops' statuses" in remote.out
    assert {r.integration_id for r in server.store.requests() if r.method == "GET"} == {2}
    # A file outside the subset is still checked: plan and apply need every file valid.
    project.write("mappings/us/broken.yaml", "integration_id: 1\n")
    assert cli("validate", "--only", "mappings/eu/**").code == 1


def test_a_pattern_that_matches_nothing_or_makes_no_sense_is_an_error(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    two_regions(project)
    sandbox()
    for command in ("validate", "plan", "apply", "drift", "reconcile"):
        yes = ("--yes",) if command in ("apply", "reconcile") else ()
        typo = cli(command, *yes, "--only", "mappings/eu/**", "--only", "mappings/ue/**")
        assert typo.code == 1, command
        assert "--only mappings/ue/** matches no mapping file" in typo.err, command
        bad = cli(command, "--only", "id:abc")
        assert bad.code == 1, command
        assert "Invalid value for '--only': 'id:abc'" in bad.err, command
        assert "Traceback" not in typo.err + bad.err
    assert not project.state_file.exists()


def test_drift_checks_only_the_subset(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    server.store.edit_mapping(2, {"DELIVERED": "1"})
    server.store.edit_mapping(12, {"DELIVERED": "1"})
    result = cli("drift", "--only", "mappings/us/**", "--format", "json")
    assert result.code == 2
    assert "Only 4 of 8 mapping files: --only mappings/us/**." in result.err
    report = json.loads(result.out)
    assert [i["integration_id"] for i in report["integrations"]] == list(US)
    assert report["summary"]["drifted"] == 1
    assert touched(server, "GET") == list(US)
    assert cli("drift", "--only", "id:3").code == 0  # 2 drifted, but it is not looked at


def test_reconcile_fixes_only_the_subset(project: Project, cli: Cli, sandbox: Start) -> None:
    server = applied(project, cli, sandbox)
    server.store.edit_mapping(2, {"DELIVERED": "1"})
    server.store.edit_mapping(12, {"DELIVERED": "1"})
    result = cli("reconcile", "--yes", "--only", "account:default", "--only", "mappings/eu/**")
    assert result.code == 0, result.err
    assert touched(server, "POST") == [2, 12]  # account:default is every file: the union
    server.store.edit_mapping(2, {"DELIVERED": "1"})
    server.store.edit_mapping(12, {"DELIVERED": "1"})
    server.store.clear_requests()
    result = cli("reconcile", "--yes", "--only", "mappings/eu/**")
    assert result.code == 0, result.err
    assert touched(server, "POST") == [2]
    assert live(server, 2)["DELIVERED"] == "3" and live(server, 12)["DELIVERED"] == "1"
