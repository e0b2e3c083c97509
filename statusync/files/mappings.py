"""Mapping files -> validated specs, with every problem of every file reported at once."""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Callable, Collection, Iterable

from statusync.files import yamldoc
from statusync.errors import InvalidInput, Problem, StatusyncError
from statusync.core.model import CATEGORIES, IntegrationSpec, LoadedSpec
from statusync.core.status_check import Finding
from statusync.files.validation import validate

Cached = Callable[[str, str], IntegrationSpec | None]

_SUFFIXES = (".yaml", ".yml")
_CANONICAL_INT = re.compile(r"0|[1-9][0-9]*")
_NOUNS: dict[yamldoc.Loc, yamldoc.Noun] = {
    ("mapping",): ("status category", "; give all four categories, with null for an unmapped one"),
}


def discover(mappings_dir: Path) -> list[Path]:
    """Every *.yaml / *.yml file under `mappings_dir` at any depth, sorted, hidden ones skipped."""
    if not mappings_dir.is_dir():
        what = "is not a directory" if mappings_dir.exists() else "does not exist"
        raise StatusyncError(f"mappings directory {mappings_dir.as_posix()} {what}; create it, "
                             "or point 'mappings' in statusync.yaml (or --mappings) at it")
    found: list[tuple[str, ...]] = []
    for current, dirs, files in os.walk(mappings_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        parts = Path(current).relative_to(mappings_dir).parts
        found.extend((*parts, f) for f in files
                     if f.lower().endswith(_SUFFIXES) and not f.startswith("."))
    return [mappings_dir.joinpath(*parts) for parts in sorted(found)]


def shown_path(path: Path, root: Path) -> str:
    """The POSIX path shown to users: relative to `root` when inside it, else as given."""
    for candidate, base in ((path, root), (path.absolute(), root.absolute())):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def load_mappings(mappings_dir: Path, root: Path, accounts: Collection[str],
                  cached: Cached | None = None) -> list[LoadedSpec]:
    """Validate every mapping file; raise InvalidInput with all problems of all files if any.

    `cached(file, sha256)` may return the spec already known for identical bytes, which skips
    parsing; such a spec still takes part in the checks across files.
    """
    problems: list[Problem] = []
    loaded: list[LoadedSpec] = []
    paths: dict[str, Path] = {}
    for path in discover(mappings_dir):
        file = shown_path(path, root)
        paths[file] = path
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(file, None, None, f"cannot read the file: {exc.strerror}"))
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        spec = cached(file, sha256) if cached is not None else None
        if spec is None:
            try:
                spec = parse_spec(yamldoc.decode(data, file), file)[1]
            except InvalidInput as exc:
                problems.extend(exc.problems)
                continue
        loaded.append(LoadedSpec(spec, file, sha256))

    def locate(file: str, loc: yamldoc.Loc, message: str) -> Problem:
        # Parsed again, rarely: keeping 10,000 documents around just for this would cost more.
        doc = parse_spec(yamldoc.decode(paths[file].read_bytes(), file), file)[0]
        return doc.problem(loc, message)

    problems.extend(_cross_file_problems(loaded, accounts, locate))
    if problems:
        raise InvalidInput(problems)
    return loaded


def parse_spec(text: str, file: str) -> tuple[yamldoc.Document, IntegrationSpec]:
    """One mapping file's text as a spec; InvalidInput with all of its problems otherwise."""
    doc = yamldoc.parse(text, file)
    if doc is None:
        raise InvalidInput([Problem(file, None, None, "the file is empty; a mapping file needs "
                                    "integration_id and mapping (see `statusync schema`)")])
    mapping = doc.data.get("mapping")
    if isinstance(mapping, dict):
        for category in CATEGORIES:
            if category in mapping:
                mapping[category] = _external_id(doc, category, mapping[category])
    spec = validate(IntegrationSpec, doc, _NOUNS)
    if spec is None:
        raise InvalidInput(doc.problems)
    return doc, spec


def _external_id(doc: yamldoc.Document, category: str, value: object) -> object:
    """Apply the spelling rules of an external id; report and return INVALID when broken."""
    loc = ("mapping", category)
    entry = doc.entries[loc]
    if value is None or value is yamldoc.INVALID:
        return value
    if entry.text is not None and entry.number_like and not isinstance(value, float):
        if _CANONICAL_INT.fullmatch(entry.text):
            return entry.text
        doc.report(loc, f"{category}: {entry.text} is read as a number and would lose its spelling; "
                        f"quote it: {yamldoc.quote(entry.text)}")
        return yamldoc.INVALID
    if isinstance(value, str) and value:
        return value
    shown = yamldoc.describe(value) if value != "" else "an empty string"
    doc.report(loc, f"{category}: expected an external id, got {shown}; an external id must be "
                    "a quoted string such as \"12\", or null for unmapped")
    return yamldoc.INVALID


def _cross_file_problems(loaded: list[LoadedSpec], accounts: Collection[str],
                         locate: Callable[[str, yamldoc.Loc, str], Problem]) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[int, list[LoadedSpec]] = defaultdict(list)
    for item in loaded:
        by_id[item.spec.integration_id].append(item)
        if item.spec.account not in accounts:
            hint = yamldoc.did_you_mean(item.spec.account, sorted(accounts))
            fix = f"did you mean {hint!r}?" if hint else f"defined: {', '.join(sorted(accounts))}"
            problems.append(locate(item.file, ("account",), f"account {item.spec.account!r} is not defined "
                                   f"under 'accounts' in statusync.yaml ({fix})"))
    for integration_id, (first, *others) in by_id.items():
        if others:
            first_line = locate(first.file, ("integration_id",), "").line
        for other in others:
            problems.append(locate(other.file, ("integration_id",),
                                   f"integration_id {integration_id} is also used by {first.file}:{first_line}; "
                                   "each integration must have exactly one mapping file"))
    return problems


def located(file: str, text: str, findings: Iterable[Finding]) -> list[Problem]:
    """The findings of one file at the line and column of the values they are about."""
    doc = parse_spec(text, file)[0]
    return [doc.problem(f.loc, f.message) for f in findings]
