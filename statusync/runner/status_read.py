"""Reading shops' statuses during a run: what the run read is recorded in the status catalog
(`.statusync/statuses.json`) at its end, and `apply` checks what it is about to send against it.

Every read asks for deleted statuses too (`show_deleted=true`), so that an id the shop deleted
keeps its name, in the language statusync.yaml sets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from statusync.core.catalog import ShopStatuses, shop_from_read
from statusync.core.plan import Action, Change
from statusync.core.status_check import Finding, ShopStatus, status_findings
from statusync.errors import StatusyncError, StopRun
from statusync.files.catalog_file import catalog_path, record_reads
from statusync.runner import recorder
from statusync.runner.bounded import Lanes, per_account, run_bounded
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


@dataclass(frozen=True)
class Refusal:
    """A change not sent: the statuses just read lack an id it maps, or have it as deleted."""

    change: Change
    problems: list[str]  # file:line:col: what is wrong

    @property
    def error(self) -> str:
        return "refused, nothing was sent: " + "; ".join(self.problems)


def written(changes: Iterable[Change]) -> list[Change]:
    """The changes that write a mapping naming statuses (a reset writes nulls only)."""
    return [c for c in changes if c.action.sends and c.action is not Action.RESET and c.after is not None]


def check_before_send(
    changes: list[Change],
    readers: Mapping[str, StatusReader],
    reads: StatusReads,
    locate: Callable[[str, list[Finding]], list[str]],
    *,
    parallelism: int | None,
    report: Callable[[str, bool], None] = lambda _text, _ok: None,
) -> list[Refusal]:
    """Read the statuses of every integration a change writes a mapping to, and refuse the
    changes whose mapping names an id the shop does not have, or has deleted (`locate` gives
    each finding's place in its file).

    A read that fails refuses nothing (the write then meets its own fate, with the API's own
    answer); one that fails for the whole account (StopRun: rejected credentials, no
    connection) ends the reads of that account, whose writes will meet it too."""
    checked = written(changes)
    stopped: set[str] = set()

    def check(change: Change) -> tuple[str, Refusal | None, bool]:
        what = f"statuses of {change.integration_id} ({printable(change.file)})"
        if change.account in stopped:
            return f"{what}: not read", None, False
        try:
            statuses = reads.read(readers[change.account], change.integration_id)
        except StopRun as exc:
            stopped.add(change.account)
            return f"{what}: not read: {printable(str(exc))}", None, False
        except StatusyncError as exc:
            return f"{what}: not read ({printable(str(exc))}); sending without checking", None, False
        assert change.after is not None
        findings = status_findings(change.after, statuses)
        if not findings:
            return f"{what}: ok", None, True
        refusal = Refusal(change, locate(change.file, findings))
        return f"{what}: {refusal.error}", refusal, False

    # A lane per account, as the writes after them: one queue in file order, with each
    # account's files in a folder of their own, would read one account's shops at a time.
    accounts = {c.account: readers[c.account] for c in checked}
    lanes: Lanes[Change] = per_account(parallelism, accounts, "GET", lambda c: c.account)
    results = run_bounded(checked, check, lanes, lambda result: report(result[0], result[1] is None))
    refusals = [refusal for _, refusal, _ in results if refusal is not None]
    return sorted(refusals, key=lambda r: (r.change.file, r.change.integration_id))
