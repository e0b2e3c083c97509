"""The account as the unit of failure: a refusal that concerns one account's credentials (a 401,
a 401 again after a token renewal, a token endpoint that refuses the client or keeps failing,
variables that are not set) stops that account's integrations and no other's.

Each account's client is wrapped in an AccountClient that shares one AccountStops with the
others of the run. Its first refusal marks the account stopped; from then on none of its
requests leaves (AccountSkipped, checked again right before a write leaves), while the requests
already on the wire finish as they do. Whatever the parallelism, an account's work after its
first refusal is never sent, and the other accounts' work is all done. A host that takes no
connection (HostUnreachable) is not the account's: every account would meet it, so it still
ends the whole run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from statusync.core.model import MappingDict
from statusync.errors import AccountRefused, AccountSkipped, CredentialsRejected, TokenRequestFailed
from statusync.text import plural, printable

if TYPE_CHECKING:  # httpx is imported only once a command talks to the API
    from statusync.sendcloud.client import SendcloudClient
    from statusync.sendcloud.models import Integration, LiveMapping, ShopStatus
    from statusync.sendcloud.pacing import Pace

T = TypeVar("T")

# The errors that say nothing but "this account's credentials do not work".
ACCOUNT_FAILURES = (CredentialsRejected, TokenRequestFailed)


@dataclass
class _Stop:
    reason: str
    left: set[int] = field(default_factory=set)  # integrations refused or not sent
    unlisted: bool = False  # its list of integrations (import --all) could not be read


class AccountStops:
    """Which accounts of a run are stopped, why, and what they left; shared by every worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: dict[str, _Stop] = {}

    def stop(self, account: str, reason: str) -> None:
        """Stop `account` for `reason`, unless it is stopped already (the first reason stays)."""
        with self._lock:
            self._stops.setdefault(account, _Stop(reason))

    def stopped(self, account: str) -> bool:
        with self._lock:
            return account in self._stops

    def left(self, account: str, integration_id: int | None) -> None:
        """`integration_id` of the stopped `account` was not done (None: its list was not read)."""
        with self._lock:
            stop = self._stops[account]
            if integration_id is None:
                stop.unlisted = True
            else:
                stop.left.add(integration_id)

    def reason(self, account: str) -> str:
        """Why the stopped `account` was stopped."""
        with self._lock:
            return self._stops[account].reason

    def accounts(self) -> list[str]:
        with self._lock:
            return sorted(self._stops)

    def left_ids(self, account: str) -> frozenset[int]:
        with self._lock:
            return frozenset(self._stops[account].left)

    def summary(self) -> list[str]:
        """One line per stopped account: its name, why, and how many integrations it left."""
        lines = []
        with self._lock:
            stops = sorted(self._stops.items())
        for account, stop in stops:
            left = plural(len(stop.left), "integration")
            if stop.unlisted:
                left = "its integrations (not listed)" if not stop.left else f"{left} and its list"
            lines.append(
                f"account {printable(account)!r} stopped: {printable(stop.reason)}; {left} left undone"
            )
        return lines


class AccountClient:
    """One account's client, sending nothing once the account is stopped, and stopping it on
    the first refusal of its credentials. It has the client's typed calls (the runners'
    MappingWriter / MappingReader); PacedAccountClient has the client's pace too.

    Without a client (`unconfigured`: why its credentials cannot be had), the account is stopped
    before its first request, and has no pace: the workers are sized by the accounts that send.
    """

    def __init__(
        self,
        account: str,
        client: SendcloudClient | None,
        stops: AccountStops,
        *,
        unconfigured: str = "",
    ) -> None:
        self.account = account
        self._stops = stops
        if client is None:
            stops.stop(account, unconfigured)
        self._maybe_client = client

    @property
    def _client(self) -> SendcloudClient:
        assert self._maybe_client is not None  # _check raised first: the account is stopped
        return self._maybe_client

    def upsert_mapping(
        self, integration_id: int, mapping: MappingDict, *, on_send: Callable[[], None] | None = None
    ) -> None:
        def sending() -> None:
            # Its turn under the rate limit came after the account was stopped: it stays unsent
            # (and leaves no intent in the journal).
            self._check(integration_id)
            if on_send is not None:
                on_send()

        self._call(
            integration_id, lambda: self._client.upsert_mapping(integration_id, mapping, on_send=sending)
        )

    def get_mapping(self, integration_id: int) -> LiveMapping:
        return self._call(integration_id, lambda: self._client.get_mapping(integration_id))

    def list_shop_statuses(
        self, integration_id: int, show_deleted: bool = False, language: str | None = None
    ) -> list[ShopStatus]:
        return self._call(
            integration_id, lambda: self._client.list_shop_statuses(integration_id, show_deleted, language)
        )

    def list_integrations(self) -> list[Integration]:
        # A lambda like the others: the client is looked up only once _check let the call through.
        return self._call(None, lambda: self._client.list_integrations())

    def get_integration(self, integration_id: int) -> Integration:
        return self._call(integration_id, lambda: self._client.get_integration(integration_id))

    def integration_exists(self, integration_id: int) -> bool:
        return self._call(integration_id, lambda: self._client.integration_exists(integration_id))

    def _check(self, integration_id: int | None) -> None:
        if self._stops.stopped(self.account):
            self._stops.left(self.account, integration_id)
            raise AccountSkipped(self.account, integration_id)

    def _call(self, integration_id: int | None, call: Callable[[], T]) -> T:
        self._check(integration_id)
        try:
            return call()
        except ACCOUNT_FAILURES as exc:
            self._stops.stop(self.account, str(exc))
            self._stops.left(self.account, integration_id)
            raise AccountRefused(self.account, exc) from None


class PacedAccountClient(AccountClient):
    """An account's client with credentials, and with the client's pace for the workers."""

    def __init__(self, account: str, client: SendcloudClient, stops: AccountStops) -> None:
        super().__init__(account, client, stops)

    def pace(self, method: str) -> Pace:
        return self._client.pace(method)
