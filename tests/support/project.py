"""A user's repository in a temporary directory, and what a command run in it gives back."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import NamedTuple

from statusync.core.state import Entry, State
from statusync.files.state_file import save_state
from statusync.sandbox import SandboxServer

# The key pair the sandbox fixture accepts; tests assert that neither ever shows up in output.
PUBLIC_KEY = "pk-test-0123"
SECRET_KEY = "sk-test-never-shown-4567"
# Where the sandbox serves the mapping endpoint.
MAPPING_PATH = "/api/v3/shop-order-statuses/mapping"


class Result(NamedTuple):
    code: int
    out: str
    err: str


class Project:
    """A user's repository in a temporary directory, which is also the working directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "mappings").mkdir()

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def mapping(
        self,
        integration_id: int,
        rts: str | None = '"1"',
        transit: str | None = '"2"',
        delivered: str | None = '"3"',
        cancel: str | None = "null",
        file: str | None = None,
        extra: str = "",
    ) -> Path:
        def v(x: str | None) -> str:
            return "null" if x is None else x

        return self.write(
            file or f"mappings/shop-{integration_id}.yaml",
            (
                f"integration_id: {integration_id}\n{extra}mapping:\n"
                f"  READY_TO_SEND: {v(rts)}\n  IN_TRANSIT: {v(transit)}\n"
                f"  DELIVERED: {v(delivered)}\n  CANCEL: {v(cancel)}\n"
            ),
        )

    @property
    def state_file(self) -> Path:
        return self.root / ".statusync" / "state.json"

    def pending_updates(self, ids: range) -> None:
        """A mapping file for each of `ids` (`mapping()`'s defaults) and a state that recorded
        older mappings of them (`applied_before`): apply updates each one."""
        for i in ids:
            self.mapping(i)
        self.applied_before(ids)

    def applied_before(self, ids: range) -> None:
        """A state recording older mappings of `ids` than `mapping()` writes: apply then
        updates them, and an update sends at once (a create first reads each live mapping)."""
        older = {"READY_TO_SEND": "9", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
        save_state(
            self.state_file,
            State(
                entries={
                    i: Entry(f"mappings/shop-{i}.yaml", "old", "default", None, older, "2026-01-01T00:00:00Z")
                    for i in ids
                }
            ),
        )


def live(server: SandboxServer, integration_id: int) -> dict[str, str | None]:
    """The mapping the sandbox holds now for one integration."""
    integration = server.store.integration(integration_id)
    assert integration is not None
    return integration.mapping_dict()
