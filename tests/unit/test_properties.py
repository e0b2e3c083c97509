"""Properties that must hold for every input, checked with hypothesis on generated ones:

- any bytes as a mapping file give a spec or located problems, never an exception;
- `fmt` is idempotent, never changes what a file means, and writes no character that is not
  printable (a bidi override stays an escape);
- a plan of (files, state) applied through the real runner to a model of the API, then planned
  again, is empty, and the model holds what the files say.

The runs are derandomized (the same examples on every run, so CI cannot fail by chance) and
small enough to keep the suite fast; STATUSYNC_PROPERTY_EXAMPLES=5000 explores at random.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statusync.core.model import CATEGORIES, IntegrationSpec, LoadedSpec, MappingDict
from statusync.core.plan import Action, make_plan
from statusync.core.state import Entry, State
from statusync.errors import InvalidInput, StatusyncError
from statusync.files.canonical import format_text
from statusync.files.mappings import load_mappings, parse_spec
from statusync.files.state_file import load_state, save_state
from statusync.runner.apply import apply_plan
from statusync.runner.recorder import Recorder
from statusync.text import quote

# STATUSYNC_PROPERTY_EXAMPLES=N runs N random examples of each property instead (exploring).
_EXPLORE = os.environ.get("STATUSYNC_PROPERTY_EXAMPLES")


def examples(default: int) -> settings:
    return settings(
        max_examples=int(_EXPLORE) if _EXPLORE else default,
        deadline=None,
        derandomize=not _EXPLORE,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# -- generated mapping files ---------------------------------------------------------------

KEYS = ["integration_id", "name", "account", "mapping", *CATEGORIES, "DELIVRED", "<<", "x", "? a"]
# Scalars and fragments that reach every rule: numbers that lose their spelling, YAML 1.1
# words, blank and control-character ids, escapes, anchors, aliases, tags, flow collections,
# block scalars, unterminated quotes and stray indicators.
FRAGMENTS = [
    "1",
    "12",
    "012",
    "0x1F",
    "0o17",
    "1_000",
    "+5",
    "-3",
    "1.5",
    "1e3",
    ".inf",
    "-.inf",
    ".nan",
    "99999999999999999999999999",
    "9007199254740992",
    "null",
    "~",
    "",
    "true",
    "yes",
    "on",
    '""',
    "''",
    '" "',
    '"\\0"',
    '"\\t1"',
    '"\\u202e1"',
    '"\\x85"',
    '"a`b"',
    "'it''s'",
    '"12"',
    "&a 1",
    "*a",
    "&b {x: 1}",
    "*b",
    "!!str 5",
    "!!int '1'",
    "!!map {}",
    "!custom x",
    "[1, 2]",
    "{a: 1}",
    "{READY_TO_SEND: '1'}",
    "|\n  block",
    ">-\n  folded",
    "[",
    "{",
    '"open',
    "'open",
    "@x",
    "`x",
    "%",
    "---",
    "...",
    "- item",
    "? complex",
    ": value",
    "#",
    "\t1",
]
_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_scalar = st.one_of(st.sampled_from(FRAGMENTS), _texts)
_line = st.builds(
    lambda indent, key, sep, value, comment: f"{' ' * indent}{key}{sep}{value}{comment}",
    st.sampled_from([0, 0, 2, 4, 1]),
    st.sampled_from(KEYS),
    st.sampled_from([": ", ":", " ", ": "]),
    _scalar,
    st.sampled_from(["", "", "  # note", "#x"]),
)
_yaml_like = st.lists(
    st.one_of(_line, st.sampled_from(["", "mapping:", "# comment", "---"])), max_size=12
).map("\n".join)

VALID_BASE = (
    'integration_id: 5\nname: Shop\nmapping:\n  READY_TO_SEND: "1"\n  IN_TRANSIT: "2"\n'
    '  DELIVERED: "3"\n  CANCEL: null\n'
)


@st.composite
def _mutated_valid(draw: st.DrawFn) -> str:
    """A valid file with one line replaced by a generated one: close to valid, so that the
    rules past the syntax are reached too."""
    lines = VALID_BASE.splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    lines[index] = draw(_line)
    return "\n".join(lines) + "\n"


@st.composite
def _revalued_valid(draw: st.DrawFn) -> str:
    """A valid file with one value replaced by a generated scalar: often still valid, so that
    what fmt and validation do with odd but legal values is reached."""
    lines = VALID_BASE.splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    key, _, _ = lines[index].partition(":")
    lines[index] = f"{key}: {draw(_scalar)}{draw(st.sampled_from(['', '  # note']))}"
    return "\n".join(lines) + "\n"


_file_bytes = st.one_of(
    st.binary(max_size=200),
    _yaml_like.map(lambda text: text.encode("utf-8")),
    _mutated_valid().map(lambda text: text.encode("utf-8")),
    _revalued_valid().map(lambda text: text.encode("utf-8")),
    _mutated_valid().map(lambda text: text.encode("utf-16")),
    _mutated_valid().map(lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()),
)


@examples(300)
@given(data=_file_bytes)
def test_any_bytes_give_a_spec_or_located_problems(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "mappings").mkdir()
        (root / "mappings" / "f.yaml").write_bytes(data)
        try:
            [loaded] = load_mappings(root / "mappings", root, ["default"])
        except InvalidInput as exc:
            assert exc.problems
            lines = data.count(b"\n") + 2  # a problem may point just past the last line
            for problem in exc.problems:
                assert problem.file == "mappings/f.yaml"
                assert problem.line is None or 1 <= problem.line <= lines, problem
                assert problem.message and "\n" not in problem.message
        else:
            assert loaded.file == "mappings/f.yaml"
            assert 0 < loaded.spec.integration_id <= 2**53 - 1


# -- fmt -----------------------------------------------------------------------------------

_id_spelling = st.one_of(
    st.integers(0, 10**6).map(str),  # plain: read as "N"
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)
    .filter(str.strip)
    .map(quote),
    st.sampled_from(["'11'", '"a`b"', '"\\u202e1"', '"caf\\u00e9"', '"x\\\\y"', "'#1'", '"1 # 2"']),
)
_comment = st.sampled_from(["", "", "  # note", "    # aligned", " #x"])


@st.composite
def _valid_file(draw: st.DrawFn) -> str:
    """A valid mapping file in one of the many shapes people write: any key and category
    order, ids plain or quoted, names with any characters (escaped when not printable),
    comments above, beside and below, blank lines, flow or block mappings."""
    categories = draw(st.permutations(CATEGORIES))
    values = {c: draw(st.one_of(st.just("null"), st.just("~"), _id_spelling)) for c in categories}
    flow = draw(st.booleans())
    if flow:
        inner = ", ".join(f"{c}: {values[c]}" for c in categories)
        mapping = f"mapping: {{{inner}}}{draw(_comment)}\n"
    else:
        indent = " " * draw(st.sampled_from([2, 4]))
        mapping = f"mapping:{draw(_comment)}\n" + "".join(
            f"{draw(st.sampled_from(['', indent + '# above' + chr(10)]))}{indent}{c}: {values[c]}"
            f"{draw(_comment)}\n"
            for c in categories
        )
    name = draw(
        st.one_of(
            st.none(),
            st.sampled_from(["ACME NL", "Café", "'quoted'", '"a\\u202eb"', '"tab\\there"']),
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10).map(quote),
        )
    )
    top = [f"integration_id: {draw(st.integers(1, 2**53 - 1))}{draw(_comment)}\n"]
    if name is not None:
        top.append(f"name: {name}{draw(_comment)}\n")
    if draw(st.booleans()):
        top.append("account: default\n")
    order = draw(st.permutations(range(len(top) + 1)))
    blocks = [*top, mapping]
    header = draw(st.sampled_from(["", "# header\n", "# header\n\n"]))
    footer = draw(st.sampled_from(["", "# footer\n", "\n# footer\n"]))
    return header + "".join(blocks[i] for i in order) + footer


@examples(200)
@given(text=_valid_file())
def test_fmt_is_idempotent_and_keeps_what_a_file_means(text: str) -> None:
    formatted = format_text(text, "f.yaml")
    assert format_text(formatted, "f.yaml") == formatted
    assert parse_spec(formatted, "f.yaml")[1] == parse_spec(text, "f.yaml")[1]
    # Nothing a reviewer cannot see: a bidi override or a control character stays an escape.
    assert all(c.isprintable() or c == "\n" for c in formatted), formatted


@examples(300)
@given(data=_file_bytes)
def test_fmt_on_any_file_that_validates_is_idempotent_and_keeps_its_meaning(data: bytes) -> None:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
        spec = parse_spec(text, "f.yaml")[1]
    except (UnicodeDecodeError, InvalidInput):
        return  # not a valid file: the property above covers what happens to it
    try:
        formatted = format_text(text, "f.yaml")
    except StatusyncError as exc:  # fmt's guard: it refuses rather than drop a comment
        assert "cannot keep the comments" in str(exc)
        return
    assert format_text(formatted, "f.yaml") == formatted
    assert parse_spec(formatted, "f.yaml")[1] == spec
    assert all(c.isprintable() or c == "\n" for c in formatted), formatted


# -- plan, apply, plan ---------------------------------------------------------------------


class ModelApi:
    """Sendcloud's mapping endpoint as a dict: integration id -> mapping; ids in `refuse` get a
    4xx, as an integration of the wrong type would."""

    def __init__(self, live: dict[int, MappingDict], refuse: frozenset[int]) -> None:
        self.live = live
        self.refuse = refuse
        self.lock = threading.Lock()

    def upsert_mapping(
        self, integration_id: int, mapping: MappingDict, *, on_send: Callable[[], None] | None = None
    ) -> None:
        if on_send is not None:
            on_send()
        if integration_id in self.refuse:
            raise StatusyncError(f"HTTP 400: integration {integration_id} is not PrestaShop V2")
        with self.lock:
            self.live[integration_id] = dict(mapping)

    def integration_exists(self, integration_id: int) -> bool:
        return True


_value = st.sampled_from([None, "1", "2", "3", "a`b"])
_mapping = st.tuples(_value, _value, _value, _value).map(lambda v: dict(zip(CATEGORIES, v, strict=True)))
_ids = st.integers(1, 12)


def _spec(integration_id: int, mapping: MappingDict) -> LoadedSpec:
    spec = IntegrationSpec.model_validate({"integration_id": integration_id, "mapping": mapping})
    return LoadedSpec(spec, f"mappings/{integration_id}.yaml", f"sha-{integration_id}-{mapping}")


@examples(60)
@given(
    desired=st.dictionaries(_ids, _mapping, max_size=8),
    applied=st.dictionaries(_ids, _mapping, max_size=8),
    refuse=st.frozensets(_ids, max_size=3),
    on_removed=st.sampled_from(["forget", "reset"]),
)
def test_a_plan_applied_to_the_api_then_planned_again_is_empty(
    desired: dict[int, MappingDict], applied: dict[int, MappingDict], refuse: frozenset[int], on_removed: str
) -> None:
    specs = [_spec(i, m) for i, m in sorted(desired.items())]
    state = State(
        lineage="L",
        entries={
            i: Entry(f"mappings/{i}.yaml", "old", "default", None, m, "2026-01-01T00:00:00Z")
            for i, m in applied.items()
        },
    )
    live = dict(applied)  # the API holds what was last applied
    api = ModelApi(live, refuse)
    removal = "reset" if on_removed == "reset" else "forget"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.json"
        save_state(path, state)
        recorder = Recorder(path, load_state(path))
        outcomes = apply_plan(
            make_plan(specs, load_state(path), removal), {"default": api}, recorder, parallelism=2
        )
        recorder.finish()
        again = make_plan(specs, load_state(path), removal)

    failed = {o.change.integration_id for o in outcomes if not o.ok}
    assert failed == {
        o.change.integration_id
        for o in outcomes
        if o.change.integration_id in refuse and o.change.action.sends
    }
    # What failed is planned again, exactly as before; everything else is done.
    assert {c.integration_id for c in again.changes} == failed
    for spec in specs:
        if spec.spec.integration_id not in failed:
            assert live[spec.spec.integration_id] == spec.spec.mapping.as_dict()
    if removal == "reset":
        for integration_id in set(applied) - set(desired) - failed:
            assert live[integration_id] == dict.fromkeys(CATEGORIES)
    if not refuse:
        assert again.changes == () and again.unchanged == len(desired)
    assert all(c.action is not Action.FORGET for c in again.changes)
