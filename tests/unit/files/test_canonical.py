from __future__ import annotations

import os
from pathlib import Path

import pytest

from statusync.core.model import IntegrationSpec
from statusync.errors import InvalidInput
from statusync.files.canonical import dump_spec, format_files, format_text
from statusync.files.mappings import parse_spec

CANONICAL = """\
# mappings/acme-nl.yaml
integration_id: 23452345  # required
name: ACME NL
account: default
mapping:
  READY_TO_SEND: "11"
  IN_TRANSIT: "11"
  DELIVERED: "12"
  CANCEL: null
"""

MESSY = """\
# mappings/acme-nl.yaml: a leading file comment

mapping:    # what each category means
    # shipped
    DELIVERED: 12   # the shop's "Delivered"
    CANCEL: ~
    # packed
    READY_TO_SEND: '11'
    IN_TRANSIT: "11"
# the shop's name
name: ACME NL
integration_id: 0x1F  # the integration
account: default
# a closing remark
"""

MESSY_FORMATTED = """\
# mappings/acme-nl.yaml: a leading file comment

integration_id: 31    # the integration
# the shop's name
name: ACME NL
account: default
mapping:    # what each category means
  # packed
  READY_TO_SEND: "11"
  IN_TRANSIT: "11"
  # shipped
  DELIVERED: "12"   # the shop's "Delivered"
  CANCEL: null
# a closing remark
"""

MAPPING = '  READY_TO_SEND: "1"\n  IN_TRANSIT: "2"\n  DELIVERED: "3"\n  CANCEL: null\n'

CANONICAL_MAPPING = "mapping:\n" + MAPPING

# Where each comment goes when the keys around it move: (input, output).
PLACEMENTS = [
    pytest.param(
        "integration_id: 1\nmapping:\n" + MAPPING + "  # last comment in mapping\nname: x\n",
        "integration_id: 1\nname: x\n" + CANONICAL_MAPPING + "  # last comment in mapping\n",
        id="end of the mapping block, above a top-level key",
    ),
    pytest.param(
        "name: x\nintegration_id: 1\nmapping:\n" + MAPPING + "  # last comment in mapping\n",
        "integration_id: 1\nname: x\n" + CANONICAL_MAPPING + "  # last comment in mapping\n",
        id="end of the mapping block, at the end of the file",
    ),
    pytest.param(
        'integration_id: 1\nmapping:\n  CANCEL: null\n  READY_TO_SEND: "1"\n  IN_TRANSIT: "2"\n'
        '  DELIVERED: "3"\n\n  # after DELIVERED, written last\n# about the name\nname: x\n',
        "integration_id: 1\n# about the name\nname: x\n"
        + CANONICAL_MAPPING
        + "\n  # after DELIVERED, written last\n",
        id="end of the mapping block, categories reordered",
    ),
    pytest.param(
        'mapping:\n    READY_TO_SEND: "1"\n    IN_TRANSIT: "2"\n'
        '    DELIVERED: "3"\n    CANCEL: null\n'
        "      # deeper still\n  # less deep, still in the block\nintegration_id: 1\n",
        "integration_id: 1\n" + CANONICAL_MAPPING + "  # deeper still\n  # less deep, still in the block\n",
        id="end of the mapping block, other indentation",
    ),
    pytest.param(
        "mapping: {READY_TO_SEND: '1', IN_TRANSIT: '2',\n  DELIVERED: '3', CANCEL: ~\n"
        "  # before the brace\n  }\nintegration_id: 1\n",
        "integration_id: 1\n" + CANONICAL_MAPPING + "  # before the brace\n",
        id="end of a flow mapping",
    ),
    pytest.param(
        '  mapping:\n    READY_TO_SEND: "1"\n    IN_TRANSIT: "2"\n'
        '    DELIVERED: "3"\n    CANCEL: null\n'
        "    # end of mapping\n  # above integration_id\n  integration_id: 1\n",
        "# above integration_id\nintegration_id: 1\n" + CANONICAL_MAPPING + "  # end of mapping\n",
        id="an indented document",
    ),
    pytest.param(
        "mapping:\n" + MAPPING + "# about the id\n\n# more about the id\nintegration_id: 1\n"
        "# about the name\nname: x\n",
        "# about the id\n\n# more about the id\nintegration_id: 1\n# about the name\nname: x\n"
        + CANONICAL_MAPPING,
        id="above a top-level key",
    ),
    pytest.param(
        "name: x  # the name\nmapping:   # the mapping\n  CANCEL: null # unmapped\n"
        '  DELIVERED: "3"    # delivered\n  IN_TRANSIT: "2"\n  READY_TO_SEND: "1"\n'
        "integration_id: 1  # the id\n",
        "integration_id: 1  # the id\nname: x  # the name\nmapping:   # the mapping\n"
        '  READY_TO_SEND: "1"\n  IN_TRANSIT: "2"\n  DELIVERED: "3"    # delivered\n'
        "  CANCEL: null # unmapped\n",
        id="end of line",
    ),
    pytest.param(
        "# header\n# more header\n\nname: x\nintegration_id: 1\nmapping:\n" + MAPPING + "\n# trailer\n\n",
        "# header\n# more header\n\nintegration_id: 1\nname: x\n" + CANONICAL_MAPPING + "\n# trailer\n",
        id="header and trailer",
    ),
    pytest.param(
        "mapping:\n" + MAPPING + "integration_id: 1\n  # indented under a plain value\n# trailer\n",
        "integration_id: 1\n" + CANONICAL_MAPPING + "# indented under a plain value\n# trailer\n",
        id="trailer after a top-level key",
    ),
    pytest.param(
        "integration_id: 1\nmapping:\n  # about CANCEL\n  CANCEL: null\n  # about DELIVERED\n"
        '  DELIVERED: "3"\n  IN_TRANSIT: "2"\n\n'
        '  # about READY_TO_SEND\n  READY_TO_SEND: "1"\n',
        'integration_id: 1\nmapping:\n  # about READY_TO_SEND\n  READY_TO_SEND: "1"\n'
        '  IN_TRANSIT: "2"\n'
        '  # about DELIVERED\n  DELIVERED: "3"\n  # about CANCEL\n  CANCEL: null\n',
        id="between categories",
    ),
    pytest.param(
        "integration_id: 1\nmapping:\n  CANCEL: null\n"
        '# about DELIVERED, at the top level\'s indentation\n  DELIVERED: "3"\n'
        '      # about IN_TRANSIT, deeper\n  IN_TRANSIT: "2"\n  READY_TO_SEND: "1"\n',
        'integration_id: 1\nmapping:\n  READY_TO_SEND: "1"\n'
        '  # about IN_TRANSIT, deeper\n  IN_TRANSIT: "2"\n'
        '  # about DELIVERED, at the top level\'s indentation\n  DELIVERED: "3"\n  CANCEL: null\n',
        id="between categories, other indentation",
    ),
]

# Inputs the formatter must turn into a fixed point in one step.
SAMPLES = [p.values[0] for p in PLACEMENTS] + [
    CANONICAL,
    MESSY,
    "integration_id: 1\nmapping: {CANCEL: null, DELIVERED: 3, IN_TRANSIT: '2', READY_TO_SEND: \"1\"}\n",
    "integration_id: 1\nmapping: {READY_TO_SEND: '1',  # first\n"
    "  IN_TRANSIT: '2', DELIVERED: '3', CANCEL: ~}  # end\n",
    "integration_id: 1\r\nmapping:\r\n" + MAPPING.replace("\n", "\r\n"),
    "integration_id: 1\nname: |  # a block\n  two\n  lines\nmapping:\n" + MAPPING,
    "integration_id: 1\nmapping:\n\n\n" + MAPPING.replace("  IN_TRANSIT", "\n\n  IN_TRANSIT") + "\n\n\n",
    "integration_id: 1\nmapping:\n" + MAPPING + "#\n#   indented text\n  # under mapping\n",
    "--- # a document marker\nintegration_id: 1\nmapping:\n" + MAPPING + "...\n",
    'integration_id: 1\nname: "yes"\nmapping:\n' + MAPPING.replace('"1"', "on").replace('"2"', "'#2'"),
    "integration_id: 1\nmapping:\n" + MAPPING.rstrip("\n"),
    "\ufeffintegration_id: 1\nmapping:\n" + MAPPING,
]


def test_a_canonical_file_is_left_as_it_is() -> None:
    assert format_text(CANONICAL) == CANONICAL


def test_keys_categories_quoting_indentation_and_comments() -> None:
    assert format_text(MESSY) == MESSY_FORMATTED


@pytest.mark.parametrize(("text", "expected"), PLACEMENTS)
def test_comments_stay_where_they_were(text: str, expected: str) -> None:
    assert format_text(text) == expected
    assert format_text(expected) == expected


@pytest.mark.parametrize("text", SAMPLES)
def test_formatting_is_idempotent(text: str) -> None:
    once = format_text(text)
    assert format_text(once) == once


@pytest.mark.parametrize("text", SAMPLES)
def test_formatting_keeps_the_meaning_and_every_comment(text: str) -> None:
    formatted = format_text(text)
    assert (
        parse_spec(formatted, "f")[1] == parse_spec(text.removeprefix("\ufeff"), "f", any_id_spelling=True)[1]
    )
    comments = sorted(
        line[line.index("#") :].strip() for line in text.splitlines() if "#" in line and "'#2'" not in line
    )
    assert (
        sorted(
            line[line.index("#") :].strip()
            for line in formatted.splitlines()
            if "#" in line and "'#2'" not in line and '"#2"' not in line
        )
        == comments
    )


@pytest.mark.parametrize("text", SAMPLES)
def test_canonical_layout(text: str) -> None:
    formatted = format_text(text)
    assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    keys = [
        line.split(":")[0] for line in formatted.splitlines() if line and not line.lstrip().startswith("#")
    ]
    top = [k for k in keys if not k.startswith(" ")]
    assert top == [k for k in ("integration_id", "name", "account", "mapping") if k in top]
    assert [k for k in keys if k.startswith(" ")] == [
        "  READY_TO_SEND",
        "  IN_TRANSIT",
        "  DELIVERED",
        "  CANCEL",
    ]
    for line in formatted.splitlines():
        if line.startswith("  ") and not line.lstrip().startswith("#"):
            value = line.split(": ", 1)[1].split(" #")[0].strip()
            assert value == "null" or (value.startswith('"') and value.endswith('"'))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "integration_id: 1\nmapping:\n" + MAPPING.replace("IN_TRANSIT", "IN_TRANSITT"),
            ["<text>:4:3: unknown status category 'IN_TRANSITT' (did you mean 'IN_TRANSIT'?)"],
        ),
        (
            "integration_id: 1\nmapping:\n" + MAPPING.replace('"3"', "012"),
            ['<text>:5:14: DELIVERED: 012 is read as a number and would lose its spelling; quote it: "012"'],
        ),
        (
            "",
            [
                "<text>: the file is empty; "
                "a mapping file needs integration_id and mapping (see `statusync schema`)"
            ],
        ),
    ],
)
def test_only_valid_files_are_formatted(text: str, expected: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        format_text(text)
    assert [str(p) for p in caught.value.problems] == expected


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def test_check_lists_files_that_are_not_canonical_and_changes_nothing(tmp_path: Path) -> None:
    paths = [write(tmp_path, "mappings/a.yaml", CANONICAL), write(tmp_path, "mappings/eu/b.yml", MESSY)]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}
    assert format_files(paths, tmp_path, check=True) == ["mappings/eu/b.yml"]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths} == before


def test_format_rewrites_files_that_are_not_canonical(tmp_path: Path) -> None:
    canonical = write(tmp_path, "mappings/a.yaml", CANONICAL)
    messy = write(tmp_path, "mappings/eu/b.yml", MESSY)
    os.chmod(messy, 0o640)
    mtime = canonical.stat().st_mtime_ns
    assert format_files([canonical, messy], tmp_path, check=False) == ["mappings/eu/b.yml"]
    assert messy.read_text() == MESSY_FORMATTED
    assert messy.stat().st_mode & 0o777 == 0o640
    assert canonical.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in messy.parent.iterdir()) == ["b.yml"]  # no temporary file left behind
    assert format_files([canonical, messy], tmp_path, check=False) == []


@pytest.mark.parametrize(
    "data",
    [
        ("\ufeff" + CANONICAL).encode(),
        CANONICAL.replace("\n", "\r\n").encode(),
        CANONICAL.encode() + b"\n",
    ],
)
def test_a_byte_order_mark_crlf_or_blank_lines_at_the_end_are_not_canonical(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(data)
    assert format_files([path], tmp_path, check=False) == ["a.yaml"]
    assert path.read_bytes() == CANONICAL.encode()


def test_format_changes_nothing_when_any_file_is_invalid(tmp_path: Path) -> None:
    messy = write(tmp_path, "mappings/a.yaml", MESSY)
    bad = write(tmp_path, "mappings/b.yaml", "integration_id: 1\nmapping:\n" + MAPPING + "extra: 1\n")
    with pytest.raises(InvalidInput) as caught:
        format_files([messy, bad], tmp_path, check=False)
    assert [str(p) for p in caught.value.problems] == [
        "mappings/b.yaml:7:1: unknown key 'extra'; expected one of: integration_id, name, account, mapping"
    ]
    assert messy.read_text() == MESSY


SPEC = IntegrationSpec.model_validate(
    {
        "integration_id": 23452345,
        "name": "ACME: NL",
        "mapping": {"READY_TO_SEND": "11", "IN_TRANSIT": "11", "DELIVERED": "12", "CANCEL": None},
    }
)


@pytest.mark.parametrize(
    ("spec", "header", "expected"),
    [
        (
            SPEC,
            None,
            "integration_id: 23452345\nname: 'ACME: NL'\nmapping:\n  READY_TO_SEND: \"11\"\n"
            '  IN_TRANSIT: "11"\n  DELIVERED: "12"\n  CANCEL: null\n',
        ),
        (
            SPEC.model_copy(update={"name": None, "account": "eu"}),
            "Imported from Sendcloud\non 2024-05-01",
            "# Imported from Sendcloud\n# on 2024-05-01\nintegration_id: 23452345\naccount: eu\nmapping:\n"
            '  READY_TO_SEND: "11"\n  IN_TRANSIT: "11"\n  DELIVERED: "12"\n  CANCEL: null\n',
        ),
    ],
)
def test_dump_spec_writes_canonical_text(spec: IntegrationSpec, header: str | None, expected: str) -> None:
    text = dump_spec(spec, header)
    assert text == expected
    assert format_text(text) == text
    assert parse_spec(text, "f")[1] == spec
