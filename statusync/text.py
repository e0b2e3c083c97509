"""Text from files and the API, made safe to show: names, ids, paths and error details may hold
anything. One rule for every output: a character Python does not call printable (controls,
escape sequences, line and paragraph separators, bidi overrides and other format characters,
unassigned code points, lone surrogates) is written as an escape, never as itself; the same
escapes in the terminal, in markdown, in YAML and in JSON, so that a reviewer sees one spelling
of a value everywhere, and no value can move the cursor, recolour a terminal, reorder a line
for the eye or forge an extra line of output.

A leaf at the bottom of the package: it imports nothing, so that every module (the
exception tree first) may use it.
"""

from __future__ import annotations

from json.encoder import encode_basestring

# Spelled the same in YAML and JSON double-quoted strings, and familiar in a terminal.
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
# Python reads a file name that is not valid UTF-8 with each stray byte as one of these lone
# surrogates (PEP 383, "surrogateescape"): shown to people as the byte it stands for.
_BYTE_ESCAPES = range(0xDC80, 0xDD00)


# A shop's status names are short; a long one (outside text) would crowd out what it is shown
# beside: a change in a comment's budget, a warning's line. JSON keeps names whole.
MAX_NAME_SHOWN = 80


def short_name(name: str) -> str | None:
    """A shop status's name as people read it beside its id, before it is escaped for where it
    is shown: None when blank (it would show as an empty pair of parentheses), and shortened
    past MAX_NAME_SHOWN characters. The same in plans, reports and warnings."""
    if not name.strip():
        return None
    return cut(name, MAX_NAME_SHOWN)


def cut(text: str, most: int) -> str:
    """`text`, cut to `most` characters with an ellipsis."""
    return text if len(text) <= most else text[: most - 1] + "…"


def named_id(external_id: str, name: str | None) -> str:
    """A shop status's id with its name, as plans, reports and warnings all show it:
    `"12" (Remote payment accepted)`, the id quoted and the name escaped (short_name); the id
    alone when the name is unknown or blank."""
    shown = None if name is None else short_name(name)
    return quote(external_id) if shown is None else f"{quote(external_id)} ({printable(shown)})"


def escape_char(c: str) -> str:
    """One character as a YAML (and, below U+10000, JSON) escape: `\\n`, `\\u202e`, `\\U000e0001`."""
    short = _SHORT.get(c)
    if short is not None:
        return short
    code = ord(c)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` for a terminal, with every character that is not printable escaped (`\\n`,
    `\\u001b`, `\\u202e`; a byte of a file name that is not UTF-8 as `\\xff`)."""
    if text.isprintable():  # the common case, and cheap
        return text
    return "".join(c if c.isprintable() else _shown_char(c) for c in text)


def _shown_char(c: str) -> str:
    code = ord(c)
    return f"\\x{code - 0xDC00:02x}" if code in _BYTE_ESCAPES else escape_char(c)


def quote_body(text: str) -> str:
    """The inside of a YAML double-quoted scalar holding `text`: backslash and double quote
    escaped, and every character that is not printable as a YAML escape."""
    return "".join(_quoted_char(c) for c in text)


def _quoted_char(c: str) -> str:
    if c in '"\\':
        return "\\" + c
    return c if c.isprintable() else escape_char(c)


def quote(text: str) -> str:
    """`text` as a YAML double-quoted scalar (also a JSON string when all it holds is in the
    Basic Multilingual Plane): what mapping files hold, and how messages show a value."""
    return f'"{quote_body(text)}"'


def json_safe(document: str) -> str:
    """A JSON document (as `json.dumps(..., ensure_ascii=False)` writes it) with every character
    that is not printable inside its strings escaped. Outside strings a JSON document holds
    only printable characters, spaces and the newlines of its indentation, which stay."""
    # Indented, a document always holds newlines (not printable): a check of the rest at C speed
    # spares the character-by-character pass (seconds for the report of 10,000 integrations).
    if document.replace("\n", "").isprintable():
        return document
    return "".join(c if c.isprintable() or c == "\n" else _json_escape(c) for c in document)


def json_string(text: str) -> str:
    """`text` as a JSON string in a file people read in diffs (the state, the status catalog):
    as json.dumps writes it (ensure_ascii=False), with every character that is not printable
    escaped as json_safe does, so that a right-to-left override in a shop's name cannot reorder
    the line it is on in a pull request's diff."""
    encoded = encode_basestring(text)
    return encoded if encoded.isprintable() else json_safe(encoded)


def _json_escape(c: str) -> str:
    code = ord(c)
    if code <= 0xFFFF:
        return escape_char(c)
    high, low = divmod(code - 0x10000, 0x400)  # JSON has no 8-digit escape: a surrogate pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def labelled(label: str, message: str) -> str:
    """`message` with `label` (`error: `) before every line of it, each line made printable:
    a message of several lines (the problems of several files) reads as several errors, and
    a line of it cannot pass for another program's output."""
    return "\n".join(label + printable(line) for line in message.rstrip("\n").split("\n"))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 file`, `2 files`; `nouns` for a plural that is not the noun and an s."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
