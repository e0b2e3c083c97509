"""Mapping files -> validated specs, with every problem of every file reported at once."""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from statusync.core.model import CATEGORIES, CONTROL_CHARACTERS, IntegrationSpec, LoadedSpec
from statusync.core.status_check import Finding
from statusync.errors import InvalidInput, Problem, StatusyncError
from statusync.files import SETTINGS_FILE, yamldoc
from statusync.files.reading import read_file
from statusync.files.validation import validate
from statusync.text import escape_char, printable

Cached = Callable[[str, str], LoadedSpec | None]

_SUFFIXES = (".yaml", ".yml")
_CANONICAL_INT = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(CONTROL_CHARACTERS)
_NOUNS: dict[yamldoc.Loc, yamldoc.Noun] = {
    ("mapping",): ("status category", "; give all four categories, with null for an unmapped one"),
}


def discover(mappings_dir: Path, root: Path | None = None) -> list[Path]:
    """Every *.yaml / *.yml file under `mappings_dir` at any depth, sorted, hidden ones skipped,
    symbolic links followed. Raises InvalidInput naming every directory, link or name that
    cannot be read (paths shown relative to `root`, by default the directory above)."""
    paths, problems = scan(mappings_dir, mappings_dir.parent if root is None else root)
    if problems:
        raise InvalidInput(problems)
    return paths


def read_by_scan(path: Path, mappings_dir: Path) -> bool:
    """Whether `scan` would take `path` for a mapping file: under `mappings_dir` (as written, or
    once symbolic links are resolved), no part of the way hidden, a YAML suffix."""
    # realpath, not Path.resolve(): a symbolic link that loops (a state or mappings directory
    # linked to itself) raises RuntimeError there, where it should be the error of reading it.
    for inner, outer in (
        (path.absolute(), mappings_dir.absolute()),
        (Path(os.path.realpath(path)), Path(os.path.realpath(mappings_dir))),
    ):
        inner, outer = Path(os.path.normpath(inner)), Path(os.path.normpath(outer))
        if inner.is_relative_to(outer) and inner != outer:
            parts = inner.relative_to(outer).parts
            if not any(part.startswith(".") for part in parts) and inner.name.lower().endswith(_SUFFIXES):
                return True
    return False


def scan(mappings_dir: Path, root: Path) -> tuple[list[Path], list[Problem]]:
    """The mapping files under `mappings_dir`, and a problem for everything that could hold
    some but cannot be read: a directory that cannot be listed, a symbolic link that loops or
    leads nowhere, a name that is not UTF-8, a mapping file that is not a regular file.

    Nothing is skipped silently: a file left out would read as deleted, and plan would forget
    (or, with `on_removed: reset`, unmap) its integration.
    """
    found, problems = _scan(mappings_dir, root)
    return [Path(path) for path, _ in found], problems


def _scan(mappings_dir: Path, root: Path) -> tuple[list[tuple[str, str]], list[Problem]]:
    """`scan`, with each file as (the path to open, the path shown to users), both strings: at
    10,000 files and more a Path per file costs more than reading it."""
    try:
        top = _identity(mappings_dir.stat())
        what = None if mappings_dir.is_dir() else "is not a directory"
    except (FileNotFoundError, NotADirectoryError):
        what = "does not exist"
    except OSError as exc:  # a directory above it that cannot be searched, a link loop
        raise StatusyncError(
            f"cannot read the mappings directory {printable(mappings_dir.as_posix())} "
            f"({exc.strerror}); fix it, or point 'mappings' in statusync.yaml "
            "(or --mappings) at another directory"
        ) from None
    if what is not None and mappings_dir.is_symlink():  # creating it would meet the link
        raise StatusyncError(
            f"mappings directory {printable(mappings_dir.as_posix())} is a symbolic link to "
            f"{printable(os.readlink(mappings_dir))}, which {what}; fix the link, or point "
            "'mappings' in statusync.yaml (or --mappings) at a directory"
        )
    if what is not None:
        above = _project_above(mappings_dir, root) if what == "does not exist" else None
        raise StatusyncError(
            f"mappings directory {printable(mappings_dir.as_posix())} {what}; "
            + (
                f"statusync works on the current directory: cd {printable(above[0].as_posix())} "
                f"(which holds {printable(above[1])}) and run it there"
                if above is not None
                else "create it, or point 'mappings' in statusync.yaml (or --mappings) at it"
            )
        )
    problems: list[Problem] = []
    # Every path below is shown as the directory's shown path and the path inside it.
    shown_dir = shown_path(mappings_dir, root)

    def shown(inside: str) -> str:
        return _joined(shown_dir, inside) if inside else shown_dir

    def problem(inside: str, message: str) -> None:
        problems.append(Problem(printable(shown(inside)), None, None, message))

    if not _utf8(shown_dir):
        problem("", _NOT_UTF8.format(what="the directory name", it=_ITS_FILES))
        return [], problems
    # (sort key, path, path inside mappings_dir)
    found: list[tuple[str, str, str]] = []
    # Directories still to list (the path, and the path inside mappings_dir), each with the
    # identities of those it lies in: a directory met again inside itself (through a symbolic
    # link, or a bind mount) is a loop.
    todo: list[tuple[str, str, frozenset[tuple[int, int]]]] = [
        (os.fspath(mappings_dir), "", frozenset({top}))
    ]
    while todo:
        directory, inside, ancestors = todo.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            problem(
                inside,
                f"cannot read the directory ({exc.strerror}); its mapping files "
                "would count as deleted: give the user running statusync read "
                "and search permission on it (chmod u+rx)",
            )
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            path, where = entry.path, f"{inside}/{name}" if inside else name
            try:
                is_dir, is_link = entry.is_dir(), entry.is_symlink()
                is_file = entry.is_file()
                identity = _identity(entry.stat()) if is_dir else None
            except OSError as exc:  # a link loop (ELOOP), an entry it may not look at (EACCES)
                fix = "check its permissions" if isinstance(exc, PermissionError) else "fix or remove it"
                problem(where, f"cannot read it ({exc.strerror}); {fix}")
                continue
            wanted = name.lower().endswith(_SUFFIXES)
            if not (is_dir or wanted or is_link):
                continue
            if not _utf8(name):
                problem(
                    where,
                    _NOT_UTF8.format(what="the directory name", it=_ITS_FILES)
                    if is_dir
                    else _NOT_UTF8.format(what="the file name", it="it"),
                )
            elif is_link and not (is_dir or is_file):
                target = printable(os.readlink(path))
                # A link to /dev/null or a FIFO is there, but no mapping file either.
                what = (
                    "is not a regular file (a pipe, socket or device)"
                    if os.path.exists(path)
                    else "does not exist"
                )
                problem(where, f"a symbolic link to {target}, which {what}; fix the link or remove it")
            elif is_dir and identity in ancestors:
                problem(
                    where,
                    "a symbolic link to a directory it is in (a loop); remove the link "
                    "or point it at a directory outside mappings/",
                )
            elif is_dir:
                assert identity is not None
                todo.append((path, where, ancestors | {identity}))
            elif not is_file:
                problem(
                    where,
                    "not a regular file (a pipe, socket or device); a mapping file must be a regular file",
                )
            elif wanted:  # a link to a file counts by its own name, as a file does
                # Sorted as the tuples of their parts would be: "/" made the lowest character,
                # so that `eu/x.yaml` comes before `eu-west.yaml`, as `eu` before `eu-west`.
                found.append((where.replace("/", "\0"), path, where))
    found.sort()
    return [(path, shown(where)) for _, path, where in found], problems


def _project_above(mappings_dir: Path, root: Path) -> tuple[Path, str] | None:
    """The nearest directory above `root` holding statusync.yaml or a directory where
    `mappings_dir` is below `root`, with what it holds: run from a subdirectory (`cd
    mappings/eu`), the fix is to go back up, not to create the mappings directory there."""
    root = root.absolute()
    try:
        inside = mappings_dir.absolute().relative_to(root)
    except ValueError:  # a mappings directory given outside the current one
        return None
    for directory in root.parents:
        for name, found in ((SETTINGS_FILE, Path.is_file), (inside.as_posix(), Path.is_dir)):
            if found(directory / name):
                return directory, name
    return None


def _joined(directory: str, inside: str) -> str:
    """The shown path of `inside` (a POSIX path) in the directory shown as `directory`, as
    Path.as_posix() writes it."""
    if directory == ".":
        return inside
    return directory + inside if directory.endswith("/") else f"{directory}/{inside}"


_NOT_UTF8 = (
    "{what} is not valid UTF-8 (its stray bytes are shown as \\xNN), so the state "
    "cannot record {it}: rename it to a UTF-8 name"
)
_ITS_FILES = "the names of its files"


def _utf8(name: str) -> bool:
    """Whether `name` is text: Python reads a name that is not UTF-8 with its stray bytes as
    lone surrogates (surrogateescape), which no UTF-8 file (the state, a plan) can hold."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def shown_path(path: Path, root: Path) -> str:
    """The POSIX path shown to users: relative to `root` when inside it, else as given."""
    for candidate, base in ((path, root), (path.absolute(), root.absolute())):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def load_mappings(
    mappings_dir: Path, root: Path, accounts: Collection[str], cached: Cached | None = None
) -> list[LoadedSpec]:
    """Validate every mapping file; raise InvalidInput with all problems of all files if any.

    `cached(file, sha256)` may return the file as already known for identical bytes, which
    skips parsing; such a file still takes part in the checks across files.
    """
    loaded: list[LoadedSpec] = []
    paths: dict[str, str] = {}
    found, problems = _scan(mappings_dir, root)
    for path, file in found:
        paths[file] = path
        try:
            data = read_file(path)
        except OSError as exc:
            problems.append(
                Problem(
                    file,
                    None,
                    None,
                    f"cannot read the file ({exc.strerror}); "
                    "it would count as deleted: check its permissions",
                )
            )
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        known = _from_cache(cached, file, sha256)
        if known is None:
            try:
                known = LoadedSpec(parse_spec(yamldoc.decode(data, file), file)[1], file, sha256)
            except InvalidInput as exc:
                problems.extend(exc.problems)
                continue
        loaded.append(known)

    def locate(file: str, loc: yamldoc.Loc, message: str) -> Problem:
        # Parsed again, rarely: keeping 10,000 documents around just for this would cost more.
        doc = parse_spec(yamldoc.decode(read_file(paths[file]), file), file)[0]
        return doc.problem(loc, message)

    problems.extend(_cross_file_problems(loaded, accounts, locate))
    if problems:
        raise InvalidInput(problems)
    return loaded


def _from_cache(cached: Cached | None, file: str, sha256: str) -> LoadedSpec | None:
    """The file as `cached` knows it for these bytes; None (parse the file) when it knows none, or
    when what it recorded breaks today's rules (a state written by an older statusync):
    parsing then reports the problem at its line."""
    if cached is None:
        return None
    try:
        return cached(file, sha256)
    except ValueError:  # pydantic's ValidationError
        return None


def parse_spec(
    text: str, file: str, *, any_id_spelling: bool = False
) -> tuple[yamldoc.Document, IntegrationSpec]:
    """One mapping file's text as a spec; InvalidInput with all of its problems otherwise.
    `any_id_spelling`: take an integration id however YAML reads it (`0x1F`), for fmt to
    rewrite it as the plan shows it."""
    doc = yamldoc.parse(text, file)
    if doc is None:
        raise InvalidInput(
            [
                Problem(
                    file,
                    None,
                    None,
                    "the file is empty; a mapping file needs "
                    "integration_id and mapping (see `statusync schema`)",
                )
            ]
        )
    if not any_id_spelling:
        _integration_id_spelling(doc)
    mapping = doc.data.get("mapping")
    if isinstance(mapping, dict):
        for category in CATEGORIES:
            if category in mapping:
                mapping[category] = _external_id(doc, category, mapping[category])
    spec = validate(IntegrationSpec, doc, _NOUNS)
    if spec is None:
        raise InvalidInput(doc.problems)
    return doc, spec


def _integration_id_spelling(doc: yamldoc.Document) -> None:
    """An integration id written as YAML reads other numbers (`0xDBBA1`, `0o3334241`, `+900001`,
    `0900001`) is reported: the file's diff would not show the id a reviewer sees in the plan."""
    entry = doc.entries.get(("integration_id",))
    value = doc.data.get("integration_id")
    if entry is None or not entry.plain or entry.text is None or type(value) is not int or value <= 0:
        return
    if not _CANONICAL_INT.fullmatch(entry.text):
        doc.report(
            ("integration_id",),
            f"integration_id: {entry.text} is read as {value}; write it as {value}, the id the plan "
            "shows (statusync fmt rewrites it)",
        )
        doc.data["integration_id"] = yamldoc.INVALID


def _external_id(doc: yamldoc.Document, category: str, value: object) -> object:
    """Apply the spelling rules of an external id; report and return INVALID when broken."""
    loc = ("mapping", category)
    entry = doc.entries[loc]
    if value is None or value is yamldoc.INVALID:
        return value
    if entry.text is not None and entry.number_like and not isinstance(value, float):
        if _CANONICAL_INT.fullmatch(entry.text):
            return entry.text
        doc.report(
            loc,
            f"{category}: {entry.text} is read as a number and would lose its spelling; "
            f"quote it: {yamldoc.quote(entry.text)}",
        )
        return yamldoc.INVALID
    if isinstance(value, str) and value.strip() and not _CONTROL.search(value):
        return value
    if isinstance(value, str) and value:
        # What a shop's status id never holds: it would be sent, stored, and match nothing.
        control = _CONTROL.search(value)
        problem = (
            "is blank"
            if not value.strip() or control is None
            else f"holds the control character {escape_char(control.group())}"
        )
        doc.report(
            loc,
            f"{category}: the external id {yamldoc.quote(value)} {problem}; write "
            'the shop\'s status id (such as "12"), or null for unmapped',
        )
        return yamldoc.INVALID
    shown = yamldoc.describe(value) if value != "" else "an empty string"
    doc.report(
        loc,
        f"{category}: expected an external id, got {shown}; an external id must be "
        'a quoted string such as "12", or null for unmapped',
    )
    return yamldoc.INVALID


def _cross_file_problems(
    loaded: list[LoadedSpec], accounts: Collection[str], locate: Callable[[str, yamldoc.Loc, str], Problem]
) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[int, list[LoadedSpec]] = defaultdict(list)
    for item in loaded:
        by_id[item.integration_id].append(item)
        if item.account not in accounts:
            hint = yamldoc.did_you_mean(item.account, sorted(accounts))
            fix = f"did you mean {hint!r}?" if hint else f"defined: {', '.join(sorted(accounts))}"
            problems.append(
                locate(
                    item.file,
                    ("account",),
                    f"account {item.account!r} is not defined under 'accounts' in statusync.yaml ({fix})",
                )
            )
    for integration_id, (first, *others) in by_id.items():
        if others:
            first_line = locate(first.file, ("integration_id",), "").line
        for other in others:
            problems.append(
                locate(
                    other.file,
                    ("integration_id",),
                    f"integration_id {integration_id} is also used by "
                    f"{first.file}:{first_line}; "
                    "each integration must have exactly one mapping file",
                )
            )
    return problems


def located(file: str, text: str, findings: Iterable[Finding]) -> list[Problem]:
    """The findings of one file at the line and column of the values they are about."""
    doc = parse_spec(text, file)[0]
    return [doc.problem(f.loc, f.message) for f in findings]


def located_again(root: Path, file: str, findings: Iterable[Finding]) -> list[Problem]:
    """`located`, with the file (relative to `root`) read again; when it changed since it was
    loaded and cannot be read or parsed any more, the findings without a line."""
    findings = list(findings)
    try:
        return located(file, yamldoc.decode((root / file).read_bytes(), file), findings)
    except (OSError, StatusyncError):
        return [Problem(file, None, None, f.message) for f in findings]
