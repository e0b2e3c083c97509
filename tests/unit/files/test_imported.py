"""Live integrations -> mapping files: file names safe everywhere, canonical text, refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from statusync.errors import StatusyncError
from statusync.files.imported import MAX_NAME_CHARS, ImportedFile, imported_file, refusals, slug, target_path
from statusync.files.mappings import parse_spec
from tests.support.builders import mapping

WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"{p}{n}" for p in ("com", "lpt") for n in range(10))}
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@pytest.mark.parametrize(
    ("shop_name", "expected"),
    [
        ("ACME NL", "acme-nl-7"),
        (None, "integration-7"),
        ("", "integration-7"),
        ("   ", "integration-7"),
        ("!!! ### ***", "integration-7"),
        ("..", "integration-7"),
        ("../..", "integration-7"),
        (".hidden", "hidden-7"),
        ("CON", "con-7"),
        ("nul.txt", "nul-txt-7"),
        ("a/b\\c", "a-b-c-7"),
        ("../../etc/Café Ünïcode/..\\x", "etc-cafe-unicode-x-7"),
        ("Straße Köln", "strasse-koln-7"),
        ("🎉 Party 🎉", "party-7"),
        ("🎉🎉🎉", "integration-7"),
        ("Ελληνικά", "integration-7"),
        ("ﬁne ＡＣＭＥ", "fine-acme-7"),  # ligature and full-width letters: NFKD spells them out
        ("--Shop--", "shop-7"),
        ("tab\there\nnew\x00line", "tab-here-new-line-7"),
    ],
)
def test_slug(shop_name: str | None, expected: str) -> None:
    assert slug(shop_name, 7) == expected


def test_a_long_name_is_cut_without_a_trailing_dash() -> None:
    assert slug("x" * 500, 7) == "x" * MAX_NAME_CHARS + "-7"
    assert slug("y" * (MAX_NAME_CHARS - 1) + " zzz", 7) == "y" * (MAX_NAME_CHARS - 1) + "-7"


@pytest.mark.parametrize(
    "shop_name",
    [
        "CON",
        "con",
        "Nul",
        "AUX",
        "com1",
        "LPT9",
        "prn",
        "",
        "..",
        ".",
        "/",
        "\\",
        "..\\..\\windows",
        "/etc/passwd",
        "~root",
        "a" * 1000,
        "Ünïcödé" * 50,
        "\u202eevil",
        "C:\\shop",
        "shop.yaml",
    ],
)
def test_every_slug_is_a_safe_file_name(shop_name: str) -> None:
    stem = slug(shop_name, 123456789012345)
    assert SLUG.fullmatch(stem)
    assert stem not in WINDOWS_DEVICES
    assert len(f"{stem}.yaml") <= MAX_NAME_CHARS + 1 + 15 + len(".yaml")


def test_target_path_is_inside_the_mappings_directory(tmp_path: Path) -> None:
    assert target_path(tmp_path / "mappings", "acme-7") == tmp_path / "mappings" / "acme-7.yaml"


@pytest.mark.parametrize("stem", ["../evil", "sub/inside", "/etc/evil"])
def test_target_path_refuses_a_path_that_leaves_the_directory(tmp_path: Path, stem: str) -> None:
    with pytest.raises(StatusyncError, match="not inside the mappings directory"):
        target_path(tmp_path / "mappings", stem)


def test_target_path_refuses_a_symlink_pointing_outside(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "acme-7.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    with pytest.raises(StatusyncError, match="not inside"):
        target_path(tmp_path / "mappings", "acme-7")


def test_imported_file_is_canonical_and_reads_back(tmp_path: Path) -> None:
    item = imported_file(
        tmp_path / "mappings", tmp_path, 23452345, "ACME NL", "default", mapping("11", "11", "12", None)
    )
    assert item.file == "mappings/acme-nl-23452345.yaml"
    assert item.text == (
        '# Imported by `statusync import` from Sendcloud integration 23452345, shop "ACME NL".\n'
        "integration_id: 23452345\n"
        "name: ACME NL\n"
        "mapping:\n"
        '  READY_TO_SEND: "11"\n'
        '  IN_TRANSIT: "11"\n'
        '  DELIVERED: "12"\n'
        "  CANCEL: null\n"
    )
    assert parse_spec(item.text, item.file)[1] == item.spec
    change = item.change()
    assert (change.integration_id, change.file, change.after, change.name) == (
        23452345,
        item.file,
        mapping("11", "11", "12", None),
        "ACME NL",
    )


@pytest.mark.parametrize(
    "shop_name",
    [
        "../../etc/Café Ünïcode/..\\x",
        "line\nbreak",
        "ctrl\x00\x1b\x7f\x85",
        "yes",
        "123",
        "null",
        "x: y # z",
        "- dash",
        "*alias",
        "'quoted' \"both\"",
        "\u2028separator",
        "\ufeffbom",
    ],
)
def test_any_shop_name_reads_back_unchanged(tmp_path: Path, shop_name: str) -> None:
    item = imported_file(tmp_path, tmp_path, 5, shop_name, "default", mapping("1", None, None, None))
    assert parse_spec(item.text, "f.yaml")[1].name == shop_name
    assert item.text.startswith("# Imported by `statusync import` from Sendcloud integration 5, ")
    assert item.text.count("\n# ") == 0  # the header stays one line


def test_account_is_written_only_when_not_default(tmp_path: Path) -> None:
    m = mapping(None, None, None, None)
    assert "account: eu\n" in imported_file(tmp_path, tmp_path, 5, "S", "eu", m).text
    assert "account" not in imported_file(tmp_path, tmp_path, 5, "S", "default", m).text


def test_no_shop_name_means_no_name_key(tmp_path: Path) -> None:
    item = imported_file(tmp_path, tmp_path, 5, None, "default", mapping(None, None, None, None))
    assert item.file.endswith("integration-5.yaml") and "name:" not in item.text
    assert item.text.startswith("# Imported by `statusync import` from Sendcloud integration 5.\n")


def test_a_live_mapping_no_file_can_hold_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StatusyncError, match="integration 5: its live mapping cannot be written"):
        imported_file(tmp_path, tmp_path, 5, "S", "default", mapping("", None, None, None))


def test_refusals(tmp_path: Path) -> None:
    def item(integration_id: int) -> ImportedFile:
        return imported_file(
            tmp_path / "mappings",
            tmp_path,
            integration_id,
            "Shop",
            "default",
            mapping(None, None, None, None),
        )

    new, existing, elsewhere = item(1), item(2), item(3)
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "shop-2.yaml").write_text("x")
    managed = {2: "mappings/shop-2.yaml", 3: "mappings/custom.yaml"}
    items = [new, existing, elsewhere]
    assert refusals(items, managed, force=False) == [
        "mappings/shop-2.yaml already exists; pass --force to overwrite it",
        "integration 3 is already managed by mappings/custom.yaml; edit that file, or delete it "
        "before importing again",
    ]
    # --force overwrites a file, but never makes two files manage one integration.
    assert refusals(items, managed, force=True) == [
        "integration 3 is already managed by mappings/custom.yaml; edit that file, or delete it "
        "before importing again",
    ]
