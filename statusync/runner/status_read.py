"""Reading shops' statuses during a run: what the run read is recorded in the status catalog
(`.statusync/statuses.json`) at its end, and each write of `apply` and `reconcile` checks what it
is about to send against a read of its shop's statuses made right before it (StatusCheck).

Every read asks for deleted statuses too (`show_deleted=true`), so that an id the shop deleted
keeps its name, in the language statusync.yaml sets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from statusync.core.catalog import ShopStatuses, shop_from_read
from statusync.core.plan import Action, Change
from statusync.core.status_check import Finding, ShopStatus, status_findings
from statusync.errors import NotSent, StatusyncError, StopRun
from statusync.files.catalog_file import catalog_path, record_reads
from statusync.runner import recorder
from statusync.runner.apply import Checked
from statusync.text import printable


class StatusReader(Protocol):
    def list_shop_statuses(
        self, integration_id: int, show_deleted: bool = False, language: str | None = None
    ) -> Sequence[ShopStatus]: ...


class StatusReads:
    """What a run read of its shops' statuses, to record in the catalog when it ends."""

    def __init__(self, language: str, clock: Callable[[], str] | None = None) -> None:
        self.language = language
        # Looked up when called: a test that fixes the recorder's clock fixes this one too.
        self._clock = clock or (lambda: recorder.now_iso())
        self._lock = threading.Lock()  # reads come from the workers
        self._shops: dict[int, ShopStatuses] = {}

    def read(self, client: StatusReader, integration_id: int) -> Sequence[ShopStatus]:
        statuses = client.list_shop_statuses(integration_id, show_deleted=True, language=self.language)
        self.note(integration_id, statuses)
        return statuses

    def note(self, integration_id: int, statuses: Sequence[ShopStatus]) -> None:
        shop = shop_from_read(statuses, self.language, self._clock())
        with self._lock:
            self._shops[integration_id] = shop

    @property
    def shops(self) -> dict[int, ShopStatuses]:
        with self._lock:
            return dict(self._shops)

    def save(self, state_path: Path, keep: Collection[int]) -> str | None:
        """Record the reads in the catalog beside the state; the integrations of `keep` (those
        still managed) keep their earlier entries. A note when the old catalog was unreadable."""
        return record_reads(catalog_path(state_path), self.shops, keep)


def writes_statuses(change: Change) -> bool:
    """Whether `change` writes a mapping naming statuses (a reset writes nulls only)."""
    return change.action.sends and change.action is not Action.RESET and change.after is not None


class StatusCheck:
    """The check each write makes right before it leaves, in its worker (runner.apply's
    `check`): read the statuses of the integration it writes a mapping to (recorded in `reads`),
    and refuse it when the mapping names an id the shop does not have, or has deleted (`locate`
    gives each finding's place in its file). The read is a GET of the change's own account,
    paced by that account's GET bucket, as the write is by its POST bucket.

    A read that fails refuses nothing: the write then meets its own fate, with the API's own
    answer (sent without checking, and said so), or is not sent when the read stopped its
    account (a refusal of its credentials: from then on, nothing of it leaves). A stop of the
    run (NotSent) or an error every request would meet (StopRun) is raised, as a write's is."""

    def __init__(
        self,
        readers: Mapping[str, StatusReader],
        reads: StatusReads,
        locate: Callable[[str, list[Finding]], list[str]],
    ) -> None:
        self._readers = readers
        self._reads = reads
        self._locate = locate

    def __call__(self, change: Change) -> Checked:
        if not writes_statuses(change):
            return Checked()
        try:
            statuses = self._reads.read(self._readers[change.account], change.integration_id)
        except (NotSent, StopRun):
            raise
        except StatusyncError as exc:
            return Checked(
                note=f"its shop's statuses could not be read ({printable(str(exc))}), so it was "
                "sent without checking them"
            )
        assert change.after is not None
        findings = status_findings(change.after, statuses)
        if not findings:
            return Checked()
        # Each problem as file:line:col: what is wrong.
        return Checked(refused="refused, nothing was sent: " + "; ".join(self._locate(change.file, findings)))
