"""The canonical form of a mapping file, keeping the user's comments where they were.

Comments are found in the source text from the node positions the parser gives (so a `#`
inside a quoted id is never taken for one), each is tied to the key it sits beside or above
(or to the end of the mapping block, when it is indented into that block), and the document
is emitted again by ruamel's round-trip dumper with the keys in canonical order and the
comments re-attached to their keys.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import CommentMark
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from statusync.core.model import IntegrationSpec
from statusync.errors import InvalidInput, Problem, StatusyncError
from statusync.files import yamldoc
from statusync.files.atomic import atomic_write
from statusync.files.mappings import parse_spec, shown_path
from statusync.text import quote_body

_TOP_KEYS = ("integration_id", "name", "account", "mapping")
_INDENT = 2
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*")


@dataclass
class _Comments:
    """The comments of one file, by the key they belong to."""

    header: list[str] = field(default_factory=list)  # full lines ("" for a blank one) above the first key
    before: dict[yamldoc.Loc, list[str]] = field(default_factory=lambda: defaultdict(list))
    eol: dict[yamldoc.Loc, tuple[str, int]] = field(default_factory=dict)  # text, 0-based column
    # After the last key, or at the end of the mapping block (which canonical order puts last),
    # with the indentation they are written at.
    trailing: list[str] = field(default_factory=list)


def format_text(text: str, file: str = "<text>") -> str:
    """`text` in canonical form. Raises InvalidInput when it is not a valid mapping file."""
    text = text.removeprefix("\ufeff")
    doc, spec = parse_spec(text, file, any_id_spelling=True)
    comments = _find_comments(text, doc)
    present = {k for k in _TOP_KEYS if k in doc.data}
    out = _emit(spec, present, comments)
    kept = _find_comments(out, parse_spec(out, file)[0])
    if sorted(_comment_texts(comments)) != sorted(_comment_texts(kept)):
        # A guard, not an expected path: fmt must never drop a comment silently.
        raise StatusyncError(f"{file}: fmt cannot keep the comments of this file in place; format it by hand")
    return out


def dump_spec(spec: IntegrationSpec, header_comment: str | None = None) -> str:
    """Canonical text of a new mapping file, optionally under a `# ` comment (one or more lines)."""
    comments = _Comments()
    if header_comment:
        comments.header = [f"# {line}".rstrip() for line in header_comment.splitlines()]
    present = {"integration_id", "mapping"}
    if spec.name is not None:
        present.add("name")
    if spec.account != "default":
        present.add("account")
    return _emit(spec, present, comments)


def format_files(paths: list[Path], root: Path, check: bool) -> list[str]:
    """The shown paths of the files not in canonical form; rewrite them unless `check`.

    Every file is checked before any is written, so invalid input changes nothing.
    """
    changed: list[tuple[Path, str, str]] = []
    problems: list[Problem] = []
    for path in paths:
        file = shown_path(path, root)
        try:
            data = path.read_bytes()
            formatted = format_text(yamldoc.decode(data, file), file)
        except OSError as exc:
            problems.append(Problem(file, None, None, f"cannot read the file: {exc.strerror}"))
            continue
        except InvalidInput as exc:
            problems.extend(exc.problems)
            continue
        if formatted.encode() != data:  # bytes: a byte order mark or CRLF line ends are not canonical
            changed.append((path, file, formatted))
    if problems:
        raise InvalidInput(problems)
    if not check:
        for path, _, formatted in changed:
            atomic_write(path, formatted.encode("utf-8"))
    return [file for _, file, _ in changed]


def _find_comments(text: str, doc: yamldoc.Document) -> _Comments:
    lines = text.split("\n")
    scan_from = [0] * (len(lines) + 2)  # per 1-based line: where a comment may start
    skip = [False] * (len(lines) + 2)  # inside a scalar that spans lines
    for entry in doc.entries.values():
        spans = [entry.key] if entry.key is not None else []
        spans += [entry.value] if entry.text is not None else []
        for span in spans:
            scan_from[span.end_line] = max(scan_from[span.end_line], span.end_col - 1)
            if span.end_line > span.line:
                for inside in range(span.line + 1, span.end_line):
                    skip[inside] = True
                header = _BLOCK_HEADER.match(lines[span.line - 1], span.col - 1)
                if entry.style in ("|", ">") and header:
                    scan_from[span.line] = max(scan_from[span.line], header.end())
                else:
                    skip[span.line] = True
    keys = [(loc, e.key.line, e.key.col - 1) for loc, e in doc.entries.items() if e.key is not None]
    # A comment at the end of a line belongs to the last key written or ended on that line.
    owner_by_line: dict[int, yamldoc.Loc] = {}
    for loc, entry in doc.entries.items():
        if entry.key is not None:
            owner_by_line[entry.key.line] = loc
            if entry.text is not None:
                owner_by_line[entry.value.end_line] = loc
    key_count: dict[int, int] = defaultdict(int)
    for _, key_line, _ in keys:
        key_count[key_line] += 1
    crowded = {line for line in owner_by_line if key_count[line] > 1}
    comments = _Comments()
    blanks: list[list[str]] = []  # where each blank line seen since the last comment goes, unless claimed
    below = 0  # index in `keys` of the first key written below the current line
    for number, line in enumerate(lines, start=1):
        while below < len(keys) and keys[below][1] <= number:
            below += 1
        if skip[number]:
            _place(blanks)
            continue
        col = line.find("#", scan_from[number])
        if col < 0 and line.strip():
            _place(blanks)
            continue
        own_line = col < 0 or not line[:col].strip()
        if not own_line and number in owner_by_line:
            _place(blanks)
            # Keep its column (aligned comments stay aligned) unless its line held several keys.
            comments.eol[owner_by_line[number]] = (line[col:].rstrip(), 0 if number in crowded else col)
            continue
        following = keys[below] if below < len(keys) else None
        if following is None:
            group = comments.trailing
        elif following[0] == keys[0][0]:
            group = comments.header
        else:
            group = comments.before[following[0]]
        if col < 0:
            blanks.append(group)
            continue
        content = line[col:].rstrip()
        # After a category, indented deeper than the top-level key below it (or than the top
        # level, at the end of the file): the end of the mapping block. It stays there, at the
        # block's indentation: the end of the file, `mapping` being the last key.
        after_category = below > 0 and len(keys[below - 1][0]) > 1
        below_top = following is None or len(following[0]) == 1
        if after_category and below_top and col > (following or keys[0])[2]:
            _place(blanks, comments.trailing)  # its blank lines go along
            comments.trailing.append(" " * _INDENT + content)
        else:
            _place(blanks)
            group.append(content)
    _place(blanks)
    return comments


def _place(blanks: list[list[str]], claimed_by: list[str] | None = None) -> None:
    """Put the blank lines waiting in `blanks` where they go: all with the comment below them
    when it claims them (a comment leaving for the end of the mapping takes its blank lines
    along), otherwise each with the key below it."""
    for group in blanks:
        (group if claimed_by is None else claimed_by).append("")
    blanks.clear()


def _emit(spec: IntegrationSpec, present: set[str], comments: _Comments) -> str:
    top = CommentedMap()
    top["integration_id"] = spec.integration_id
    if "name" in present:
        top["name"] = _text(spec.name)
    if "account" in present:
        top["account"] = _text(spec.account)
    mapping = CommentedMap()
    for category, value in spec.mapping.as_dict().items():
        mapping[category] = None if value is None else DoubleQuotedScalarString(value)
    top["mapping"] = mapping

    # Always a list: ruamel attaches the end-of-file comments to it, and drops them without one.
    top.ca.comment = [None, _tokens(_tidy(comments.header, keep_leading=False))]
    for parent, indent in ((top, 0), (mapping, _INDENT)):
        loc_prefix: yamldoc.Loc = () if parent is top else ("mapping",)
        for index, key in enumerate(parent):
            loc = loc_prefix + (key,)
            before = _tidy(comments.before.get(loc, []), keep_leading=index > 0)
            if before:
                parent.ca.items.setdefault(key, [None, None, None, None])[1] = _tokens(before, indent)
            if loc in comments.eol:
                text, column = comments.eol[loc]
                parent.yaml_add_eol_comment(text, key, column=column)
    trailing = _tidy(comments.trailing, keep_leading=True)
    while trailing and not trailing[-1]:
        trailing.pop()
    for line in trailing:
        top.yaml_end_comment_extend(_tokens([line.lstrip()], len(line) - len(line.lstrip())))
    stream = io.StringIO()
    _yaml().dump(top, stream)
    return stream.getvalue()


def _tokens(lines: list[str], indent: int = 0) -> list[CommentToken]:
    """Comment tokens as ruamel's loader makes them: one per line, a blank line as a bare newline."""
    return [CommentToken(f"{line}\n", CommentMark(indent)) for line in lines]


def _tidy(lines: list[str], *, keep_leading: bool) -> list[str]:
    """Blank runs collapsed to one; leading blanks dropped where nothing comes before."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]) or (not out and keep_leading):
            out.append(line)
    return out


def _comment_texts(comments: _Comments) -> list[str]:
    texts = [line.strip() for line in comments.header + comments.trailing]
    texts += [line for block in comments.before.values() for line in block]
    texts += [text for text, _ in comments.eol.values()]
    return [t for t in texts if t]


def _represent_none(representer: RoundTripRepresenter, _: None) -> object:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _text(value: str | None) -> str | None:
    """A free-text value, double-quoted when it holds a character that is not printable: ruamel
    would write a bidi override or a zero-width space plainly, where a diff hides it."""
    return value if value is None or value.isprintable() else DoubleQuotedScalarString(value)


class _Emitter(RoundTripEmitter):
    """ruamel's round-trip emitter, writing double-quoted scalars by statusync's one rule
    (statusync.text): ruamel writes format characters such as U+202E (RIGHT-TO-LEFT OVERRIDE) as
    themselves, which reorders a line for whoever reviews the file."""

    def write_double_quoted(self, text: Any, split: Any = True) -> None:
        if self.root_context:  # never in a mapping file, whose root is a mapping
            super().write_double_quoted(text, split)
            return
        # No folding to mind: `_yaml` makes lines as long as they need to be.
        self.write_indicator('"', True)
        data = quote_body(text)
        self.column += len(data)
        self.stream.write(data.encode(self.encoding) if self.encoding else data)
        self.write_indicator('"', False)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: the only dumper that writes comments
    yaml.Emitter = _Emitter
    yaml.indent(mapping=_INDENT)
    yaml.width = 1 << 16  # never fold a long name
    yaml.representer.add_representer(type(None), _represent_none)
    return yaml
