"""The sandbox against Sendcloud's published OpenAPI document, checked by schemathesis: requests
generated from the spec's schemas (valid ones, and ones that break them) are sent over real HTTP
on loopback to the operations the sandbox serves, and every answer must conform to the spec:
documented status codes, response bodies valid against their schemas, content types and
headers, no server errors, invalid requests refused and undeclared methods answered 405.

Two of schemathesis's checks do not apply, by design:
- positive_data_acceptance: a request can be well formed and still name an integration or a
  shop status that does not exist; the API refuses it (400 or 404), and so does the sandbox;
- allow_header_conformance: the sandbox serves a subset of the spec's operations (not DELETE or
  PATCH /integrations/{id}), and its `Allow` header truthfully lists what it serves.

Generated integration ids are mostly ids no integration has; valid ones are mapped onto the
integrations the sandbox holds, so that the answers of found integrations are checked too.
The examples are few and derandomized, so that the run takes seconds and never fails by chance.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import allow_header_conformance, positive_data_acceptance

from statusync.sandbox import SandboxOptions, SandboxServer
from statusync.sandbox.seed import shop_status
from statusync.sandbox.store import SandboxStore, StoredIntegration
from statusync.sendcloud.credentials import Credentials

SPEC = Path(__file__).resolve().parents[2] / "spec" / "sendcloud-integrations-openapi.yaml"
# The operations the sandbox serves (statusync uses all but POST /shop-order-statuses).
SERVED = {
    ("GET", "/integrations"),
    ("GET", "/integrations/{id}"),
    ("GET", "/shop-order-statuses"),
    ("POST", "/shop-order-statuses"),
    ("GET", "/shop-order-statuses/mapping"),
    ("POST", "/shop-order-statuses/mapping"),
}
KEYS = ("pk-conformance", "sk-conformance")
SEEDED = (1, 2)

schema = schemathesis.openapi.from_path(SPEC).include(
    lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in SERVED
)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    store = SandboxStore(
        [
            StoredIntegration(
                id=i,
                shop_name=f"Shop {i}",
                statuses=(
                    shop_status("2", "Payment accepted"),
                    shop_status("4", "Shipped"),
                    shop_status("5", "Delivered", deleted=True),
                ),
                mapping=("2", "4", "5", None),
            )
            for i in SEEDED
        ]
    )
    sandbox = SandboxServer(store, Credentials(*KEYS), SandboxOptions(), port=0).start()
    yield sandbox
    sandbox.stop()


def test_the_served_operations_are_all_in_the_spec() -> None:
    # Guards the test below against silently testing less after a spec update.
    operations = {(o.method.upper(), o.path) for o in (result.ok() for result in schema.get_all_operations())}
    assert operations == SERVED


def _seeded(value: Any) -> Any:
    """A valid integration id (an int, or digits in a query) as one the sandbox holds."""
    if type(value) is int or (isinstance(value, str) and value.isdecimal() and value.isascii()):
        return SEEDED[int(value) % len(SEEDED)]
    return value  # a value that breaks the schema stays, to be refused


@schema.parametrize()
@settings(
    max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_the_sandbox_answers_as_the_spec_says(case: Any, server: SandboxServer) -> None:
    if case.query and "integration_id" in case.query:
        case.query["integration_id"] = _seeded(case.query["integration_id"])
    if isinstance(case.body, dict) and "integration_id" in case.body:
        case.body["integration_id"] = _seeded(case.body["integration_id"])
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = _seeded(case.path_parameters["id"])
    case.call_and_validate(
        base_url=server.url, auth=KEYS, excluded_checks=[positive_data_acceptance, allow_header_conformance]
    )
