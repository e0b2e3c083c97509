"""Shop status names through the CLI: beside each external id in plans, drift reports and the
reports of apply and reconcile, from the statuses statusync last read (.statusync/statuses.json);
and the offline warnings of validate and plan about mapped ids those statuses lack."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.files.catalog_file import catalog_path, save_catalog
from statusync.render.markdown import md_text
from statusync.sandbox import SandboxServer
from tests.support.project import Project, Result

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]

READ_AT = "2026-11-30T08:15:00Z"
# Integration 1's shop, as last read: mapping() maps "1", "2", "3"; applied_before() had "9".
SHOP = ShopStatuses(
    READ_AT,
    "en-gb",
    {
        "1": KnownStatus("Remote payment accepted"),
        "2": KnownStatus("Shipped"),
        "3": KnownStatus("Delivered"),
        "9": KnownStatus("Awaiting payment"),
        "7": KnownStatus("Old status", deleted=True),
    },
)


def recorded(project: Project, shops: dict[int, ShopStatuses]) -> None:
    """statuses.json as a run that read these shops' statuses would have left it."""
    save_catalog(catalog_path(project.state_file), StatusCatalog(shops))


@pytest.fixture
def edited(project: Project) -> Project:
    """Integration 1's READY_TO_SEND edited from "9" to "1" (both named), integration 2's the
    same (its statuses never read)."""
    project.mapping(1)
    project.mapping(2)
    project.applied_before(range(1, 3))
    recorded(project, {1: SHOP})
    return project


def test_the_text_plan_shows_both_names_of_an_edit(edited: Project, cli: Cli) -> None:
    result = cli("plan")
    assert result.code == 0, result.err
    assert 'READY_TO_SEND  "9" (Awaiting payment) -> "1" (Remote payment accepted)\n' in result.out
    assert 'READY_TO_SEND  "9" -> "1"\n' in result.out  # integration 2: ids as they are


def test_the_markdown_plan_shows_both_names_of_an_edit(edited: Project, cli: Cli) -> None:
    result = cli("plan", "--format", "markdown")
    assert result.code == 0, result.err
    assert (
        '| update | 1 | `mappings/shop-1.yaml` | READY_TO_SEND | `"9"` (Awaiting payment) '
        '| `"1"` (Remote payment accepted) |\n'
    ) in result.out
    assert '| READY_TO_SEND | `"9"` | `"1"` |\n' in result.out


def test_the_json_plan_carries_the_names_of_each_changes_ids(edited: Project, cli: Cli) -> None:
    result = cli("plan", "--format", "json")
    assert result.code == 0, result.err
    first, second = json.loads(result.out)["changes"]
    assert first["status_names"] == {
        "1": "Remote payment accepted",
        "2": "Shipped",
        "3": "Delivered",
        "9": "Awaiting payment",
    }
    assert second["status_names"] == {}


def test_the_job_summary_shows_the_names(edited: Project, cli: Cli, env: dict[str, str]) -> None:
    summary = edited.root / "summary.md"
    env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert cli("plan").code == 0
    assert '`"9"` (Awaiting payment) | `"1"` (Remote payment accepted) |' in summary.read_text()


def test_a_plan_without_changes_does_not_read_the_statuses(project: Project, cli: Cli) -> None:
    project.mapping(1)
    project.applied_before(range(1, 2))
    catalog_path(project.state_file).write_text("<<<<<<< not json")
    result = cli("plan")  # one change: names are read, and a broken file only loses them
    assert result.code == 0
    assert "statuses.json: the status catalog is corrupt" in result.err
    assert "external ids are shown without names" in result.err
    assert 'READY_TO_SEND  "9" -> "1"\n' in result.out
    project.mapping(1, rts='"9"')  # no changes: nothing to name, the file is not read
    result = cli("plan")
    assert result.code == 0 and result.err == "" and result.out.startswith("No changes.")


def test_a_plan_names_its_changes_whatever_the_entries_of_the_shops_it_does_not_show(
    project: Project, cli: Cli
) -> None:
    project.mapping(1)
    project.applied_before(range(1, 2))
    recorded(project, {1: SHOP})
    path = catalog_path(project.state_file)
    data = json.loads(path.read_text())
    data["integrations"]["5"] = {"read_at": READ_AT}  # a shop the plan does not change, broken
    path.write_text(json.dumps(data))
    result = cli("plan")
    assert result.code == 0 and result.err == ""
    assert 'READY_TO_SEND  "9" (Awaiting payment) -> "1" (Remote payment accepted)\n' in result.out
    data["integrations"]["1"]["statuses"]["9"]["deleted"] = "maybe"  # the shop it shows, broken
    path.write_text(json.dumps(data))
    result = cli("plan")
    assert result.code == 0
    assert "corrupt (integrations.1.statuses.9.deleted: Input should be a valid boolean" in result.err
    assert 'READY_TO_SEND  "9" -> "1"\n' in result.out


def test_apply_shows_the_names_in_its_plan(edited: Project, cli: Cli, sandbox: Start) -> None:
    sandbox()
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert 'READY_TO_SEND  "9" (Awaiting payment) -> "1" (Remote payment accepted)\n' in result.out


def test_drift_and_reconcile_show_the_names(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    project.mapping(2)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    recorded(project, {1: SHOP})
    server.store.edit_mapping(1, {"DELIVERED": "2"})
    server.store.edit_mapping(2, {"DELIVERED": "2"})

    result = cli("drift")
    assert result.code == 2, result.err
    assert 'DELIVERED  "3" (Delivered)  "2" (Shipped)  "3" (Delivered)\n' in result.out
    assert 'DELIVERED  "3"      "2"   "3"\n' in result.out  # integration 2: ids as they are
    markdown = cli("drift", "--format", "markdown").out
    assert '| DELIVERED | `"3"` (Delivered) | `"2"` (Shipped) | `"3"` (Delivered) |' in markdown
    first, second = json.loads(cli("drift", "--format", "json").out)["integrations"]
    assert first["status_names"] == {"2": "Shipped", "3": "Delivered"}
    assert second["status_names"] == {}

    result = cli("reconcile", "--yes")
    assert result.code == 0, result.err
    assert 'DELIVERED  "3" (Delivered)  "2" (Shipped)  "3" (Delivered)\n' in result.out


def test_drift_in_sync_does_not_read_the_statuses(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    sandbox()
    assert cli("apply", "--yes").code == 0
    catalog_path(project.state_file).write_text("{")
    result = cli("drift", "--format", "json")
    assert result.code == 0 and "corrupt" not in result.err
    assert json.loads(result.out)["integrations"][0]["status_names"] == {}


# --- offline warnings ---------------------------------------------------------------------


@pytest.fixture
def stale(project: Project) -> Project:
    """Integration 1 maps "99" (its statuses, as last read, lack it) and "7" (deleted there);
    integration 2 maps "99" too, but its statuses were never read."""
    project.mapping(1, transit='"99"', delivered='"7"')
    project.mapping(2, transit='"99"')
    recorded(project, {1: SHOP})
    return project


UNKNOWN = (
    'mappings/shop-1.yaml:4:15: IN_TRANSIT: the shop had no status "99" as last read on 2026-11-30; '
    "check live with 'statusync validate --remote'"
)
DELETED = (
    'mappings/shop-1.yaml:5:14: DELIVERED: status "7" (Old status) was deleted in the shop as last '
    "read on 2026-11-30, and orders never reach a deleted status; map another status or null, or "
    "check live with 'statusync validate --remote'"
)


def test_validate_warns_of_an_unknown_and_a_deleted_id_at_their_lines(stale: Project, cli: Cli) -> None:
    result = cli("validate")
    assert result.code == 0  # a warning, never a failure
    assert result.out == "2 mapping files valid.\n"
    assert result.err == f"warning: {UNKNOWN}\nwarning: {DELETED}\n"  # nothing of integration 2


def test_on_github_actions_the_warnings_are_annotations_on_their_lines(
    stale: Project, cli: Cli, env: dict[str, str]
) -> None:
    env.update(GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(stale.root))
    result = cli("validate")
    assert result.code == 0
    assert (
        "::warning file=mappings/shop-1.yaml,line=4,col=15::IN_TRANSIT: the shop had no status "
        "\"99\" as last read on 2026-11-30; check live with 'statusync validate --remote'\n"
    ) in result.err
    assert '::warning file=mappings/shop-1.yaml,line=5,col=14::DELIVERED: status "7"' in result.err
    result = cli("plan", "--format", "json")
    assert result.err.count("::warning file=mappings/shop-1.yaml") == 2
    json.loads(result.out)  # stdout stays the plan alone


def test_plan_warns_in_the_plan_without_changing_its_exit_code(stale: Project, cli: Cli) -> None:
    result = cli("plan", "--detailed-exitcode")
    assert result.code == 2  # changes pending, as without the warnings
    assert f"Warning: {UNKNOWN}.\n" in result.out and f"Warning: {DELETED}.\n" in result.out
    assert result.err == ""  # said once, in the plan
    warnings = json.loads(cli("plan", "--format", "json").out)["warnings"]
    assert warnings[1:] == [UNKNOWN, DELETED]  # after the missing state's own
    markdown = cli("plan", "--format", "markdown").out
    assert f"> [!WARNING]\n> {md_text(UNKNOWN)}.\n" in markdown  # for the pull-request comment


def test_no_warning_for_ids_the_statuses_have_or_integrations_never_read(project: Project, cli: Cli) -> None:
    project.mapping(1)
    project.mapping(2, transit='"99"')
    recorded(project, {1: SHOP})
    assert cli("validate").err == ""
    assert "Warning: mappings" not in cli("plan").out
