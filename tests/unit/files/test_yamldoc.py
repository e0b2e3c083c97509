from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from statusync.errors import InvalidInput, Problem
from statusync.files import yamldoc
from statusync.files.settings import load_settings
from statusync.files.validation import validate


def problems_of(text: str) -> list[str]:
    try:
        doc = yamldoc.parse(text, "f.yaml")
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]
    assert doc is not None
    return [str(p) for p in doc.problems]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("0", 0),
        ("12", 12),
        ("012", 12),
        ("-3", -3),
        ("+5", 5),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("-.5", -0.5),
        ("1e3", 1000.0),
        ("1.", 1.0),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        # YAML 1.2: what YAML 1.1 made booleans or numbers are strings.
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("0X1F", "0X1F"),
        ("1:30", "1:30"),
        ("nUll", "nUll"),
        ("tRue", "tRue"),
        ("2024-01-01", "2024-01-01"),
        ("abc", "abc"),
    ],
)
def test_plain_scalars_resolve_by_the_yaml_1_2_core_schema(text: str, value: Any) -> None:
    assert yamldoc.resolve_plain(text) == value
    assert type(yamldoc.resolve_plain(text)) is type(value)


def test_nan_is_a_float() -> None:
    assert math.isnan(yamldoc.resolve_plain(".nan"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('a: "12"\n', "12"),
        ("a: '012'\n", "012"),
        ('a: "true"\n', "true"),
        ('a: ""\n', ""),
        ("a: !!str 012\n", "012"),
        ("a: |\n  x\n", "x\n"),
        ("a:\n", None),
        ("a: yes\n", "yes"),
    ],
)
def test_quoted_block_and_str_tagged_scalars_stay_strings(text: str, value: Any) -> None:
    doc = yamldoc.parse(text, "f.yaml")
    assert doc is not None and doc.data == {"a": value} and doc.problems == []


def test_every_key_and_value_is_located_1_based() -> None:
    doc = yamldoc.parse('# c\nintegration_id: 5\nmapping:\n  DELIVERED: "12"\n', "f.yaml")
    assert doc is not None
    entry = doc.entries[("mapping", "DELIVERED")]
    assert entry.key is not None and (entry.key.line, entry.key.col) == (4, 3)
    assert (entry.value.line, entry.value.col) == (4, 14)
    assert (entry.text, entry.style) == ("12", '"')
    assert doc.problem(("integration_id",), "x") == Problem("f.yaml", 2, 17, "x")
    assert doc.problem(("mapping",), "x", at_key=True) == Problem("f.yaml", 3, 1, "x")
    # A location that is not in the file points at the nearest enclosing one.
    assert doc.problem(("mapping", "DELIVERED", "deeper"), "x") == Problem("f.yaml", 4, 14, "x")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- ~\n"])
def test_a_file_without_a_document_parses_to_none(text: str) -> None:
    assert yamldoc.parse(text, "f.yaml") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", ["f.yaml:3:1: duplicate key 'a' (also on line 1); keep only one"]),
        ("m:\n  x: 1\n  x: 2\n", ["f.yaml:3:3: duplicate key 'x' (also on line 2); keep only one"]),
        ("a: b: c\n", ["f.yaml:1:5: invalid YAML: mapping values are not allowed in this context"]),
        (
            "a: 'x\n",
            [
                "f.yaml:2:1: invalid YAML: found unexpected end of stream "
                "(while scanning a quoted scalar on line 1)"
            ],
        ),
        (
            "a:\n\tb: 1\n",
            [
                "f.yaml:2:1: invalid YAML: found character that cannot start any token "
                "(while scanning for the next token on line 2); indent with spaces, not tabs"
            ],
        ),
        (
            "a: 1\n---\nb: 2\n",
            [
                "f.yaml:2:1: invalid YAML: but found another document "
                "(expected a single document in the stream on line 1)"
            ],
        ),
        ("a: \x07\n", ["f.yaml:1:4: invalid YAML: control characters are not allowed"]),
        ("- a\n- b\n", ["f.yaml:1:1: the top level must be a mapping of keys to values, not a list"]),
        (
            "just text\n",
            ["f.yaml:1:1: the top level must be a mapping of keys to values, not a single value"],
        ),
        ("a: &x 1\nb: *x\n", ["f.yaml:2:4: aliases (*name) are not supported; write the value out in full"]),
        (
            "base: &b {x: 1}\nc:\n  <<: *b\n",
            ["f.yaml:3:3: merge keys (<<) are not supported; write the keys out in full"],
        ),
        (
            "a: !!int '1'\n",
            ["f.yaml:1:4: unsupported YAML tag !!int; remove it (quote a value to make it a string)"],
        ),
        (
            "a: !shop x\n",
            ["f.yaml:1:4: unsupported YAML tag !shop; remove it (quote a value to make it a string)"],
        ),
        ("? [a]\n: 1\n", ["f.yaml:1:3: a key must be a plain word, not a list or mapping"]),
    ],
)
def test_problems_in_the_yaml_itself_are_located(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected


TOO_DEEP = "the document is nested too deeply (more than 32 levels)"
MAPPING_HINT = "a mapping file needs only integration_id, name, account and mapping"


def nested_blocks(depth: int, indent: int = 0) -> str:
    """`a:` under `a:` under ..., `depth` block mappings deep (the outermost included)."""
    return (
        "".join(" " * (indent + 2 * level) + "a:\n" for level in range(depth - 1))
        + " " * (indent + 2 * (depth - 1))
        + "a: 1\n"
    )


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        pytest.param("a: " + "[" * 32 + "]" * 32 + "\n", 1, 35, id="flow lists, one level too many"),
        pytest.param("a: " + "{b: " * 40 + "1" + "}" * 40 + "\n", 1, 128, id="flow maps"),
        pytest.param("a: " + "[" * 1000 + "\n", 1, 35, id="never closed"),  # found before the syntax error
        pytest.param("a:\n" + "  " + "- " * 40 + "x\n", 2, 65, id="block lists on one line"),
        pytest.param(nested_blocks(40), 33, 65, id="block maps"),
        pytest.param("a: " + "[b: " * 40 + "\n", 1, 65, id="single-pair maps in flow lists"),
        pytest.param("a: 1\n---\nb: " + "[" * 40 + "]" * 40 + "\n", 3, 35, id="in a second document"),
        pytest.param("? " + "[" * 40 + "]" * 40 + "\n: 1\n", 1, 34, id="in a key"),
    ],
)
def test_a_document_nested_too_deeply_is_a_located_problem(text: str, line: int, col: int) -> None:
    assert problems_of(text) == [f"f.yaml:{line}:{col}: {TOO_DEEP}; {MAPPING_HINT}"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(nested_blocks(32), id="block maps"),
        pytest.param("a: " + "[" * 31 + "]" * 31 + "\n", id="flow lists"),
        pytest.param("# " + ":-[{?" * 50 + "\na: {b: [1, 2]}\n", id="brackets in a comment"),
        pytest.param("a: '" + "[" * 100 + "'\n", id="brackets in a string"),
    ],
)
def test_nesting_up_to_the_limit_is_read(text: str) -> None:
    doc = yamldoc.parse(text, "f.yaml")
    assert doc is not None and not doc.problems


def test_a_syntax_error_is_still_reported_as_one_when_the_file_is_long() -> None:
    # Deep enough to be checked, and never closed.
    text = "a: [" + ", ".join(f"{{k: {i}}}" for i in range(40)) + "\n"
    assert problems_of(text) == [
        (
            "f.yaml:2:1: invalid YAML: did not find expected ',' or ']' "
            "(while parsing a flow sequence on line 1)"
        )
    ]


def test_statusync_yaml_nested_too_deeply_gets_its_own_hint(tmp_path: Path) -> None:
    (tmp_path / "statusync.yaml").write_text("accounts:\n  default: " + "{a: " * 40 + "}" * 40 + "\n")
    with pytest.raises(InvalidInput) as caught:
        load_settings(tmp_path, {})
    assert [str(p) for p in caught.value.problems] == [
        f"statusync.yaml:2:132: {TOO_DEEP}; statusync.yaml needs three levels at most "
        "(accounts, a name, its keys)"
    ]


BOMBS = {
    "flow lists": ("integration_id: 1\nmapping: " + "[" * 500 + "]" * 500 + "\n", 2, 41),
    "flow maps": (
        "integration_id: 1\nmapping:\n  READY_TO_SEND: " + "{a: " * 1000 + "b" + "}" * 1000 + "\n",
        3,
        138,
    ),
    "block maps": ("integration_id: 1\nmapping:\n" + nested_blocks(1000, indent=2), 34, 65),
    "100,000 levels": ("integration_id: 1\nmapping: " + "[" * 100_000 + "]" * 100_000 + "\n", 2, 41),
    "100,000 levels never closed": ("integration_id: 1\nmapping: " + "[" * 100_000 + "\n", 2, 41),
}


@pytest.mark.parametrize("command", ["validate", "fmt"])
@pytest.mark.parametrize(("text", "line", "col"), BOMBS.values(), ids=BOMBS.keys())
def test_a_nesting_bomb_is_refused_by_the_commands(
    tmp_path: Path, command: str, text: str, line: int, col: int
) -> None:
    # A real process: a crash in C (the composer recursing) must fail the test, not end pytest.
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "bomb.yaml").write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "statusync", command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert (proc.returncode, proc.stderr.splitlines()) == (
        1,
        [f"error: mappings/bomb.yaml:{line}:{col}: {TOO_DEEP}; {MAPPING_HINT}", "error: 1 problem found"],
    )
    assert (tmp_path / "mappings" / "bomb.yaml").read_text() == text


def test_a_deeply_nested_statusync_yaml_is_refused_by_the_commands(tmp_path: Path) -> None:
    (tmp_path / "statusync.yaml").write_text(
        "accounts:\n  default: " + "{a: " * 100_000 + "}" * 100_000 + "\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "statusync", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0].startswith(f"error: statusync.yaml:2:132: {TOO_DEEP}; statusync.yaml")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: \xff\n", "f.yaml:1:4: the file is not valid UTF-8 (byte 0xff); save it with UTF-8 encoding"),
        (
            b"a: 1\nb: caf\xe9\n",
            "f.yaml:2:7: the file is not valid UTF-8 (byte 0xe9); save it with UTF-8 encoding",
        ),
    ],
)
def test_a_file_that_is_not_utf8_is_a_problem(data: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        yamldoc.decode(data, "f.yaml")
    assert [str(p) for p in caught.value.problems] == [expected]


def test_a_utf8_byte_order_mark_is_ignored() -> None:
    assert yamldoc.decode("\ufeffa: é\n".encode(), "f.yaml") == "a: é\n"


@pytest.mark.parametrize(
    ("text", "number_like"),
    [
        ("12", True),
        ("012", True),
        ("1_000", True),
        ("0b101", True),
        ("+5", True),
        ("1.5", True),
        ("0x1F", True),
        ("abc", False),
        ("1:30", False),
        ("12a", False),
    ],
)
def test_number_like_spellings(text: str, number_like: bool) -> None:
    doc = yamldoc.parse(f"a: {text}\nb: '{text}'\n", "f.yaml")
    assert doc is not None
    assert doc.entries[("a",)].number_like is number_like
    assert doc.entries[("b",)].number_like is False


@pytest.mark.parametrize(
    ("word", "suggestion"),
    [
        ("DELIVRED", "DELIVERED"),
        ("delivered", "DELIVERED"),
        ("nmae", "name"),
        ("zzz", None),
    ],
)
def test_did_you_mean(word: str, suggestion: str | None) -> None:
    assert yamldoc.did_you_mean(word, ["DELIVERED", "CANCEL", "name"]) == suggestion


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    count: int
    label: str = "x"


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    inner: Inner
    named: dict[str, Inner] = {}
    size: float = 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "inner: {count: 1, lable: a}\n",
            ["f.yaml:1:19: unknown key 'lable' in inner (did you mean 'label'?)"],
        ),
        (
            "inner: {count: 1}\nnamed:\n  a: {count: 1, colour: red}\n",
            ["f.yaml:3:17: unknown key 'colour' in named.a; expected one of: count, label"],
        ),
        ("inner: {label: a}\n", ["f.yaml:1:1: missing required key 'count' in inner"]),
        ("size: 2\n", ["f.yaml: missing required key 'inner'"]),
        (
            "inner: {count: '3'}\n",
            ['f.yaml:1:16: inner.count: expected a number, got the string "3"; write it unquoted: 3'],
        ),
        (
            "inner: {count: 1, label: 12}\n",
            ['f.yaml:1:26: inner.label: expected a string, got the number 12; quote it: "12"'],
        ),
        ("inner: []\n", ["f.yaml:1:8: inner: expected a mapping of keys to values, got a list"]),
        ("inner: {count: 1}\nsize: true\n", ["f.yaml:2:7: size: expected a number, got true"]),
    ],
)
def test_validation_errors_become_located_problems(text: str, expected: list[str]) -> None:
    doc = yamldoc.parse(text, "f.yaml")
    assert doc is not None
    assert validate(Outer, doc) is None
    assert [str(p) for p in doc.problems] == expected


def test_validate_returns_the_model_when_all_is_well() -> None:
    doc = yamldoc.parse("inner: {count: 2}\n", "f.yaml")
    assert doc is not None
    assert validate(Outer, doc) == Outer(inner=Inner(count=2))
