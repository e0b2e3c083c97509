"""Live integrations -> mapping files: safe file names, canonical text, and what stops an import.

Everything here is pure except the file system checks of `target_path` and `refusals`; reading
the API and writing the files is the command's job (import_cmd.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from statusync.core.model import IntegrationSpec, MappingDict
from statusync.core.plan import Action, Change
from statusync.errors import StatusyncError, where_in
from statusync.files.canonical import dump_spec
from statusync.files.mappings import shown_path
from statusync.text import printable

# Long enough to recognise the shop, short enough that the whole name stays far below the
# 255-byte limit of file systems and the 260-character paths of older Windows tools.
MAX_NAME_CHARS = 60
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(shop_name: str | None, integration_id: int) -> str:
    """The file name stem of an integration: `acme-nl-23452345` for shop "ACME NL".

    Only `[a-z0-9-]`, with no leading, trailing or doubled dash, so never a dot, a slash or a
    backslash. It always ends in `-<id>`: that keeps two shops with the same name apart, means
    the stem is never empty, and makes a Windows device name (CON, NUL, COM1, ...) impossible,
    as none of those contains a dash.
    """
    # casefold before decomposing: "Straße" becomes "strasse" rather than losing its ß.
    decomposed = unicodedata.normalize("NFKD", (shop_name or "").casefold())
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    words = _NOT_SLUG.sub("-", ascii_only).strip("-")[:MAX_NAME_CHARS].rstrip("-")
    return f"{words or 'integration'}-{integration_id}"


def target_path(mappings_dir: Path, stem: str) -> Path:
    """`<mappings_dir>/<stem>.yaml`, refused unless it really is a file directly inside it.

    The slug rules already keep the stem harmless; this is checked on the resolved path anyway,
    so that neither a future change to them nor a symlink planted where the file would go can
    make import write outside the mappings directory.
    """
    path = mappings_dir / f"{stem}.yaml"
    if path.resolve().parent != mappings_dir.resolve():
        raise StatusyncError(
            f"refusing to write {printable(path.as_posix())}: it is not inside the mappings "
            f"directory {printable(mappings_dir.as_posix())}"
        )
    return path


@dataclass(frozen=True)
class ImportedFile:
    """One mapping file to write, and the state entry that records it."""

    path: Path
    file: str  # as shown to users and recorded in the state
    spec: IntegrationSpec
    text: str

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")

    def change(self) -> Change:
        """The file as a created integration, which is how the state writer records it."""
        return Change(
            self.spec.integration_id,
            Action.CREATE,
            self.file,
            self.spec.account,
            None,
            self.spec.mapping.as_dict(),
            self.spec.name,
            hashlib.sha256(self.data).hexdigest(),
        )


def file_for(mappings_dir: Path, root: Path, integration_id: int, shop_name: str | None) -> str:
    """The file import writes for an integration, as shown to users (no file system check)."""
    return shown_path(mappings_dir / f"{slug(shop_name, integration_id)}.yaml", root)


def imported_file(
    mappings_dir: Path,
    root: Path,
    integration_id: int,
    shop_name: str | None,
    account: str,
    mapping: MappingDict,
) -> ImportedFile:
    """The canonical mapping file of a live integration."""
    try:
        spec = IntegrationSpec.model_validate(
            {
                "integration_id": integration_id,
                "name": shop_name or None,
                "account": account,
                "mapping": mapping,
            }
        )
    except ValidationError as exc:  # e.g. an empty external id, which no mapping file may hold
        first = exc.errors(include_url=False)[0]
        where = where_in(first["loc"])
        raise StatusyncError(
            f"integration {integration_id}: its live mapping cannot be written as "
            f"a mapping file ({where}: {first['msg']})"
        ) from None
    path = target_path(mappings_dir, slug(shop_name, integration_id))
    return ImportedFile(path, shown_path(path, root), spec, dump_spec(spec, header(spec)))


def header(spec: IntegrationSpec) -> str:
    """The comment at the top of an imported file; nothing in it changes from run to run."""
    where = f"Sendcloud integration {spec.integration_id}"
    if spec.name:
        # Control characters and line breaks of a shop name have no place in a one-line comment.
        one_line = " ".join("".join(c if c.isprintable() else " " for c in spec.name).split())
        where += f', shop "{one_line}"'
    return f"Imported by `statusync import` from {where}."


def refusals(files: Iterable[ImportedFile], managed: Mapping[int, str], force: bool) -> list[str]:
    """Why these files may not be written: an integration already managed by another file
    (whatever `force` says: two files would fight over it), or an existing file without `force`."""
    reasons: list[str] = []
    for item in files:
        owner = managed.get(item.spec.integration_id)
        if owner is not None and owner != item.file:
            reasons.append(
                f"integration {item.spec.integration_id} is already managed by {owner}; "
                "edit that file, or delete it before importing again"
            )
        elif not force and os.path.lexists(item.path):  # a dangling symlink counts too
            reasons.append(f"{item.file} already exists; pass --force to overwrite it")
    return reasons
