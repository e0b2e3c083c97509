"""The sandbox's own control panel under /_sandbox/ (no auth: a loopback-only test tool).

GET    /_sandbox/requests                                     the API request log
DELETE /_sandbox/requests                                     clear it
GET    /_sandbox/faults                                       active fault rules
POST   /_sandbox/faults                                       add a rule (FaultRule JSON)
DELETE /_sandbox/faults                                       clear all rules
POST   /_sandbox/integrations                                 add an integration (seed format)
GET    /_sandbox/integrations/{id}                            everything about one integration
DELETE /_sandbox/integrations/{id}                            delete it (a disconnected shop)
PUT    /_sandbox/integrations/{id}/mapping                    edit the live mapping by hand
PUT    /_sandbox/integrations/{id}/statuses/{external_id}     rename a shop status: {"name": "Sent"}
                                        (every language) or {"name": {"en-gb": "Sent", "nl-nl": "Verzonden"}}
DELETE /_sandbox/integrations/{id}/statuses/{external_id}     delete a shop status
GET    /_sandbox/tokens                                       how many OAuth2 tokens were issued
DELETE /_sandbox/tokens                                       expire every token issued so far
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from statusync.core.model import ExternalId, StatusCategory
from statusync.sandbox.api import Reply, error_reply, json_reply
from statusync.sandbox.faults import FaultRule
from statusync.sandbox.payloads import RequestRejected, not_found, parse_body, rejection
from statusync.sandbox.seed import IntegrationSeed, StatusName, translations
from statusync.sandbox.store import SandboxStore
from statusync.sendcloud.languages import Language

ADMIN_PREFIX = "/_sandbox"
_NO_CONTENT = Reply(204, b"")


class MappingEdit(RootModel[dict[StatusCategory, ExternalId | None]]):
    """Body of PUT .../mapping: some categories -> external id or null, e.g. {"CANCEL": "7"}."""

    model_config = ConfigDict(strict=True)


class StatusRename(BaseModel):
    """Body of PUT .../statuses/{external_id}: the status's new names (seed format)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    name: StatusName | Annotated[dict[Language, StatusName], Field(min_length=1)]


class SandboxAdmin:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def handle(self, method: str, target: str, body: bytes) -> Reply:
        path = urllib.parse.urlsplit(target).path.rstrip("/")
        try:
            return self._route(method, path)(body)
        except RequestRejected as exc:
            return error_reply(exc)
        except KeyError as exc:  # the store's "no such integration/status"
            return error_reply(not_found(str(exc.args[0])))

    def _route(self, method: str, path: str) -> Callable[[bytes], Reply]:
        rest = path.removeprefix(ADMIN_PREFIX)
        routes: dict[str, Callable[[bytes], Reply]] = {}
        if rest == "/requests":
            routes = {"GET": self._list_requests, "DELETE": self._clear_requests}
        elif rest == "/faults":
            routes = {"GET": self._list_faults, "POST": self._add_fault, "DELETE": self._clear_faults}
        elif rest == "/integrations":
            routes = {"POST": self._add_integration}
        elif rest == "/tokens":
            routes = {"GET": self._count_tokens, "DELETE": self._expire_tokens}
        elif match := re.fullmatch(r"/integrations/([0-9]{1,18})(/mapping|/statuses/[^/]+)?", rest):
            routes = self._integration_routes(int(match[1]), match[2] or "")
        else:
            raise not_found("Not found.")
        if method not in routes:
            raise rejection(405, "invalid", f'Method "{method}" not allowed.')
        return routes[method]

    def _integration_routes(self, integration_id: int, subpath: str) -> dict[str, Callable[[bytes], Reply]]:
        if subpath == "/mapping":
            return {"PUT": lambda body: self._edit_mapping(integration_id, body)}
        if subpath:
            external_id = urllib.parse.unquote(subpath.removeprefix("/statuses/"))
            return {
                "PUT": lambda body: self._rename_status(integration_id, external_id, body),
                "DELETE": lambda body: self._delete_status(integration_id, external_id),
            }
        return {
            "GET": lambda body: self._show_integration(integration_id),
            "DELETE": lambda body: self._remove_integration(integration_id),
        }

    def _list_requests(self, body: bytes) -> Reply:
        return json_reply(200, [r.as_json() for r in self.store.requests()])

    def _clear_requests(self, body: bytes) -> Reply:
        self.store.clear_requests()
        return _NO_CONTENT

    def _list_faults(self, body: bytes) -> Reply:
        return json_reply(
            200, [{**rule.model_dump(), "remaining": left} for rule, left in self.store.faults()]
        )

    def _add_fault(self, body: bytes) -> Reply:
        rule = parse_body(body, FaultRule)
        self.store.add_fault(rule)
        return json_reply(201, rule.model_dump())

    def _clear_faults(self, body: bytes) -> Reply:
        self.store.clear_faults()
        return _NO_CONTENT

    def _count_tokens(self, body: bytes) -> Reply:
        return json_reply(200, {"issued": self.store.tokens_issued()})

    def _expire_tokens(self, body: bytes) -> Reply:
        self.store.expire_tokens()
        return _NO_CONTENT

    def _add_integration(self, body: bytes) -> Reply:
        integration = parse_body(body, IntegrationSeed).integration()
        try:
            self.store.add_integration(integration)
        except ValueError as exc:
            raise rejection(409, "invalid", str(exc)) from None
        return json_reply(201, integration.record_json())

    def _show_integration(self, integration_id: int) -> Reply:
        integration = self.store.integration(integration_id)
        if integration is None:
            raise not_found(f"integration {integration_id} not found")
        return json_reply(200, integration.record_json())

    def _remove_integration(self, integration_id: int) -> Reply:
        self.store.remove_integration(integration_id)
        return _NO_CONTENT

    def _edit_mapping(self, integration_id: int, body: bytes) -> Reply:
        changes = parse_body(body, MappingEdit).root
        integration = self.store.edit_mapping(integration_id, {c.value: e for c, e in changes.items()})
        return json_reply(200, integration.record_json())

    def _rename_status(self, integration_id: int, external_id: str, body: bytes) -> Reply:
        name = parse_body(body, StatusRename).name
        renamed = self.store.rename_status(
            integration_id,
            external_id,
            translations(name if isinstance(name, str) else {str(k): v for k, v in name.items()}),
        )
        return json_reply(200, renamed.record_json())

    def _delete_status(self, integration_id: int, external_id: str) -> Reply:
        return json_reply(200, self.store.delete_status(integration_id, external_id).record_json())
