"""`--only PATTERN`: which integrations a run touches, as a pure value.

A pattern is one of
- `id:N`: the integration with that id;
- `account:NAME`: the integrations of that credentials profile;
- anything else, a path glob relative to the repository, matched against the mapping file's path
  as statusync shows it (`mappings/eu/acme-de.yml`): `*` and `?` stay within one directory, `**`
  as a whole segment spans any number of them, `[abc]`/`[!abc]` are character classes. A glob also
  matches every file under a directory it matches, so `mappings/eu` means `mappings/eu/**`.
Several patterns are a union.

An integration is identified by its mapping file while it has one, and by its state entry (the
file, id and account it was last applied with) once the file is gone; see `narrow`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from statusync.core.model import MAX_INTEGRATION_ID, LoadedSpec
from statusync.core.state import State

_SYNTAX = "a path glob relative to the repository (mappings/eu/**), id:N or account:NAME"


class BadPattern(ValueError):
    """A pattern that cannot mean anything (`id:abc`): a usage error, before any work."""


class Kind(StrEnum):
    PATH = "path"
    ID = "id"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Pattern:
    text: str  # as the user wrote it, for messages and the saved plan
    kind: Kind
    integration_id: int = 0
    account: str = ""
    glob: re.Pattern[str] | None = field(default=None, compare=False)

    def matches(self, file: str, integration_id: int, account: str) -> bool:
        if self.kind is Kind.ID:
            return integration_id == self.integration_id
        if self.kind is Kind.ACCOUNT:
            return account == self.account
        assert self.glob is not None
        # The file itself, or a directory it is in (`mappings/eu` selects everything under it).
        parts = file.split("/")
        return any(self.glob.fullmatch("/".join(parts[:n])) for n in range(len(parts), 0, -1))


@dataclass(frozen=True)
class Subset:
    """The union of one or more patterns."""

    patterns: tuple[Pattern, ...]

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(p.text for p in self.patterns)

    def matches(self, file: str, integration_id: int, account: str) -> bool:
        return any(p.matches(file, integration_id, account) for p in self.patterns)

    def matches_spec(self, loaded: LoadedSpec) -> bool:
        return self.matches(loaded.file, loaded.integration_id, loaded.account)


def parse_subset(texts: Iterable[str]) -> Subset | None:
    """The subset the patterns name (None when there are none: everything), or BadPattern."""
    patterns: list[Pattern] = []
    for text in texts:
        pattern = parse_pattern(text)
        if pattern not in patterns:  # the same pattern twice is the same union
            patterns.append(pattern)
    return Subset(tuple(patterns)) if patterns else None


def parse_pattern(text: str) -> Pattern:
    if text.startswith("id:"):
        value = text[3:].strip()
        # ASCII digits only: int() would take "1_000" and "٣".
        if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_INTEGRATION_ID:
            raise BadPattern(f"{text!r}: an integration id is a positive whole number, as in id:23452345")
        return Pattern(text, Kind.ID, integration_id=int(value))
    if text.startswith("account:"):
        name = text[8:].strip()
        if not name:
            raise BadPattern(f"{text!r}: name the account, as in account:default")
        return Pattern(text, Kind.ACCOUNT, account=name)
    path = text.strip()
    while path.startswith("./"):
        path = path[2:]
    path = path.rstrip("/")
    if not path:
        raise BadPattern(f"{text!r} is empty: give {_SYNTAX}")
    if path.startswith("/"):
        raise BadPattern(f"{text!r}: a path glob is relative to the repository, as in mappings/eu/**")
    if ".." in path.split("/"):
        raise BadPattern(f"{text!r}: a path glob stays inside the repository (no '..')")
    return Pattern(text, Kind.PATH, glob=re.compile(glob_regex(path)))


def glob_regex(glob: str) -> str:
    """The regular expression (for fullmatch) of a `/`-separated glob."""
    segments = glob.split("/")
    parts = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # Zero or more whole directories; at the end, everything below.
            parts.append(".*" if last else "(?:[^/]+/)*")
        else:
            parts.append(_segment_regex(segment) + ("" if last else "/"))
    return "".join(parts)


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        if c == "*":
            while i + 1 < n and segment[i + 1] == "*":  # `a**b` is `a*b`, as in git
                i += 1
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := _class_end(segment, i)) > 0:
            body = segment[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append(f"[{'^/' if negate else ''}{body.replace(chr(92), chr(92) * 2)}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _class_end(segment: str, start: int) -> int:
    """Where the character class opened at `start` closes, or -1 (then `[` is literal)."""
    j = start + 1
    if j < len(segment) and segment[j] in "!^":
        j += 1
    if j < len(segment) and segment[j] == "]":  # `[]a]`: a leading `]` is a member
        j += 1
    return segment.find("]", j)


def unmatched(subset: Subset, specs: Sequence[LoadedSpec], state: State) -> list[str]:
    """The patterns that match no mapping file and no integration of the state: most likely a
    typo, which must not make a run silently do nothing."""
    known = [(e.file, i, e.account) for i, e in state.entries.items()]
    known += [(p.file, i, p.account) for i, p in state.uncertain.items()]
    return [
        p.text
        for p in subset.patterns
        if not any(p.matches(s.file, s.integration_id, s.account) for s in specs)
        and not any(p.matches(*k) for k in known)
    ]


def narrow(subset: Subset, specs: Sequence[LoadedSpec], state: State) -> tuple[list[LoadedSpec], State]:
    """The mapping files in the subset, and the state as far as it concerns them.

    An integration that still has a file belongs to the subset when its file does, whatever its
    state entry recorded (a file moved into the subset, or out of it, is neither a create nor a
    forget); one whose file is gone belongs to it when its entry matches (recorded file, id,
    account), so that a removal inside the subset is forgotten or reset and one outside is not.
    The narrowed state's size is the subset's number of managed integrations, the safety base.
    """
    chosen = [s for s in specs if subset.matches_spec(s)]
    every_id = {s.integration_id for s in specs}
    chosen_ids = {s.integration_id for s in chosen}

    def keep(integration_id: int, file: str, account: str) -> bool:
        if integration_id in every_id:
            return integration_id in chosen_ids
        return subset.matches(file, integration_id, account)

    return chosen, replace(
        state,
        entries={i: e for i, e in state.entries.items() if keep(i, e.file, e.account)},
        uncertain={i: p for i, p in state.uncertain.items() if keep(i, p.file, p.account)},
    )
