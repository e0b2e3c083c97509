import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from statusync.files.json_text import indented

# What the state and the catalog hold, and what this module leaves to json.dumps (floats).
LEAVES = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(VALUES)
def test_the_text_is_json_dumps_indented_by_two(value: Any) -> None:
    assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_keys_that_are_not_strings_and_subclasses_are_written_as_json_dumps_writes_them() -> None:
    class Text(str):
        pass

    for value in ({1: "a", None: [True]}, {"a": Text("b")}, [1.5, {"x": {}}, []], "\u202e\ud800"):
        assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
