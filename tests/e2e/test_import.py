"""`import` and `validate --remote` through the CLI, against the sandbox over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync.files.state_file import load_state
from statusync.sandbox import SandboxServer, StoredIntegration
from statusync.sandbox.seed import shop_status
from tests.support.project import MAPPING_PATH, PUBLIC_KEY, SECRET_KEY, Project, Result

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]
HOSTILE = "../../etc/Café Ünïcode/..\\x"


def add_shop(
    server: SandboxServer,
    integration_id: int,
    shop_name: str,
    mapping: tuple[str | None, ...] = ("2", "4", "5", None),
    type: str = "prestashop_v2",
) -> None:
    server.store.add_integration(
        StoredIntegration(
            id=integration_id,
            shop_name=shop_name,
            type=type,
            statuses=(
                shop_status("2", "Payment accepted"),
                shop_status("4", "Shipped"),
                shop_status("5", "Delivered"),
                shop_status("6", "Canceled"),
            ),
            mapping=mapping,
        )
    )


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_import_writes_a_safe_file_whatever_the_shop_name(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    add_shop(server, 4242, HOSTILE)
    before = files_under(project.root)
    result = cli("import", "--integration", "4242")
    assert result.code == 0, result.err
    assert result.out == "mappings/etc-cafe-unicode-x-4242.yaml\n"
    assert "Import complete: 1 imported, 0 skipped." in result.err
    # Exactly one new mapping file, directly in mappings/, beside the state and its lock.
    assert files_under(project.root) - before == {
        "mappings/etc-cafe-unicode-x-4242.yaml",
        ".statusync/state.json",
        ".statusync/state.json.lock",
        ".statusync/statuses.json",  # the shop's statuses, read with the mapping ...
        ".statusync/statuses.json.lock",  # ... and recorded under its own lock
    }
    written = project.root / "mappings" / "etc-cafe-unicode-x-4242.yaml"
    assert written.read_text(encoding="utf-8") == (
        "# Imported by `statusync import` from Sendcloud integration 4242, shop "
        '"../../etc/Café Ünïcode/..\\x".\n'
        "integration_id: 4242\n"
        "name: ../../etc/Café Ünïcode/..\\x\n"
        "mapping:\n"
        '  READY_TO_SEND: "2"\n'
        '  IN_TRANSIT: "4"\n'
        '  DELIVERED: "5"\n'
        "  CANCEL: null\n"
    )
    assert {r.method for r in server.store.requests()} == {"GET"}
    entry = load_state(project.state_file).entries[4242]
    assert (entry.file, entry.name) == ("mappings/etc-cafe-unicode-x-4242.yaml", HOSTILE)
    assert cli("validate").code == 0
    assert cli("fmt", "--check").code == 0
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_shop_name_that_is_not_unicode_is_refused_as_the_api_s_error_and_nothing_is_written(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    # JSON can carry a lone surrogate ("\\ud800"); no UTF-8 file (a mapping, the state) can.
    server = sandbox()
    add_shop(server, 1, "Shop \ud800 one")
    add_shop(server, 2, "Fine")
    result = cli("import", "--all")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.startswith("error: GET /integrations: unexpected response (")
    assert "Invalid JSON" in result.err
    assert files_under(project.root) <= {".statusync/state.json.lock"}  # no mapping, no state
    assert cli("plan", "--detailed-exitcode").code == 0


def test_import_creates_the_mappings_directory(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    (project.root / "mappings").rmdir()
    add_shop(server, 1, "ACME NL")
    result = cli("import", "--integration", "1")
    assert result.code == 0, result.err
    assert (project.root / "mappings" / "acme-nl-1.yaml").is_file()


def test_import_refuses_to_overwrite_without_force(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    add_shop(server, 1, "ACME NL")
    add_shop(server, 2, "ACME DE")
    assert cli("import", "--integration", "1").code == 0
    imported = project.root / "mappings" / "acme-nl-1.yaml"
    server.store.edit_mapping(1, {"CANCEL": "6"})  # changed in the panel since

    result = cli("import", "--integration", "1", "--integration", "2")
    assert result.code == 1
    # Every line of the error carries `error:`; the reasons stay indented under the first.
    assert (
        "error: cannot import; nothing was written:\n"
        "error:   mappings/acme-nl-1.yaml already exists; pass --force to overwrite it"
    ) in result.err
    assert result.out == ""
    assert "CANCEL: null" in imported.read_text()
    assert not (project.root / "mappings" / "acme-de-2.yaml").exists()

    result = cli("import", "--integration", "1", "--integration", "2", "--force")
    assert result.code == 0, result.err
    assert result.out == "mappings/acme-de-2.yaml\nmappings/acme-nl-1.yaml\n"
    assert 'CANCEL: "6"' in imported.read_text()
    assert load_state(project.state_file).entries[1].mapping["CANCEL"] == "6"
    assert cli("plan", "--detailed-exitcode").code == 0


def test_import_all_skips_what_has_no_mapping(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    add_shop(server, 1, "ACME NL")
    add_shop(server, 2, "ACME DE", mapping=(None, None, None, None))
    add_shop(server, 3, "Webshop", type="shopify")

    result = cli("import", "--all")
    assert result.code == 0, result.err
    assert result.out == "mappings/acme-de-2.yaml\nmappings/acme-nl-1.yaml\n"
    assert (
        "note: skipped integration 3: HTTP 400: Integration 3 is of type 'shopify'; shop "
        "order statuses are only supported for PrestaShop V2 integrations"
    ) in result.err
    assert result.err.endswith("Import complete: 2 imported, 1 skipped.\n")
    assert sorted(load_state(project.state_file).entries) == [1, 2]
    assert cli("plan", "--detailed-exitcode").code == 0

    # Asked for by id, the same integration is an error.
    result = cli("import", "--integration", "3")
    assert result.code == 1
    assert "integration 3: HTTP 400: Integration 3 is of type 'shopify'" in result.err
    assert not list((project.root / "mappings").glob("webshop-*"))


def test_import_all_again_adds_new_shops_and_leaves_managed_ones_alone(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = sandbox()
    add_shop(server, 1, "ACME NL")
    assert cli("import", "--all").code == 0
    imported = project.root / "mappings" / "acme-nl-1.yaml"
    imported.write_text(imported.read_text() + "# reviewed\n")  # a local edit to keep
    add_shop(server, 2, "ACME DE")
    result = cli("import", "--all")
    assert result.code == 0, result.err
    assert result.out == "mappings/acme-de-2.yaml\n"
    assert "note: skipped integration 1: already managed by mappings/acme-nl-1.yaml" in result.err
    assert imported.read_text().endswith("# reviewed\n")
    assert sorted(load_state(project.state_file).entries) == [1, 2]


def test_import_of_an_unknown_integration_names_it(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    add_shop(server, 1, "ACME NL")
    result = cli("import", "--integration", "1", "--integration", "999")
    assert result.code == 1
    assert "integration 999 not found (HTTP 404" in result.err
    assert files_under(project.root / "mappings") == set()


def test_import_refuses_an_integration_another_file_manages(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1, file="mappings/eu/custom.yaml")
    sandbox()
    for force in ((), ("--force",)):
        result = cli("import", "--integration", "1", *force)
        assert result.code == 1
        assert (
            "integration 1 is already managed by mappings/eu/custom.yaml; edit that file, "
            "or delete it before importing again"
        ) in result.err
        assert files_under(project.root / "mappings") == {"eu/custom.yaml"}


def test_import_with_another_account(project: Project, cli: Cli, sandbox: Start, env: dict[str, str]) -> None:
    project.write(
        "statusync.yaml",
        """
        accounts:
          default: {public_key_env: SENDCLOUD_PUBLIC_KEY, secret_key_env: SENDCLOUD_SECRET_KEY}
          eu: {public_key_env: EU_PUBLIC, secret_key_env: EU_SECRET}
    """,
    )
    server = sandbox()
    # Only the eu account has the keys the sandbox accepts.
    env["EU_PUBLIC"] = PUBLIC_KEY
    env["EU_SECRET"] = SECRET_KEY
    del env["SENDCLOUD_PUBLIC_KEY"]
    del env["SENDCLOUD_SECRET_KEY"]
    add_shop(server, 1, "ACME NL")
    result = cli("import", "--integration", "1", "--account", "eu")
    assert result.code == 0, result.err
    assert "account: eu\n" in (project.root / "mappings" / "acme-nl-1.yaml").read_text()
    assert load_state(project.state_file).entries[1].account == "eu"
    assert cli("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize("command", [("import", "--all"), ("validate", "--remote")])
def test_missing_credentials_are_named_before_any_request(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str], command: tuple[str, ...]
) -> None:
    project.mapping(1)
    server = sandbox()
    del env["SENDCLOUD_SECRET_KEY"]
    result = cli(*command)
    assert result.code == 1
    assert "missing credentials for account 'default': set SENDCLOUD_SECRET_KEY" in result.err
    assert server.store.requests() == []


def test_validate_remote_points_at_unknown_and_deleted_ids(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = sandbox()
    add_shop(server, 7, "ACME NL")
    server.store.delete_status(7, "6")
    add_shop(server, 8, "Webshop", type="shopify")
    project.mapping(7, rts='"2"', transit='"4"', delivered='"9"', cancel='"6"', file="mappings/acme.yaml")
    project.mapping(8, file="mappings/webshop.yaml")
    project.mapping(999, file="mappings/gone.yaml")
    assert cli("validate").code == 0  # offline, it cannot know
    assert server.store.requests() == []

    result = cli("validate", "--remote")
    assert result.code == 1
    available = '(available: "2" Payment accepted, "4" Shipped, "5" Delivered)'
    problems = [
        line.removeprefix("error: ") for line in result.err.splitlines() if line.startswith("error: ")
    ]
    assert problems[0] == f'mappings/acme.yaml:5:14: DELIVERED: the shop has no status "9" {available}'
    assert re.fullmatch(
        r'mappings/acme\.yaml:6:11: CANCEL: status "6" \(Canceled\) was deleted in the '
        r"shop on \d{4}-\d\d-\d\d; map another status or null " + re.escape(available),
        problems[1],
    )
    assert problems[2] == (
        "mappings/gone.yaml:1:17: integration 999 not found (HTTP 404: The "
        "Integration could not be found with the search criteria given); its "
        "external ids cannot be checked"
    )
    assert problems[3].startswith(
        "mappings/webshop.yaml:1:17: integration 8: HTTP 400: Integration 8 is of type 'shopify'"
    )
    assert "4 problems found" in result.err
    assert result.out == ""


def test_validate_remote_passes_when_every_id_exists(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    project.mapping(2, cancel='"4"')
    server = sandbox()
    result = cli("validate", "--remote")
    assert result.code == 0, result.err
    assert result.out == "2 mapping files valid (checked against the shops' statuses).\n"
    assert [
        (r.method, r.path, r.integration_id)
        for r in sorted(server.store.requests(), key=lambda r: r.integration_id or 0)
    ] == [("GET", "/api/v3/shop-order-statuses", 1), ("GET", "/api/v3/shop-order-statuses", 2)]


def test_validate_remote_checks_the_files_first(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    project.mapping(1, delivered="012")
    result = cli("validate", "--remote")
    assert result.code == 1 and "quote it" in result.err
    assert server.store.requests() == []


def test_import_all_force_rewrites_its_own_files_and_skips_renamed_ones(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = sandbox()
    add_shop(server, 1, "ACME NL")
    add_shop(server, 2, "ACME DE")
    assert cli("import", "--all").code == 0
    (project.root / "mappings" / "acme-de-2.yaml").rename(project.root / "mappings" / "de.yaml")
    server.store.edit_mapping(1, {"CANCEL": "6"})
    server.store.edit_mapping(2, {"CANCEL": "6"})
    result = cli("import", "--all", "--force")
    assert result.code == 0, result.err
    assert result.out == "mappings/acme-nl-1.yaml\n"
    assert "note: skipped integration 2: already managed by mappings/de.yaml" in result.err
    assert 'CANCEL: "6"' in (project.root / "mappings" / "acme-nl-1.yaml").read_text()
    assert "CANCEL: null" in (project.root / "mappings" / "de.yaml").read_text()


def test_import_all_again_reads_no_mapping_of_an_integration_already_managed(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = sandbox()
    for i in (1, 2, 3):
        add_shop(server, i, f"Shop {i}")
    assert cli("import", "--all").code == 0
    (project.root / "mappings" / "shop-3-3.yaml").rename(project.root / "mappings" / "three.yaml")
    server.store.clear_requests()

    def mapping_reads() -> list[int | None]:
        return [
            r.integration_id for r in server.store.requests() if r.method == "GET" and r.path == MAPPING_PATH
        ]

    result = cli("import", "--all")
    assert result.code == 0, result.err
    assert result.out == "" and mapping_reads() == []  # the list of integrations only
    assert "Import complete: 0 imported, 3 skipped." in result.err
    # --force rewrites the files import wrote itself, so it reads those (not the renamed one).
    result = cli("import", "--all", "--force")
    assert result.code == 0, result.err
    assert sorted(mapping_reads()) == [1, 2]
    assert "note: skipped integration 3: already managed by mappings/three.yaml" in result.err
