"""Cheap reads of the parser's events, for what composing cannot tell: how deep a document
nests (before composing, which recurses once per level), and where each alias was written (the
composer hands back the anchored node itself, with the anchor's position). Each runs only
when a quick look at the text says it may be needed.
"""

from __future__ import annotations

from typing import Any

from _ruamel_yaml import CParser  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from statusync.errors import InvalidInput, Problem

# Mapping files and settings nest three levels at most. The C composer recurses once per level
# (in C: 100,000 levels crash the process) and so does the walk of the nodes, so anything
# deeper is refused before composing.
MAX_DEPTH = 32

_NODE_EVENTS = (ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent)


def check_depth(text: str, file: str, shape: str) -> None:
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
                    raise InvalidInput(
                        [
                            Problem(
                                file,
                                mark.line + 1,
                                mark.column + 1,
                                f"the document is nested too deeply (more than {MAX_DEPTH} levels); {shape}",
                            )
                        ]
                    )
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
    except YAMLError as exc:  # before the limit was reached: composing would stop at it too
        raise InvalidInput([syntax_problem(exc, text, file)]) from None
    finally:
        parser.dispose()


NodePath = tuple[int, ...]  # where a node is in the tree: the index of each child on the way


def alias_marks(text: str) -> dict[NodePath, Any]:
    """The start mark of every alias in `text`, by its path: the index of each node on the way
    down, a mapping's keys and values counted alike (key 2i, value 2i + 1) as the composer
    keeps them in order. Only called on text that composed, so the events hold no error."""
    marks: dict[NodePath, Any] = {}
    frames: list[tuple[NodePath, int]] = []  # each open collection: its path, its children so far
    parser = CParser(text)
    try:
        while (event := parser.get_event()) is not None:
            kind = type(event)
            if kind is MappingEndEvent or kind is SequenceEndEvent:
                frames.pop()
                continue
            if kind not in _NODE_EVENTS:
                continue
            path: NodePath = ()
            if frames:
                parent, index = frames[-1]
                frames[-1] = (parent, index + 1)
                path = (*parent, index)
            if kind is AliasEvent:
                marks[path] = event.start_mark
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                frames.append((path, 0))
    finally:
        parser.dispose()
    return marks


def syntax_problem(exc: YAMLError, text: str, file: str) -> Problem:
    """A parser's error as a problem at its line and column, with a hint for tabs."""
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
