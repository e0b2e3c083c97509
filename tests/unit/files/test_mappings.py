from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from statusync.core.model import IntegrationSpec, LoadedSpec
from statusync.errors import InvalidInput, StatusyncError
from statusync.files.mappings import discover, load_mappings, parse_spec

EXAMPLE = """\
# mappings/acme-nl.yaml
integration_id: 23452345      # required
name: ACME NL
account: default
mapping:
  READY_TO_SEND: "11"
  IN_TRANSIT: "11"
  DELIVERED: "12"
  CANCEL: null
"""


def mapping_file(mapping: str = "", *, integration_id: str = "7", extra: str = "") -> str:
    """A file whose mapping: block is the four categories, with `mapping` lines replacing theirs."""
    lines = {"READY_TO_SEND": '"1"', "IN_TRANSIT": '"2"', "DELIVERED": '"3"', "CANCEL": "null"}
    for line in filter(None, mapping.splitlines()):
        key, _, value = line.partition(":")
        lines[key.strip()] = value.strip()
    body = "".join(f"  {k}: {v}\n" for k, v in lines.items())
    return f"integration_id: {integration_id}\n{extra}mapping:\n{body}"


def write(root: Path, relative: str, text: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load(root: Path, accounts: tuple[str, ...] = ("default",)) -> list[IntegrationSpec]:
    return [loaded.spec for loaded in load_mappings(root / "mappings", root, accounts)]


def problems(root: Path, accounts: tuple[str, ...] = ("default",)) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load_mappings(root / "mappings", root, accounts)
    return [str(p) for p in caught.value.problems]


def test_the_contract_example_loads(tmp_path: Path) -> None:
    write(tmp_path, "mappings/acme-nl.yaml", EXAMPLE)
    [loaded] = load_mappings(tmp_path / "mappings", tmp_path, ["default"])
    assert loaded.file == "mappings/acme-nl.yaml"
    assert loaded.sha256 == hashlib.sha256(EXAMPLE.encode()).hexdigest()
    assert loaded.spec == IntegrationSpec.model_validate(
        {
            "integration_id": 23452345,
            "name": "ACME NL",
            "account": "default",
            "mapping": {"READY_TO_SEND": "11", "IN_TRANSIT": "11", "DELIVERED": "12", "CANCEL": None},
        }
    )


def test_name_and_account_are_optional(tmp_path: Path) -> None:
    write(tmp_path, "mappings/a.yaml", mapping_file())
    [spec] = load(tmp_path)
    assert (spec.name, spec.account) == (None, "default")


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("null", None),
        ("~", None),
        ("", None),
        ('"11"', "11"),
        ("'011'", "011"),
        ("abc", "abc"),
        # YAML 1.2: these are strings, not booleans.
        ("yes", "yes"),
        ("on", "on"),
        ("no", "no"),
        ("off", "off"),
        # A plain decimal integer keeps its spelling, so it is taken as that string.
        ("12", "12"),
        ("0", "0"),
        ("1234567890123456789012", "1234567890123456789012"),
        ('"0x1F"', "0x1F"),
        ("2024-01-01", "2024-01-01"),
        ("!!str 012", "012"),
    ],
)
@pytest.mark.parametrize("category", ["READY_TO_SEND", "IN_TRANSIT", "DELIVERED", "CANCEL"])
def test_external_ids_that_are_accepted(
    tmp_path: Path, category: str, written: str, value: str | None
) -> None:
    write(tmp_path, "mappings/a.yaml", mapping_file(f"{category}: {written}"))
    [spec] = load(tmp_path)
    assert spec.mapping.as_dict()[category] == value


@pytest.mark.parametrize("written", ["012", "0x1F", "0o7", "1_000", "+5", "-3", "-0", "0b101", "1_0.5"])
def test_a_number_that_would_lose_its_spelling_must_be_quoted(tmp_path: Path, written: str) -> None:
    write(tmp_path, "mappings/a.yaml", mapping_file(f"DELIVERED: {written}"))
    assert problems(tmp_path) == [
        f"mappings/a.yaml:5:14: DELIVERED: {written} is read as a number and would lose its spelling; "
        f'quote it: "{written}"'
    ]


@pytest.mark.parametrize(
    ("written", "got"),
    [
        ("1.5", "the number 1.5"),
        (".inf", "the number inf"),
        ("1e3", "the number 1000.0"),
        ("true", "true"),
        ("False", "false"),
        ("[1, 2]", "a list"),
        ("{a: 1}", "a mapping"),
        ('""', "an empty string"),
        ("''", "an empty string"),
    ],
)
def test_values_that_are_not_external_ids(tmp_path: Path, written: str, got: str) -> None:
    write(tmp_path, "mappings/a.yaml", mapping_file(f"CANCEL: {written}"))
    assert problems(tmp_path) == [
        f"mappings/a.yaml:6:11: CANCEL: expected an external id, got {got}; an external id must be "
        'a quoted string such as "12", or null for unmapped'
    ]


@pytest.mark.parametrize("category", ["READY_TO_SEND", "IN_TRANSIT", "DELIVERED", "CANCEL"])
def test_every_category_must_be_present(tmp_path: Path, category: str) -> None:
    text = "".join(line for line in mapping_file().splitlines(keepends=True) if category not in line)
    write(tmp_path, "mappings/a.yaml", text)
    assert problems(tmp_path) == [
        f"mappings/a.yaml:2:1: missing status category {category!r}; "
        "give all four categories, with null for an unmapped one"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (mapping_file(extra="nmae: x\n"), ["mappings/a.yaml:2:1: unknown key 'nmae' (did you mean 'name'?)"]),
        (
            mapping_file(extra="colour: red\n"),
            [
                "mappings/a.yaml:2:1: unknown key 'colour'; "
                "expected one of: integration_id, name, account, mapping"
            ],
        ),
        # A misspelt category is reported once, as unknown, not also as missing.
        (
            mapping_file().replace("DELIVERED", "DELIVRED"),
            ["mappings/a.yaml:5:3: unknown status category 'DELIVRED' (did you mean 'DELIVERED'?)"],
        ),
        (
            mapping_file().replace("CANCEL", "cancel"),
            ["mappings/a.yaml:6:3: unknown status category 'cancel' (did you mean 'CANCEL'?)"],
        ),
        (
            mapping_file("RETURNED: null"),
            [
                "mappings/a.yaml:7:3: unknown status category 'RETURNED'; "
                "expected one of: READY_TO_SEND, IN_TRANSIT, DELIVERED, CANCEL"
            ],
        ),
    ],
)
def test_unknown_keys_at_every_level(tmp_path: Path, text: str, expected: list[str]) -> None:
    write(tmp_path, "mappings/a.yaml", text)
    assert problems(tmp_path) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            mapping_file(integration_id='"123"'),
            [
                "mappings/a.yaml:1:17: integration_id: expected a number, "
                'got the string "123"; write it unquoted: 123'
            ],
        ),
        (
            mapping_file(integration_id="true"),
            ["mappings/a.yaml:1:17: integration_id: expected an integer, got true"],
        ),
        (
            mapping_file(integration_id="0"),
            ["mappings/a.yaml:1:17: integration_id: expected a positive integer, got the number 0"],
        ),
        (
            mapping_file(integration_id="-4"),
            ["mappings/a.yaml:1:17: integration_id: expected a positive integer, got the number -4"],
        ),
        (
            mapping_file(integration_id="1.5"),
            ["mappings/a.yaml:1:17: integration_id: expected an integer, got the number 1.5"],
        ),
        (
            mapping_file(integration_id="abc"),
            ['mappings/a.yaml:1:17: integration_id: expected an integer, got the string "abc"'],
        ),
        (
            mapping_file(extra="name: 2024\n"),
            ['mappings/a.yaml:2:7: name: expected a string, got the number 2024; quote it: "2024"'],
        ),
        (mapping_file(extra="account: ''\n"), ["mappings/a.yaml:2:10: account: must not be empty"]),
        (
            mapping_file(extra="account: 'sendcloud-${{ github.token }}'\n"),
            [
                'mappings/a.yaml:2:10: account: the string "sendcloud-${{ github.token }}" is not an '
                "account name: use letters, digits, '.', '_' and '-' (at most 64, starting with a letter "
                "or digit)"
            ],
        ),
        (
            "integration_id: 7\nmapping:\n",
            ["mappings/a.yaml:2:9: mapping: expected a mapping of keys to values, got null"],
        ),
        (
            "integration_id: 7\nmapping: [a]\n",
            ["mappings/a.yaml:2:10: mapping: expected a mapping of keys to values, got a list"],
        ),
        (
            "name: x\n",
            [
                "mappings/a.yaml: missing required key 'integration_id'",
                "mappings/a.yaml: missing required key 'mapping'",
            ],
        ),
        (
            mapping_file() + "mapping: {}\n",
            ["mappings/a.yaml:7:1: duplicate key 'mapping' (also on line 2); keep only one"],
        ),
        (
            mapping_file() + '  CANCEL: "1"\n',
            ["mappings/a.yaml:7:3: duplicate key 'CANCEL' (also on line 6); keep only one"],
        ),
        (
            "",
            [
                "mappings/a.yaml: the file is empty; a mapping file needs integration_id and mapping "
                "(see `statusync schema`)"
            ],
        ),
        ("- 1\n", ["mappings/a.yaml:1:1: the top level must be a mapping of keys to values, not a list"]),
        (
            "integration_id: [\n",
            [
                "mappings/a.yaml:2:1: invalid YAML: did not find expected node content "
                "(while parsing a flow node on line 2)"
            ],
        ),
        (
            b"integration_id: 7\nname: \xff\n",
            ["mappings/a.yaml:2:7: the file is not valid UTF-8 (byte 0xff); save it with UTF-8 encoding"],
        ),
    ],
)
def test_invalid_files(tmp_path: Path, text: str | bytes, expected: list[str]) -> None:
    write(tmp_path, "mappings/a.yaml", text)
    assert problems(tmp_path) == expected


@pytest.mark.parametrize(
    ("written", "read"), [("0x11", 17), ("0o21", 17), ("+17", 17), ("017", 17), ("0017", 17)]
)
def test_an_integration_id_is_written_as_the_plan_shows_it(tmp_path: Path, written: str, read: int) -> None:
    # A reviewer reads the file's diff and the plan: both must show the same id.
    write(tmp_path, "mappings/a.yaml", mapping_file(integration_id=written))
    assert problems(tmp_path) == [
        f"mappings/a.yaml:1:17: integration_id: {written} is read as {read}; write it as {read}, "
        "the id the plan shows (statusync fmt rewrites it)"
    ]


def test_several_problems_in_several_files_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "mappings/a.yaml", mapping_file("DELIVERED: 012\nCANCEL: 1.5", extra="nmae: x\n"))
    write(tmp_path, "mappings/b.yaml", mapping_file(integration_id='"8"'))
    write(tmp_path, "mappings/eu/c.yml", "integration_id: [\n")
    write(tmp_path, "mappings/ok.yaml", mapping_file(integration_id="9"))
    with pytest.raises(InvalidInput) as caught:
        load_mappings(tmp_path / "mappings", tmp_path, ["default"])
    assert [str(p) for p in caught.value.problems] == [
        "mappings/a.yaml:2:1: unknown key 'nmae' (did you mean 'name'?)",
        "mappings/a.yaml:6:14: DELIVERED: 012 is read as a number and would lose its spelling; "
        'quote it: "012"',
        "mappings/a.yaml:7:11: CANCEL: expected an external id, got the number 1.5; an external id must be "
        'a quoted string such as "12", or null for unmapped',
        'mappings/b.yaml:1:17: integration_id: expected a number, got the string "8"; write it unquoted: 8',
        "mappings/eu/c.yml:2:1: invalid YAML: did not find expected node content "
        "(while parsing a flow node on line 2)",
    ]
    assert str(caught.value).endswith("\n5 problems found")


def test_the_same_integration_id_in_two_files(tmp_path: Path) -> None:
    write(tmp_path, "mappings/a.yaml", mapping_file(integration_id="42"))
    write(tmp_path, "mappings/b.yaml", "# b\n" + mapping_file(integration_id="42"))
    write(tmp_path, "mappings/eu/c.yml", "\n\n" + mapping_file(integration_id="42"))
    write(tmp_path, "mappings/d.yaml", mapping_file(integration_id="43"))
    assert problems(tmp_path) == [
        "mappings/b.yaml:2:17: integration_id 42 is also used by mappings/a.yaml:1; "
        "each integration must have exactly one mapping file",
        "mappings/eu/c.yml:3:17: integration_id 42 is also used by mappings/a.yaml:1; "
        "each integration must have exactly one mapping file",
    ]


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("prod", []),
        (
            "prd",
            [
                "mappings/a.yaml:2:10: account 'prd' is not defined under 'accounts' in statusync.yaml "
                "(did you mean 'prod'?)"
            ],
        ),
        (
            "other",
            [
                "mappings/a.yaml:2:10: account 'other' is not defined under 'accounts' in statusync.yaml "
                "(defined: default, prod)"
            ],
        ),
    ],
)
def test_the_account_must_be_defined(tmp_path: Path, account: str, expected: list[str]) -> None:
    write(tmp_path, "mappings/a.yaml", mapping_file(extra=f"account: {account}\n"))
    if expected:
        assert problems(tmp_path, ("default", "prod")) == expected
    else:
        assert [s.account for s in load(tmp_path, ("default", "prod"))] == ["prod"]


def test_discover_finds_yaml_and_yml_at_any_depth_sorted_skipping_hidden(tmp_path: Path) -> None:
    for name in [
        "b.yaml",
        "a.yml",
        "eu/de/acme.yml",
        "eu/acme.yaml",
        "z/x.yaml",
        ".hidden.yaml",
        ".git/x.yaml",
        "eu/.draft/y.yaml",
        "notes.txt",
        "a.yaml.bak",
        "eu/README.md",
    ]:
        write(tmp_path, f"mappings/{name}", "x")
    found = [p.relative_to(tmp_path / "mappings").as_posix() for p in discover(tmp_path / "mappings")]
    assert found == ["a.yml", "b.yaml", "eu/acme.yaml", "eu/de/acme.yml", "z/x.yaml"]


def test_files_come_in_the_order_of_their_folders_then_names(tmp_path: Path) -> None:
    # A folder's files come before those of a folder whose name merely starts the same way
    # (`eu/` before `eu-west.yaml` and `eu-west/`), whatever character follows the shared part.
    names = ["eu-west.yaml", "eu/b.yaml", "eu-west/a.yaml", "eu/a/z.yaml", "eu.yaml", "eu0.yaml", "e.yaml"]
    for number, name in enumerate(names, start=1):
        write(tmp_path, f"mappings/{name}", mapping_file(integration_id=str(number)))
    assert [loaded.file for loaded in load_mappings(tmp_path / "mappings", tmp_path, ["default"])] == [
        "mappings/e.yaml",
        "mappings/eu/a/z.yaml",
        "mappings/eu/b.yaml",
        "mappings/eu-west/a.yaml",
        "mappings/eu-west.yaml",
        "mappings/eu.yaml",
        "mappings/eu0.yaml",
    ]


def test_a_yml_file_at_depth_is_loaded(tmp_path: Path) -> None:
    write(tmp_path, "mappings/eu/de/acme-de.yml", mapping_file())
    [loaded] = load_mappings(tmp_path / "mappings", tmp_path, ["default"])
    assert loaded.file == "mappings/eu/de/acme-de.yml"


@pytest.mark.parametrize("make", [False, True])
def test_a_missing_mappings_directory_is_an_error(tmp_path: Path, make: bool) -> None:
    if make:
        write(tmp_path, "mappings", "a file, not a directory")
    with pytest.raises(StatusyncError) as caught:
        load_mappings(tmp_path / "mappings", tmp_path, ["default"])
    what = "is not a directory" if make else "does not exist"
    assert str(caught.value) == (
        f"mappings directory {(tmp_path / 'mappings').as_posix()} {what}; "
        "create it, or point 'mappings' in statusync.yaml (or --mappings) at it"
    )


def test_no_files_is_no_specs(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    assert load(tmp_path) == []


def test_paths_are_shown_relative_to_root_or_as_given_outside_it(tmp_path: Path) -> None:
    write(tmp_path, "elsewhere/m/a.yaml", mapping_file())
    root = tmp_path / "repo"
    root.mkdir()
    [loaded] = load_mappings(tmp_path / "elsewhere" / "m", root, ["default"])
    assert loaded.file == (tmp_path / "elsewhere/m/a.yaml").as_posix()
    [loaded] = load_mappings(tmp_path / "elsewhere" / "m", tmp_path, ["default"])
    assert loaded.file == "elsewhere/m/a.yaml"


def test_a_cached_spec_skips_parsing_but_not_the_checks_across_files(tmp_path: Path) -> None:
    texts = {
        "mappings/a.yaml": mapping_file(integration_id="42"),
        "mappings/b.yaml": "\n" + mapping_file(integration_id="42", extra="account: gone\n"),
    }
    known: dict[tuple[str, str], LoadedSpec] = {}
    for file, text in texts.items():
        write(tmp_path, file, text)
        sha256 = hashlib.sha256(text.encode()).hexdigest()
        known[file, sha256] = LoadedSpec(parse_spec(text, file)[1], file, sha256)
    asked: list[tuple[str, str]] = []

    def cached(file: str, sha256: str) -> LoadedSpec | None:
        asked.append((file, sha256))
        return known.get((file, sha256))

    with pytest.raises(InvalidInput) as caught:
        load_mappings(tmp_path / "mappings", tmp_path, ["default"], cached)
    assert asked == list(known)
    assert [str(p) for p in caught.value.problems] == [
        "mappings/b.yaml:2:17: integration_id 42 is also used by mappings/a.yaml:1; "
        "each integration must have exactly one mapping file",
        "mappings/b.yaml:3:10: account 'gone' is not defined under 'accounts' in statusync.yaml "
        "(defined: default)",
    ]


def test_a_cached_spec_is_used_as_is(tmp_path: Path) -> None:
    write(tmp_path, "mappings/a.yaml", "not: [valid")  # never parsed: its hash is known
    spec = IntegrationSpec.model_validate(
        {
            "integration_id": 1,
            "mapping": dict.fromkeys(["READY_TO_SEND", "IN_TRANSIT", "DELIVERED", "CANCEL"]),
        }
    )
    known = LoadedSpec(spec, "mappings/a.yaml", "sha")
    [loaded] = load_mappings(tmp_path / "mappings", tmp_path, ["default"], lambda file, sha: known)
    assert loaded is known


def test_upper_case_suffixes_are_mapping_files_too(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    for name in ("A.YAML", "b.Yml", "c.yaml", "notes.txt"):
        (tmp_path / "m" / name).write_text("")
    assert [p.name for p in discover(tmp_path / "m")] == ["A.YAML", "b.Yml", "c.yaml"]
