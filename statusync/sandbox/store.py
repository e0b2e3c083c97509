"""The sandbox's data: integrations with their shop statuses and mappings, the OAuth2 tokens it
issued, the request log, faults.

Values are immutable and replaced whole under one lock, so a reader never sees a half-made change
and the HTTP server can answer requests from many threads at once.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from statusync.core.model import CATEGORIES, MappingDict
from statusync.sandbox.faults import FaultList, FaultRule
from statusync.sandbox.payloads import JsonObject

# The only integration type whose statuses and mapping the real API serves.
PRESTASHOP_V2 = "prestashop_v2"
Translations = tuple[tuple[str, str], ...]  # (language, status name) pairs, as the shop sent them


def utc_timestamp() -> str:
    """Now, as the API writes its timestamps (UTC, whole seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class StoredStatus:
    """One order status of a shop, with its names in every language the shop sent."""

    external_id: str
    translations: Translations
    deleted_at: str | None = None

    def name(self, language: str | None) -> str:
        # As Sendcloud does: the asked language, else en-gb, else the first language alphabetically.
        names = dict(self.translations)
        for lang in (language, "en-gb"):
            if lang in names:
                return names[lang]
        return names[min(names)]

    def api_json(self, language: str | None = None) -> JsonObject:
        return {
            "external_id": self.external_id,
            "status": self.name(language),
            "deleted_at": self.deleted_at,
            "translations": [{"status": name, "language": lang} for lang, name in self.translations],
        }


@dataclass(frozen=True)
class StoredIntegration:
    """One integration as the sandbox holds it; the `*_json` methods give the API's views of it."""

    id: int
    shop_name: str
    type: str = PRESTASHOP_V2
    shop_url: str = ""
    statuses: tuple[StoredStatus, ...] = ()
    mapping: tuple[str | None, ...] = (None,) * len(CATEGORIES)  # in CATEGORIES order
    created_at: str = field(default_factory=utc_timestamp)
    updated_at: str = field(default_factory=utc_timestamp)

    def status(self, external_id: str) -> StoredStatus | None:
        """The shop status with this id, deleted or not."""
        return next((s for s in self.statuses if s.external_id == external_id), None)

    def is_valid(self, external_id: str | None) -> bool:
        """Unmapped, or pointing at a status the shop still has."""
        status = None if external_id is None else self.status(external_id)
        return external_id is None or (status is not None and status.deleted_at is None)

    def mapping_dict(self) -> MappingDict:
        return dict(zip(CATEGORIES, self.mapping, strict=True))

    def api_json(self) -> JsonObject:
        """The spec's `integration-response-model`."""
        return {
            "id": self.id,
            "shop_name": self.shop_name,
            "shop_url": self.shop_url or f"https://shop-{self.id}.example.com/",
            "type": self.type,
            "started_failing_at": None,
            "last_fetched_at": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "service_point_enabled": False,
            "service_point_carriers": [],
            "webhook_active": False,
            "webhook_url": None,
            "feedback_type": "none",
        }

    def mapping_json(self) -> JsonObject:
        """The `data` of the spec's `get-custom-status-mapping`."""
        return {
            "integration_id": self.id,
            "mapping": [
                {"status_category": c, "external_id": e, "is_valid": self.is_valid(e)}
                for c, e in zip(CATEGORIES, self.mapping, strict=True)
            ],
        }

    def statuses_json(self, show_deleted: bool, language: str | None) -> list[JsonObject]:
        return [s.api_json(language) for s in self.statuses if show_deleted or s.deleted_at is None]

    def record_json(self) -> JsonObject:
        """Everything the sandbox knows about the integration (the admin view)."""
        return {
            **self.api_json(),
            "statuses": [s.api_json() for s in self.statuses],
            "mapping": self.mapping_dict(),
        }


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    integration_id: int | None
    status: int | None  # None: the connection was dropped without a response
    partner_id: str | None = None  # the Sendcloud-Partner-Id header, when the request had one

    def as_json(self) -> JsonObject:
        return dataclasses.asdict(self)


class SandboxStore:
    """Integrations by id, plus what tests inspect and inject: the request log and fault rules."""

    def __init__(self, integrations: Iterable[StoredIntegration] = ()) -> None:
        self._lock = threading.Lock()
        self._integrations: dict[int, StoredIntegration] = {}
        self._log: list[LoggedRequest] = []
        self._faults = FaultList()
        self._tokens: dict[str, float] = {}  # access token -> when it expires, on the API's clock
        self._token_clients: dict[str, str] = {}  # access token -> the client id it was issued to
        self._tokens_issued = 0
        for integration in integrations:
            self.add_integration(integration)

    # Reading ------------------------------------------------------------------------------------

    def integrations(self) -> list[StoredIntegration]:
        with self._lock:
            return sorted(self._integrations.values(), key=lambda i: i.id)

    def integration(self, integration_id: int) -> StoredIntegration | None:
        with self._lock:
            return self._integrations.get(integration_id)

    # What the API changes -----------------------------------------------------------------------

    def upsert_mapping(self, integration_id: int, mapping: Mapping[str, str | None]) -> list[str]:
        """Set all four categories, unless some external ids are not live statuses of the shop:
        then nothing changes and those ids are returned (checked and written under one lock)."""
        with self._lock:
            current = self._existing(integration_id)
            named = [e for e in (mapping[c] for c in CATEGORIES) if e is not None]
            unknown = [e for e in named if not current.is_valid(e)]
            if not unknown:
                self._replace(current, mapping=tuple(mapping[c] for c in CATEGORIES))
            return list(dict.fromkeys(unknown))

    def replace_statuses(self, integration_id: int, statuses: Mapping[str, Translations]) -> None:
        """The shop's complete status list (external id -> translations): the ones left out are
        marked deleted, as the real API does, so that mappings pointing at them turn invalid."""
        with self._lock:
            current = self._existing(integration_id)
            stamp = utc_timestamp()
            kept = [
                StoredStatus(s.external_id, statuses[s.external_id])
                if s.external_id in statuses
                else dataclasses.replace(s, deleted_at=s.deleted_at or stamp)
                for s in current.statuses
            ]
            known = {s.external_id for s in current.statuses}
            added = [StoredStatus(e, t) for e, t in statuses.items() if e not in known]
            self._replace(current, statuses=tuple(kept + added))

    # What a person does in the panel (the admin interface) -------------------------------------

    def add_integration(self, integration: StoredIntegration) -> None:
        with self._lock:
            if integration.id in self._integrations:
                raise ValueError(f"integration {integration.id} already exists")
            self._integrations[integration.id] = integration

    def remove_integration(self, integration_id: int) -> None:
        """Delete an integration, as when a merchant disconnects a shop."""
        with self._lock:
            self._existing(integration_id)  # KeyError when unknown, like the other panel actions
            del self._integrations[integration_id]

    def edit_mapping(self, integration_id: int, changes: Mapping[str, str | None]) -> StoredIntegration:
        """Set some categories by hand; unlike the API, any external id is taken (even one the shop
        does not have), so tests can make invalid live mappings directly."""
        with self._lock:
            current = self._existing(integration_id)
            merged = {**current.mapping_dict(), **changes}
            return self._replace(current, mapping=tuple(merged[c] for c in CATEGORIES))

    def rename_status(
        self, integration_id: int, external_id: str, translations: Translations
    ) -> StoredIntegration:
        """Give a shop status new names, as when the merchant renames it in PrestaShop."""
        with self._lock:
            current = self._existing(integration_id)
            status = current.status(external_id)
            if status is None:
                raise KeyError(f"integration {integration_id} has no status {external_id!r}")
            renamed = dataclasses.replace(status, translations=translations)
            return self._replace(
                current, statuses=tuple(renamed if s is status else s for s in current.statuses)
            )

    def delete_status(self, integration_id: int, external_id: str) -> StoredIntegration:
        """Mark a shop status deleted, as when the merchant removes it in PrestaShop."""
        with self._lock:
            current = self._existing(integration_id)
            status = current.status(external_id)
            if status is None:
                raise KeyError(f"integration {integration_id} has no status {external_id!r}")
            if status.deleted_at is not None:
                return current
            deleted = dataclasses.replace(status, deleted_at=utc_timestamp())
            return self._replace(
                current, statuses=tuple(deleted if s is status else s for s in current.statuses)
            )

    # OAuth2 access tokens -------------------------------------------------------------------------

    def issue_token(self, lifetime: float, now: float) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = now + lifetime
            self._tokens_issued += 1
        return token

    def token_valid(self, token: str, now: float) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and now < expires

    def issued_to(self, token: str, client: str) -> None:
        """Note the OAuth2 client (its client id) `token` was issued to: the token's requests
        count against that client's rate limits."""
        with self._lock:
            self._token_clients[token] = client

    def token_client(self, token: str) -> str:
        """The client `token` was issued to ("" when none was noted)."""
        with self._lock:
            return self._token_clients.get(token, "")

    def expire_tokens(self) -> None:
        """Make every token issued so far invalid, as if its hour were over (tests of renewal)."""
        with self._lock:
            self._tokens.clear()

    def tokens_issued(self) -> int:
        with self._lock:
            return self._tokens_issued

    # Request log and faults ---------------------------------------------------------------------

    def log_request(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log.append(entry)

    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def add_fault(self, rule: FaultRule) -> None:
        with self._lock:
            self._faults.add(rule)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[tuple[FaultRule, int | None]]:
        """Active rules with the hits each has left (None: forever)."""
        with self._lock:
            return self._faults.active()

    def take_fault(self, method: str, path: str, integration_id: int | None) -> FaultRule | None:
        with self._lock:
            return self._faults.take(method, path, integration_id)

    # Internals (callers hold the lock) ---------------------------------------------------------

    def _existing(self, integration_id: int) -> StoredIntegration:
        try:
            return self._integrations[integration_id]
        except KeyError:
            raise KeyError(f"integration {integration_id} not found") from None

    def _replace(
        self,
        current: StoredIntegration,
        *,
        mapping: tuple[str | None, ...] | None = None,
        statuses: tuple[StoredStatus, ...] | None = None,
    ) -> StoredIntegration:
        updated = dataclasses.replace(
            current,
            mapping=current.mapping if mapping is None else mapping,
            statuses=current.statuses if statuses is None else statuses,
            updated_at=utc_timestamp(),
        )
        self._integrations[current.id] = updated
        return updated
