"""Read a YAML file into plain values, remembering where every key and value was written.

Parsing uses ruamel's C parser (the fast path for 10,000 files); scalars are resolved here by
the YAML 1.2 core schema from their source text and style, so `yes` stays a string and a
value's original spelling is still at hand for rules that depend on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


from _ruamel_yaml import CParser  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

from statusync.core.text import quote
from statusync.errors import InvalidInput, Problem

__all__ = ["quote"]  # with the rest: kept here too, for the modules that read YAML

Loc = tuple[str | int, ...]
Noun = tuple[str, str]  # what the keys under a location are, and a hint for a missing one

_STR = "tag:yaml.org,2002:str"
# What the parser gives every node without an explicit tag: resolution happens in `_walk`,
# and an identity check there tells an explicit `!!str` from none.
_UNTAGGED = Tag(suffix="!untagged")

# Mapping files and settings nest three levels at most. The C composer recurses once per level
# (in C: 100,000 levels crash the process) and so does `_walk`, so anything deeper is refused
# before composing.
MAX_DEPTH = 32
MAPPING_FILE_SHAPE = "a mapping file needs only integration_id, name, account and mapping"

_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {
    **{s + inf: float(s + "inf") for s in ("", "+", "-") for inf in (".inf", ".Inf", ".INF")},
    **{nan: float("nan") for nan in (".nan", ".NaN", ".NAN")},
}
# Spellings that YAML 1.2, or some other reader, takes for a number: YAML 1.1 and ruamel read
# `1_000` as 1000 and `0b101` as 5, where YAML 1.2 reads strings.
_NUMBER_LIKE = re.compile(r"[-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?"
                          r"|\.[0-9][0-9_]*([eE][-+]?[0-9]+)?)")


class _Parser(CParser):  # type: ignore[misc]
    """The C parser with scalar resolution left to us: it is 8x faster than ruamel's resolver."""

    def resolve(self, kind: type[Node], value: str | None, implicit: object) -> Tag:
        return _UNTAGGED

    def descend_resolver(self, parent: Node | None, index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class Invalid:
    """Stands in for a value that was already reported, so that validation has something to reject."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID = Invalid()


@dataclass(frozen=True)
class Span:
    """Where a node was written: 1-based line and column of its start; its end is exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(slots=True)
class Entry:
    """One value in the document, with the key that introduced it.

    Spans are worked out from the nodes only when asked for: most files never need them.
    """

    key_node: Node | None  # None for the document root and list items
    node: Node
    text: str | None  # a scalar's text after YAML unescaping; None for collections
    style: str | None  # "" plain, '"', "'", "|" or ">"; None for collections
    tagged: bool = False  # written with an explicit tag (only !!str is accepted)

    @property
    def key(self) -> Span | None:
        return None if self.key_node is None else _span(self.key_node)

    @property
    def value(self) -> Span:
        return _span(self.node)

    @property
    def plain(self) -> bool:
        return self.style == ""

    @property
    def number_like(self) -> bool:
        """A plain scalar that YAML 1.2 or some other reader takes for a number."""
        return (self.plain and not self.tagged and self.text is not None
                and _NUMBER_LIKE.fullmatch(self.text) is not None)


@dataclass
class Document:
    """A parsed file: plain Python values, where each was written, and problems found so far."""

    file: str
    data: dict[str, Any]
    entries: dict[Loc, Entry]
    problems: list[Problem] = field(default_factory=list)
    reported: set[Loc] = field(default_factory=set)  # locations that already have a problem

    def problem(self, loc: Loc, message: str, *, at_key: bool = False) -> Problem:
        """A problem at `loc` (its value, or its key), or at the nearest enclosing location."""
        while loc and loc not in self.entries:
            loc = loc[:-1]
        entry = self.entries.get(loc)
        span = None if entry is None else (entry.key if at_key else None) or entry.value
        if span is None:
            return Problem(self.file, None, None, message)
        return Problem(self.file, span.line, span.col, message)

    def report(self, loc: Loc, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self.problem(loc, message, at_key=at_key))
        self.reported.add(loc)


def resolve_plain(text: str) -> Any:
    """The value of an untagged plain scalar under the YAML 1.2 core schema."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if INT10.fullmatch(text):
        return int(text)
    if _INT8.fullmatch(text):
        return int(text[2:], 8)
    if _INT16.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    return _SPECIAL_FLOATS.get(text, text)


def decode(data: bytes, file: str) -> str:
    """The text of a file, or a problem pointing at the first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InvalidInput([Problem(file, line, col, f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
                                    "save it with UTF-8 encoding")]) from None
    return text.removeprefix("\ufeff")


def parse(text: str, file: str, shape: str = MAPPING_FILE_SHAPE) -> Document | None:
    """Compose `text` and walk it into a Document; None when the file holds no document.

    Syntax errors, nesting deeper than MAX_DEPTH and a top level that is not a mapping raise
    InvalidInput (`shape` says what the file should look like instead). Problems that leave the
    rest of the file readable (duplicate keys, aliases, tags) are collected on the Document.
    """
    _check_depth(text, file, shape)
    parser = _Parser(text)
    try:
        root = parser.get_single_node()
    except YAMLError as exc:
        raise InvalidInput([_syntax_problem(exc, text, file)]) from None
    finally:
        parser.dispose()
    if root is None or (isinstance(root, ScalarNode) and root.value in _NULLS and not root.style):
        return None
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else "a single value"
        raise InvalidInput([_at(file, root, f"the top level must be a mapping of keys to values, not {kind}")])
    doc = Document(file, {}, {})
    data = _walk(root, (), None, doc, set())
    if not isinstance(data, dict):  # a tag on the whole document
        raise InvalidInput(doc.problems)
    doc.data = data
    return doc


def _check_depth(text: str, file: str, shape: str) -> None:
    """Raise InvalidInput when `text` nests collections deeper than MAX_DEPTH.

    Reads the parser's events, which libyaml produces with a stack of its own rather than by
    recursion, so no depth of input can exhaust the C or the Python stack here.
    """
    # Each collection needs a character of its own to start it (a mapping's colon or question
    # mark, a block list's dash, a flow bracket), so a text with no more of them than MAX_DEPTH
    # cannot nest deeper: counting them spares almost every file the second parse.
    count = text.count
    if count(":") + count("-") + count("[") + count("{") + count("?") <= MAX_DEPTH:
        return
    parser = CParser(text)
    depth = 0
    try:
        while (event := parser.get_event()) is not None:
            kind = type(event)
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise InvalidInput([Problem(
                        file, mark.line + 1, mark.column + 1,
                        f"the document is nested too deeply (more than {MAX_DEPTH} levels); {shape}")])
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
    except YAMLError as exc:  # before the limit was reached: composing would stop at it too
        raise InvalidInput([_syntax_problem(exc, text, file)]) from None
    finally:
        parser.dispose()


def did_you_mean(word: str, choices: list[str]) -> str | None:
    import difflib  # only needed on the error path

    by_lower = {choice.lower(): choice for choice in choices}  # `delivered` means DELIVERED
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    if not close:  # a shortened key: `unsafe` for unsafe_per_minute
        close = [c for c in by_lower if word.lower() in c]
    return by_lower[close[0]] if len(close) == 1 else None


def describe(value: Any) -> str:
    """A value as the user wrote it, for messages: `got the string "12"`, `got a list`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {quote(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "an invalid value"


def _walk(node: Node, loc: Loc, key: Node | None, doc: Document, seen: set[int]) -> Any:
    if id(node) in seen:
        # The C composer hands back the anchored node itself for an alias.
        doc.entries[loc] = Entry(key, node, None, None)
        doc.report(loc, "aliases (*name) are not supported; write the value out in full", at_key=True)
        return INVALID
    seen.add(id(node))
    scalar = isinstance(node, ScalarNode)
    style = (node.style or "") if isinstance(node, ScalarNode) else None
    tagged = node.ctag is not _UNTAGGED
    doc.entries[loc] = Entry(key, node, node.value if scalar else None, style, tagged)
    if tagged and not (scalar and node.tag == _STR):
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        doc.report(loc, f"unsupported YAML tag {tag}; remove it (quote a value to make it a string)")
        return INVALID
    if isinstance(node, MappingNode):
        return _walk_mapping(node, loc, doc, seen)
    if isinstance(node, SequenceNode):
        return [_walk(item, loc + (i,), None, doc, seen) for i, item in enumerate(node.value)]
    if style == "" and not tagged:
        return resolve_plain(node.value)
    return node.value  # quoted, a block scalar, or an explicit !!str


def _walk_mapping(node: MappingNode, loc: Loc, doc: Document, seen: set[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    first: dict[str, Node] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            doc.problems.append(_at(doc.file, key_node, "a key must be a plain word, not a list or mapping"))
            continue
        name = key_node.value
        if name == "<<" and not key_node.style:
            doc.problems.append(_at(doc.file, key_node, "merge keys (<<) are not supported; write the keys out in full"))
        elif name in first:
            doc.problems.append(_at(doc.file, key_node, f"duplicate key {name!r} (also on line "
                                                        f"{first[name].start_mark.line + 1}); keep only one"))
        else:
            first[name] = key_node
            out[name] = _walk(value_node, loc + (name,), key_node, doc, seen)
    return out


def _at(file: str, node: Node, message: str) -> Problem:
    return Problem(file, node.start_mark.line + 1, node.start_mark.column + 1, message)


def _span(node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _syntax_problem(exc: YAMLError, text: str, file: str) -> Problem:
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        message = f"invalid YAML: {exc.problem}"
        if exc.context and exc.context_mark is not None:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        line_text = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        if "\t" in line_text[: mark.column + 1]:
            message += "; indent with spaces, not tabs"
        return Problem(file, mark.line + 1, mark.column + 1, message)
    position = getattr(exc, "position", None)
    reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
    if isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        col = position - (text.rfind("\n", 0, position) + 1) + 1
        return Problem(file, line, col, f"invalid YAML: {reason}")
    return Problem(file, None, None, f"invalid YAML: {reason}")
