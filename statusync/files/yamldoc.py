"""Read a YAML file into plain values, remembering where every key and value was written.

Parsing uses ruamel's C parser (the fast path for 10,000 files); scalars are resolved here by
the YAML 1.2 core schema from their source text and style, so `yes` stays a string and a
value's original spelling is still at hand for rules that depend on it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from _ruamel_yaml import CParser  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

from statusync.errors import InvalidInput, Problem
from statusync.files.yamlevents import NodePath, alias_marks, check_depth, syntax_problem
from statusync.text import quote

__all__ = ["quote"]  # with the rest: kept here too, for the modules that read YAML

Loc = tuple[str | int, ...]
Noun = tuple[str, str]  # what the keys under a location are, and a hint for a missing one

_STR = "tag:yaml.org,2002:str"
# What the parser gives every node without an explicit tag: resolution happens in `_walk`,
# and an identity check there tells an explicit `!!str` from none.
_UNTAGGED = Tag(suffix="!untagged")

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
_NUMBER_LIKE = re.compile(
    r"[-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+"
    r"|[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?"
    r"|\.[0-9][0-9_]*([eE][-+]?[0-9]+)?)"
)


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
class SourceValue:
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
        return (
            self.plain
            and not self.tagged
            and self.text is not None
            and _NUMBER_LIKE.fullmatch(self.text) is not None
        )


@dataclass
class Document:
    """A parsed file: plain Python values, where each was written, and problems found so far."""

    file: str
    data: dict[str, Any]
    entries: dict[Loc, SourceValue]
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
    """The value of an untagged plain scalar under the YAML 1.2 core schema.

    Raises ValueError for a decimal integer of more digits than Python converts."""
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


def too_many_digits(loc: Loc, text: str) -> str:
    """Why a plain integer could not be read: Python converts at most sys.get_int_max_str_digits()
    decimal digits (4300 by default), a guard against the quadratic cost of longer ones."""
    name = ".".join(str(part) for part in loc) or "the value"
    return (
        f"{name}: a number of {len(text.lstrip('+-'))} digits is longer than statusync reads "
        f"(at most {sys.get_int_max_str_digits()}); check the value (quote it if it is meant as text)"
    )


def decode(data: bytes, file: str) -> str:
    """The text of a file, or a problem pointing at the first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InvalidInput(
            [
                Problem(
                    file,
                    line,
                    col,
                    f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
                    "save it with UTF-8 encoding",
                )
            ]
        ) from None
    return text.removeprefix("\ufeff")


def parse(text: str, file: str, shape: str = MAPPING_FILE_SHAPE) -> Document | None:
    """Compose `text` and walk it into a Document; None when the file holds no document.

    Syntax errors, nesting deeper than MAX_DEPTH and a top level that is not a mapping raise
    InvalidInput (`shape` says what the file should look like instead). Problems that leave the
    rest of the file readable (duplicate keys, aliases, tags) are collected on the Document.
    """
    check_depth(text, file, shape)
    parser = _Parser(text)
    try:
        root = parser.get_single_node()
    except YAMLError as exc:
        raise InvalidInput([syntax_problem(exc, text, file)]) from None
    finally:
        parser.dispose()
    if root is None or (isinstance(root, ScalarNode) and root.value in _NULLS and not root.style):
        return None
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else "a single value"
        raise InvalidInput(
            [_at(file, root, f"the top level must be a mapping of keys to values, not {kind}")]
        )
    doc = Document(file, {}, {})
    # The composer hands back the anchored node itself for an alias, with the anchor's position:
    # where each alias was written comes from the parser's events, read only when there can be
    # one (an alias needs a `*`, and an anchor to point at, an `&`).
    aliases = alias_marks(text) if "*" in text and "&" in text else {}
    data = _Walker(doc, aliases).walk(root, (), None, ())
    if not isinstance(data, dict):  # a tag on the whole document
        raise InvalidInput(doc.problems)
    doc.data = data
    return doc


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


_ALIAS = "aliases (*name) are not supported; write the value out in full"


class _Walker:
    """Turns composed nodes into plain values and SourceValues, reporting what is not allowed."""

    def __init__(self, doc: Document, aliases: dict[NodePath, Any]) -> None:
        self.doc = doc
        self.aliases = aliases
        self.seen: set[int] = set()  # nodes walked already: met again, a node is an alias

    def walk(self, node: Node, loc: Loc, key: Node | None, path: NodePath) -> Any:
        doc = self.doc
        if path in self.aliases or id(node) in self.seen:
            doc.entries[loc] = SourceValue(key, node, None, None)
            self._alias(loc, path, key)
            return INVALID
        self.seen.add(id(node))
        scalar = isinstance(node, ScalarNode)
        style = (node.style or "") if isinstance(node, ScalarNode) else None
        tagged = node.ctag is not _UNTAGGED
        doc.entries[loc] = SourceValue(key, node, node.value if scalar else None, style, tagged)
        if tagged and not (scalar and node.tag == _STR):
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            doc.report(loc, f"unsupported YAML tag {tag}; remove it (quote a value to make it a string)")
            return INVALID
        if isinstance(node, MappingNode):
            return self._mapping(node, loc, path)
        if isinstance(node, SequenceNode):
            return [self.walk(item, loc + (i,), None, (*path, i)) for i, item in enumerate(node.value)]
        if style == "" and not tagged:
            try:
                return resolve_plain(node.value)
            except ValueError:  # only a decimal integer longer than Python converts
                doc.report(loc, too_many_digits(loc, node.value))
                return INVALID
        return node.value  # quoted, a block scalar, or an explicit !!str

    def _alias(self, loc: Loc, path: NodePath, key: Node | None) -> None:
        mark = self.aliases.get(path)
        if mark is None:  # not found among the events (it cannot be): at its key, or the anchor
            self.doc.report(loc, _ALIAS, at_key=key is not None)
            return
        self.doc.problems.append(Problem(self.doc.file, mark.line + 1, mark.column + 1, _ALIAS))
        self.doc.reported.add(loc)

    def _mapping(self, node: MappingNode, loc: Loc, path: NodePath) -> dict[str, Any]:
        doc = self.doc
        out: dict[str, Any] = {}
        first: dict[str, Node] = {}
        for i, (key_node, value_node) in enumerate(node.value):
            key_path = (*path, 2 * i)
            if key_path in self.aliases:  # the anchored key's node, at the anchor's position
                mark = self.aliases[key_path]
                doc.problems.append(
                    Problem(
                        doc.file,
                        mark.line + 1,
                        mark.column + 1,
                        "aliases (*name) are not supported as keys; write the key out in full",
                    )
                )
                continue
            if not isinstance(key_node, ScalarNode):
                doc.problems.append(
                    _at(doc.file, key_node, "a key must be a plain word, not a list or mapping")
                )
                continue
            name = key_node.value
            if name == "<<" and not key_node.style:
                doc.problems.append(
                    _at(doc.file, key_node, "merge keys (<<) are not supported; write the keys out in full")
                )
            elif name in first:
                doc.problems.append(
                    _at(
                        doc.file,
                        key_node,
                        f"duplicate key {name!r} (also on line "
                        f"{first[name].start_mark.line + 1}); "
                        "keep only one",
                    )
                )
            else:
                first[name] = key_node
                out[name] = self.walk(value_node, loc + (name,), key_node, (*path, 2 * i + 1))
        return out


def _at(file: str, node: Node, message: str) -> Problem:
    return Problem(file, node.start_mark.line + 1, node.start_mark.column + 1, message)


def _span(node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)
