"""The status catalog (.statusync/statuses.json) as the runs that read shops' statuses record it,
`statusync statuses`, apply's refusal of ids a shop lacks, and the catalog's merge, against the
sandbox over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from statusync.sandbox import SandboxServer, StoredIntegration
from statusync.sandbox.seed import shop_status
from tests.support.gitrepo import DEV, Origin, hermetic_git
from tests.support.project import MAPPING_PATH, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]
CATALOG = ".statusync/statuses.json"
STATUSES_PATH = "/api/v3/shop-order-statuses"


def add_shop(server: SandboxServer, integration_id: int, mapping: tuple[str | None, ...]) -> None:
    server.store.add_integration(
        StoredIntegration(
            id=integration_id,
            shop_name=f"Shop {integration_id}",
            statuses=(
                shop_status("2", {"en-gb": "Payment accepted", "nl-nl": "Betaling aanvaard"}),
                shop_status("4", {"en-gb": "Shipped", "nl-nl": "Verzonden"}),
                shop_status("5", {"en-gb": "Delivered", "nl-nl": "Geleverd"}),
                shop_status("6", "Canceled"),
                shop_status("8", "Old status", deleted=True),
            ),
            mapping=mapping,
        )
    )


def catalog(project: Project) -> dict[str, dict[str, object]]:
    document = json.loads((project.root / CATALOG).read_text(encoding="utf-8"))
    assert document["version"] == 1
    integrations: dict[str, dict[str, object]] = document["integrations"]
    return integrations


def names(project: Project, integration_id: int) -> dict[str, str]:
    statuses = catalog(project)[str(integration_id)]["statuses"]
    assert isinstance(statuses, dict)
    return {e: s["name"] for e, s in statuses.items()}


def status_reads(server: SandboxServer) -> list[int | None]:
    """The integrations of the GET /shop-order-statuses requests, in order."""
    return [
        r.integration_id for r in server.store.requests() if r.method == "GET" and r.path == STATUSES_PATH
    ]


def test_import_then_apply_records_the_names_of_what_they_read(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = sandbox()
    add_shop(server, 4242, ("2", "4", "5", None))
    assert cli("import", "--integration", "4242").code == 0
    assert names(project, 4242) == {
        "2": "Payment accepted",
        "4": "Shipped",
        "5": "Delivered",
        "6": "Canceled",
        "8": "Old status",
    }
    assert catalog(project)["4242"]["statuses"]["8"] == {"name": "Old status", "deleted": True}  # type: ignore[index]
    assert catalog(project)["4242"]["language"] == "en-gb"

    # The shop renames a status; apply reads the statuses of what it writes before writing.
    server.store.rename_status(4242, "6", (("en-gb", "Cancelled by customer"),))
    path = next((project.root / "mappings").glob("*.yaml"))
    path.write_text(path.read_text().replace("CANCEL: null", 'CANCEL: "6"'))
    server.store.clear_requests()
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert live(server, 4242)["CANCEL"] == "6"
    assert names(project, 4242)["6"] == "Cancelled by customer"
    requests = [(r.method, r.path) for r in server.store.requests()]
    assert requests == [("GET", STATUSES_PATH), ("POST", MAPPING_PATH)]  # read before the write
    assert status_reads(server) == [4242]


def test_a_renamed_status_is_recorded_by_statuses_refresh_and_by_validate_remote(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1, '"2"', '"4"', '"5"')
    server = sandbox()
    assert cli("statuses", "--refresh").code == 0
    assert names(project, 1)["5"] == "Status 5"

    admin = httpx.put(
        f"{server.url.removesuffix('/api/v3')}/_sandbox/integrations/1/statuses/5", json={"name": "Delivered"}
    )
    assert admin.status_code == 200, admin.text
    result = cli("statuses", "--refresh")
    assert result.code == 0, result.err
    assert names(project, 1)["5"] == "Delivered"
    assert '"5"  Delivered' in result.out

    server.store.rename_status(1, "5", (("en-gb", "Handed over"),))
    assert cli("validate", "--remote").code == 0
    assert names(project, 1)["5"] == "Handed over"


def test_language_nl_nl_gives_dutch_names(project: Project, cli: Cli, sandbox: Start) -> None:
    project.write("statusync.yaml", "language: nl-nl\n")
    server = sandbox()
    add_shop(server, 7, ("2", "4", "5", None))
    project.mapping(7, '"2"', '"4"', '"5"')
    result = cli("statuses", "--refresh", "--format", "json")
    assert result.code == 0, result.err
    shop = json.loads(result.out)["integrations"][0]
    assert shop["language"] == "nl-nl"
    assert {s["external_id"]: s["name"] for s in shop["statuses"]} == {
        "2": "Betaling aanvaard",
        "4": "Verzonden",
        "5": "Geleverd",
        "6": "Canceled",  # one name for every language
        "8": "Old status",
    }
    assert names(project, 7)["5"] == "Geleverd"
    assert status_reads(server) == [7]


def test_names_read_before_the_language_changed_show_with_a_note_until_read_again(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = sandbox()
    add_shop(server, 7, ("2", "4", "5", None))
    project.mapping(7, '"2"', '"4"', '"6"')
    assert cli("apply", "--yes").code == 0  # reads the shop's statuses before writing, in en-gb
    project.write("statusync.yaml", "language: nl-nl\n")
    project.mapping(7, '"2"', '"4"', '"5"')
    result = cli("plan")
    assert 'DELIVERED  "6" (Canceled) -> "5" (Delivered)' in result.out
    note = (
        "the status names shown were read in en-gb, and statusync.yaml asks for nl-nl; "
        "'statusync statuses --refresh' reads them in nl-nl"
    )
    assert f"Warning: {note}" in result.out  # in the plan, and so in the pull-request comment
    markdown = cli("plan", "--format", "markdown")
    assert "> [!WARNING]\n> the status names shown were read in en\\-gb" in markdown.out
    assert json.loads(cli("plan", "--format", "json").out)["warnings"] == [note]
    assert f"note: {note}" in cli("drift").err  # elsewhere, a note on stderr

    assert cli("statuses", "--refresh").code == 0
    result = cli("plan")
    assert 'DELIVERED  "6" (Canceled) -> "5" (Geleverd)' in result.out and "note:" not in result.err


def test_an_unknown_language_is_located_and_the_languages_named(project: Project, cli: Cli) -> None:
    project.write("statusync.yaml", "api_url: https://panel.sendcloud.sc/api/v3\nlanguage: nl\n")
    result = cli("validate")
    assert result.code == 1
    assert (
        "statusync.yaml:2:11: language: expected 'en-us', 'en-gb', 'fr-fr', 'de-de', 'nl-nl', 'es-es' or "
        "'it-it', got the string \"nl\" (did you mean 'nl-nl'?)" in result.err
    )


def test_apply_refuses_only_the_integrations_that_map_an_id_their_shop_lacks_or_deleted(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    for i in (1, 2, 3):
        project.mapping(i, '"2"', '"4"', '"5"')
    project.applied_before(range(1, 4))
    server = sandbox()
    project.mapping(1, '"2"', '"4"', '"99"')  # the shop has no "99"
    server.store.delete_status(2, "4")  # shop 2 deleted "4"
    result = cli("apply", "--yes")
    assert result.code == 1, result.out + result.err
    posted = [r.integration_id for r in server.store.requests() if r.method == "POST"]
    assert posted == [3], result.out + result.err
    assert (
        'mappings/shop-1.yaml:5:14: DELIVERED: the shop has no status "99" (available: "2" Status 2, '
        '"4" Status 4, "5" Status 5)' in result.err
    )
    assert (
        'mappings/shop-2.yaml:4:15: IN_TRANSIT: status "4" (Status 4) was deleted in the shop on'
        in result.err
    )
    assert "Apply complete: 0 created, 1 updated, 0 reset, 0 forgotten, 2 failed." in result.out
    # The refused ones stay in the plan; the statuses read are recorded all the same.
    assert cli("plan", "--detailed-exitcode").code == 2
    assert sorted(catalog(project)) == ["1", "2", "3"]
    assert catalog(project)["2"]["statuses"]["4"]["deleted"] is True  # type: ignore[index]


def test_statuses_offline_remote_and_refresh(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1, '"2"', '"4"', '"5"', extra="name: ACME <NL>\n")
    server = sandbox()
    offline = cli("statuses")
    assert offline.code == 0, offline.err
    assert "mappings/shop-1.yaml (integration 1, ACME <NL>): never read" in offline.out
    assert not status_reads(server)

    remote = cli("statuses", "--remote", "--format", "json")
    assert remote.code == 0, remote.err
    document = json.loads(remote.out)
    assert document["format_version"] == 1 and document["source"] == "live"
    (shop,) = document["integrations"]
    assert (shop["integration_id"], shop["file"], shop["account"], shop["error"]) == (
        1,
        "mappings/shop-1.yaml",
        "default",
        None,
    )
    assert [s["external_id"] for s in shop["statuses"]] == ["2", "4", "5"]
    assert not (project.root / CATALOG).exists()  # --remote records nothing

    assert cli("statuses", "--refresh").code == 0
    offline = cli("statuses", "--format", "json")
    document = json.loads(offline.out)
    assert document["source"] == "catalog"
    assert document["integrations"][0]["statuses"] == shop["statuses"]
    assert document["integrations"][0]["read_at"] == catalog(project)["1"]["read_at"]
    assert len(status_reads(server)) == 2  # offline read none


def test_statuses_escape_names_and_mark_deleted_ones(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1, '"2"', '"4"', '"5"')
    server = sandbox()
    server.store.rename_status(1, "2", (("en-gb", "Paid\x1b[31m\u202e"),))
    server.store.delete_status(1, "4")
    assert cli("statuses", "--refresh").code == 0
    out = cli("statuses").out
    assert "\x1b" not in out and "\u202e" not in out
    assert '"2"  Paid\\u001b[31m\\u202e' in out
    assert '"4"  Status 4  (deleted)' in out


def test_statuses_escape_a_hand_edited_read_time_and_language(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    # The catalog is committed: a pull request can put anything in it, not only in the names.
    project.mapping(1, '"2"', '"4"', '"5"')
    sandbox()
    assert cli("statuses", "--refresh").code == 0
    document = json.loads((project.root / CATALOG).read_text(encoding="utf-8"))
    document["integrations"]["1"]["read_at"] = "2026-01-01\x1b[2J\u202e"
    document["integrations"]["1"]["language"] = "en-gb\x1b[31m"
    (project.root / CATALOG).write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = cli("statuses")
    assert result.code == 0, result.err
    assert "\x1b" not in result.out and "\u202e" not in result.out
    assert "read 2026-01-01\\u001b[2J\\u202e, in en-gb\\u001b[31m:" in result.out


def test_an_integration_that_leaves_the_state_leaves_the_catalog(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1, '"2"', '"4"', '"5"')
    project.mapping(2, '"2"', '"4"', '"5"')
    sandbox()
    assert cli("apply", "--yes").code == 0
    assert sorted(catalog(project)) == ["1", "2"]
    (project.root / "mappings" / "shop-2.yaml").unlink()
    assert cli("apply", "--yes").code == 0  # forgets 2
    assert sorted(catalog(project)) == ["1"]


# Two branches that both recorded statuses ---------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Origin:
    hermetic_git(monkeypatch)
    return Origin.create(tmp_path)


def test_two_branches_that_recorded_statuses_merge_without_conflict(
    repo: Origin, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dev = repo.clone("dev")
    monkeypatch.chdir(dev.path)
    dev.mapping(1, "2")
    dev.mapping(2, "2")
    dev.write(
        ".gitattributes", ".statusync/state.json merge=statusync\n.statusync/statuses.json merge=statusync\n"
    )
    dev.commit("two shops")
    dev.enable_merge_driver()
    server = sandbox()
    server.store.add_integration(
        StoredIntegration(id=1, shop_name="Shop 1", statuses=(shop_status("2", "Paid"),))
    )
    server.store.add_integration(
        StoredIntegration(id=2, shop_name="Shop 2", statuses=(shop_status("2", "Paid"),))
    )
    assert cli("statuses", "--refresh").code == 0
    dev.commit("statuses read")

    dev.git("checkout", "--quiet", "-b", "one")
    server.store.rename_status(1, "2", (("en-gb", "Paid by card"),))
    assert cli("statuses", "--refresh", "--only", "id:1").code == 0
    dev.commit("shop 1 read on one")
    dev.git("checkout", "--quiet", "main")
    dev.git("checkout", "--quiet", "-b", "two")
    server.store.rename_status(2, "2", (("en-gb", "Paid by transfer"),))
    assert cli("statuses", "--refresh", "--only", "id:2").code == 0
    dev.commit("shop 2 read on two")

    dev.git(*DEV, "merge", "--quiet", "--no-edit", "one")
    merged = json.loads((dev.path / CATALOG).read_text())["integrations"]
    assert merged["1"]["statuses"]["2"]["name"] == "Paid by card"
    assert merged["2"]["statuses"]["2"]["name"] == "Paid by transfer"
    assert dev.git("status", "--porcelain") == ""
