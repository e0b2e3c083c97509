"""The sandbox over real HTTP on 127.0.0.1: it answers and refuses like Sendcloud's Integrations API
(checked against the published OpenAPI document), and its test controls work."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from statusync.core.model import CATEGORIES, IntegrationSpec
from statusync.errors import StatusyncError
from statusync.sandbox import (
    DEMO_CREDENTIALS,
    FaultRule,
    SandboxOptions,
    SandboxServer,
    SandboxStore,
    StoredIntegration,
    StoredStatus,
    demo_credentials,
    load_seed,
    load_seed_file,
    seed_from_specs,
)
from statusync.sandbox.limits import CredentialLimit
from statusync.sendcloud.credentials import Credentials
from tests.support.gate import Gate, mapping_writes
from tests.support.processes import read_until

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = YAML(typ="safe").load(
    (ROOT / "spec/sendcloud-integrations-openapi.yaml").read_text(encoding="utf-8")
)
KEYS = Credentials("pk-test", "sk-test")
SHOP, OTHER_SHOP, SHOPIFY = 5, 6, 7
# Plain http only: one context for all clients spares httpx loading CA certificates for each one.
HTTP_ONLY = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def schema_errors(instance: Any, pointer: str) -> list[str]:
    """Why `instance` does not match the spec's schema at `pointer` (a JSON pointer)."""
    validator = Draft202012Validator({**SPEC, "$ref": "#" + pointer})
    return [e.message for e in validator.iter_errors(instance)]


def response_schema(path: str, method: str = "get", status: str = "200") -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"


ERRORS = "/components/schemas/errors"


def status(external_id: str, deleted: bool = False) -> StoredStatus:
    return StoredStatus(
        external_id,
        (("en-gb", f"Status {external_id}"), ("nl-nl", "Status NL")),
        "2024-01-01T00:00:00Z" if deleted else None,
    )


def make_store() -> SandboxStore:
    return SandboxStore(
        [
            StoredIntegration(
                SHOP, "ACME NL", statuses=(status("11"), status("12"), status("13", deleted=True))
            ),
            StoredIntegration(OTHER_SHOP, "ACME DE", statuses=(status("11"),)),
            StoredIntegration(SHOPIFY, "Shopify shop", type="shopify"),
        ]
    )


def body(mapping: dict[str, str | None], integration_id: int = SHOP) -> dict[str, Any]:
    return {
        "integration_id": integration_id,
        "mapping": [{"status_category": c, "external_id": e} for c, e in mapping.items()],
    }


FULL = {"READY_TO_SEND": "11", "IN_TRANSIT": "11", "DELIVERED": "12", "CANCEL": None}

Start = Callable[..., SandboxServer]


@pytest.fixture
def start(start_sandbox: Start) -> Start:
    def _start(
        options: SandboxOptions | None = None, store: SandboxStore | None = None, **kwargs: Any
    ) -> SandboxServer:
        return start_sandbox(store or make_store(), KEYS, options, **kwargs)

    return _start


@pytest.fixture
def server(start: Start) -> SandboxServer:
    return start()


def client_for(server: SandboxServer, auth: tuple[str, str] | None = ("pk-test", "sk-test")) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=auth, trust_env=False, timeout=5, verify=HTTP_ONLY)


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with client_for(server) as c:
        yield c


@pytest.fixture
def admin(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.admin_url, trust_env=False, timeout=5, verify=HTTP_ONLY) as c:
        yield c


def live_mapping(client: httpx.Client, integration_id: int = SHOP) -> dict[str, tuple[str | None, bool]]:
    """category -> (external_id, is_valid), as the API reports it."""
    r = client.get("/shop-order-statuses/mapping", params={"integration_id": integration_id})
    assert r.status_code == 200, r.text
    return {m["status_category"]: (m["external_id"], m["is_valid"]) for m in r.json()["data"]["mapping"]}


def assert_error(r: httpx.Response, status_code: int, code: str, detail_part: str = "") -> None:
    assert r.status_code == status_code, r.text
    assert schema_errors(r.json(), ERRORS) == []
    errors = r.json()["errors"]
    assert all(e["status"] == str(status_code) for e in errors)
    assert any(e["code"] == code and detail_part in e["detail"] for e in errors), errors


def port_of(url: str) -> int:
    port = httpx.URL(url).port
    assert port is not None
    return port


def basic(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


# Auth ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, title",
    [
        ({}, "No credentials"),
        ({"Authorization": "Bearer abc"}, "Invalid token"),  # not a token the sandbox issued
        ({"Authorization": basic("pk-test", "wrong-secret")}, "Invalid username/password."),
        ({"Authorization": basic("wrong-public", "sk-test")}, "Invalid username/password."),
        ({"Authorization": basic("pk-test", "")}, "Invalid username/password."),
        ({"Authorization": "Basic not*base64"}, "Invalid username/password."),
    ],
)
def test_requests_without_the_right_key_pair_get_401(
    server: SandboxServer, headers: dict[str, str], title: str
) -> None:
    with client_for(server, auth=None) as c:
        r = c.get("/integrations", headers=headers)
    assert_error(r, 401, "authentication_failed")
    assert r.json()["errors"][0]["title"] == title
    assert "wrong" not in r.text and "sk-test" not in r.text  # never echoes credentials


def test_the_right_key_pair_is_accepted(client: httpx.Client) -> None:
    assert client.get("/integrations").status_code == 200


# Integrations -------------------------------------------------------------------------------------


def test_lists_integrations(client: httpx.Client) -> None:
    r = client.get("/integrations")
    assert [i["id"] for i in r.json()["data"]] == [SHOP, OTHER_SHOP, SHOPIFY]
    assert r.json()["data"][0]["shop_name"] == "ACME NL"
    assert schema_errors(r.json(), response_schema("/integrations")) == []


def test_gets_one_integration_of_any_type(client: httpx.Client) -> None:
    r = client.get(f"/integrations/{SHOPIFY}")
    assert r.json()["data"]["type"] == "shopify"
    assert schema_errors(r.json(), response_schema("/integrations/{id}")) == []


def test_unknown_integration_is_404(client: httpx.Client) -> None:
    assert_error(client.get("/integrations/999"), 404, "not_found", "could not be found")


# Shop order statuses ------------------------------------------------------------------------------


def test_lists_live_statuses_unless_asked_for_deleted_ones(client: httpx.Client) -> None:
    live = client.get("/shop-order-statuses", params={"integration_id": SHOP}).json()
    assert [(s["external_id"], s["status"], s["deleted_at"]) for s in live["data"]] == [
        ("11", "Status 11", None),
        ("12", "Status 12", None),
    ]
    assert live["data"][0]["translations"][0] == {"status": "Status 11", "language": "en-gb"}
    every = client.get("/shop-order-statuses", params={"integration_id": SHOP, "show_deleted": "true"}).json()
    assert [s["external_id"] for s in every["data"]] == ["11", "12", "13"]
    assert every["data"][2]["deleted_at"] == "2024-01-01T00:00:00Z"
    for answer in (live, every):
        assert schema_errors(answer, response_schema("/shop-order-statuses")) == []


def test_status_names_follow_the_language_asked_for(client: httpx.Client) -> None:
    r = client.get("/shop-order-statuses", params={"integration_id": SHOP, "language": "nl-nl"})
    assert r.json()["data"][0]["status"] == "Status NL"


def test_posting_statuses_replaces_them_and_deletes_the_missing(client: httpx.Client) -> None:
    assert client.post("/shop-order-statuses/mapping", json=body(FULL)).status_code == 200
    r = client.post(
        "/shop-order-statuses",
        json={
            "integration_id": SHOP,
            "statuses": [
                {"external_id": "11", "translations": [{"status": "Shipped", "language": "en-gb"}]},
                {"external_id": "20", "translations": [{"status": "New", "language": "en-gb"}]},
            ],
        },
    )
    assert (r.status_code, r.json()) == (200, None)
    assert schema_errors(r.json(), response_schema("/shop-order-statuses", "post")) == []
    live = client.get("/shop-order-statuses", params={"integration_id": SHOP}).json()["data"]
    assert [(s["external_id"], s["status"]) for s in live] == [("11", "Shipped"), ("20", "New")]
    assert live_mapping(client)["DELIVERED"] == ("12", False)


# Mapping ------------------------------------------------------------------------------------------


def test_a_never_mapped_integration_has_four_null_categories(client: httpx.Client) -> None:
    r = client.get("/shop-order-statuses/mapping", params={"integration_id": SHOP})
    assert r.json() == {
        "data": {
            "integration_id": SHOP,
            "mapping": [{"status_category": c, "external_id": None, "is_valid": True} for c in CATEGORIES],
        }
    }
    assert schema_errors(r.json(), response_schema("/shop-order-statuses/mapping")) == []


def test_upserts_a_mapping(client: httpx.Client) -> None:
    r = client.post("/shop-order-statuses/mapping", json=body(FULL))
    assert (r.status_code, r.content) == (200, b"null")
    assert schema_errors(r.json(), response_schema("/shop-order-statuses/mapping", "post")) == []
    assert live_mapping(client) == {c: (e, True) for c, e in FULL.items()}
    assert live_mapping(client, OTHER_SHOP)["READY_TO_SEND"] == (None, True)


def test_a_deleted_shop_status_makes_its_mapping_invalid(client: httpx.Client, admin: httpx.Client) -> None:
    client.post("/shop-order-statuses/mapping", json=body(FULL))
    assert admin.delete(f"/integrations/{SHOP}/statuses/12").status_code == 200
    assert live_mapping(client) == {
        "READY_TO_SEND": ("11", True),
        "IN_TRANSIT": ("11", True),
        "DELIVERED": ("12", False),
        "CANCEL": (None, True),
    }
    r = client.get("/shop-order-statuses/mapping", params={"integration_id": SHOP})
    assert schema_errors(r.json(), response_schema("/shop-order-statuses/mapping")) == []


def entries(*pairs: tuple[Any, Any]) -> list[dict[str, Any]]:
    return [{"status_category": c, "external_id": e} for c, e in pairs]


FOUR = entries(*FULL.items())


@pytest.mark.parametrize(
    "payload, code, detail",
    [
        (b"not json", "non_field_errors", "Wrong request format, expected object"),
        (b"[1, 2]", "non_field_errors", "Wrong request format, expected object"),
        (b"\xff\xfe", "non_field_errors", "Wrong request format, expected object"),
        ({"mapping": FOUR}, "required", "integration_id: Field required"),
        (
            {"integration_id": "5", "mapping": FOUR},
            "invalid",
            "integration_id: Input should be a valid integer",
        ),
        ({"integration_id": True, "mapping": FOUR}, "invalid", "integration_id"),
        ({"integration_id": SHOP}, "required", "mapping: Field required"),
        ({"integration_id": SHOP, "mapping": {"READY_TO_SEND": "11"}}, "not_a_list", "mapping"),
        ({"integration_id": SHOP, "mapping": FOUR[:3]}, "invalid", "at least 4 items"),
        ({"integration_id": SHOP, "mapping": FOUR + FOUR[:1]}, "invalid", "at most 4 items"),
        (
            {"integration_id": SHOP, "mapping": FOUR[:3] + FOUR[:1]},
            "invalid",
            "each status category must appear exactly once; READY_TO_SEND appears 2 times; missing CANCEL",
        ),
        (
            {"integration_id": SHOP, "mapping": FOUR[:3] + entries(("CANCELLED", None))},
            "invalid_choice",
            "mapping[3].status_category: Input should be",
        ),
        (
            {"integration_id": SHOP, "mapping": FOUR[:3] + entries(("CANCEL", 12))},
            "invalid",
            "mapping[3].external_id: Input should be a valid string",
        ),
        (
            {"integration_id": SHOP, "mapping": FOUR[:3] + [{"status_category": "CANCEL"}]},
            "required",
            "mapping[3].external_id: Field required",
        ),
        ({"integration_id": SHOP, "mapping": FOUR[:3] + [None]}, "null", "mapping[3]"),
    ],
)
def test_invalid_mapping_bodies_get_400(client: httpx.Client, payload: Any, code: str, detail: str) -> None:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    assert_error(client.post("/shop-order-statuses/mapping", content=raw), 400, code, detail)
    assert live_mapping(client)["READY_TO_SEND"] == (None, True)


@pytest.mark.parametrize("external_id", ["99", "13"], ids=["unknown", "deleted"])
def test_a_mapping_to_a_status_the_shop_lacks_gets_400(client: httpx.Client, external_id: str) -> None:
    r = client.post("/shop-order-statuses/mapping", json=body({**FULL, "CANCEL": external_id}))
    assert_error(r, 400, "invalid", f"CANCEL: external_id '{external_id}' is not an available")
    assert r.json()["errors"][0]["source"] == {"pointer": "/mapping/3/external_id"}
    assert live_mapping(client)["READY_TO_SEND"] == (None, True)


@pytest.mark.parametrize("path", ["/shop-order-statuses/mapping", "/shop-order-statuses"])
@pytest.mark.parametrize(
    "params, code, detail",
    [
        ({}, "non_field_errors", "Integration ID is a required GET parameter"),
        ({"integration_id": ""}, "non_field_errors", "Integration ID is a required GET parameter"),
        ({"integration_id": "abc"}, "invalid", "Integration ID must be an integer"),
        ({"integration_id": "5.0"}, "invalid", "Integration ID must be an integer"),
    ],
)
def test_integration_id_parameter_is_required_and_an_integer(
    client: httpx.Client, path: str, params: dict[str, str], code: str, detail: str
) -> None:
    assert_error(client.get(path, params=params), 400, code, detail)


@pytest.mark.parametrize("params", [{"show_deleted": "maybe"}, {"language": "xx-xx"}])
def test_status_list_parameters_are_checked(client: httpx.Client, params: dict[str, str]) -> None:
    r = client.get("/shop-order-statuses", params={"integration_id": SHOP, **params})
    assert_error(r, 400, r.json()["errors"][0]["code"], next(iter(params)))


def calls(integration_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", "/shop-order-statuses/mapping", {"params": {"integration_id": integration_id}}),
        ("GET", "/shop-order-statuses", {"params": {"integration_id": integration_id}}),
        ("POST", "/shop-order-statuses/mapping", {"json": body(FULL, integration_id)}),
        ("POST", "/shop-order-statuses", {"json": {"integration_id": integration_id, "statuses": []}}),
    ]


@pytest.mark.parametrize("method, path, kwargs", calls(999))
def test_unknown_integrations_are_404(
    client: httpx.Client, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    assert_error(client.request(method, path, **kwargs), 404, "not_found")


@pytest.mark.parametrize("method, path, kwargs", calls(SHOPIFY))
def test_only_prestashop_v2_integrations_have_statuses(
    client: httpx.Client, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    assert_error(client.request(method, path, **kwargs), 400, "invalid", "only supported for PrestaShop V2")


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    assert_error(client.get("/carriers"), 404, "not_found")
    assert_error(client.delete("/shop-order-statuses/mapping"), 405, "invalid")
    assert_error(client.get(client.base_url.join("/elsewhere")), 404, "not_found")


# Faults, rate limits, latency ---------------------------------------------------------------------


def test_a_status_fault_hits_n_times_then_requests_succeed(start: Start) -> None:
    server = start(
        SandboxOptions(faults=(FaultRule(method="POST", integration_id=SHOP, status=503, times=2),))
    )
    with client_for(server) as c:
        answers = [c.post("/shop-order-statuses/mapping", json=body(FULL)) for _ in range(3)]
        assert (
            c.post(
                "/shop-order-statuses/mapping", json=body({**FULL, "DELIVERED": None}, OTHER_SHOP)
            ).status_code
            == 200
        )
    assert [r.status_code for r in answers] == [503, 503, 200]
    assert_error(answers[0], 503, "invalid")
    assert [(r.integration_id, r.status) for r in server.store.requests()] == [
        (SHOP, 503),
        (SHOP, 503),
        (SHOP, 200),
        (OTHER_SHOP, 200),
    ]


def test_faults_are_added_and_cleared_over_http(client: httpx.Client, admin: httpx.Client) -> None:
    rule = {
        "method": "get",
        "path": "/shop-order-statuses/mapping",
        "status": 400,
        "code": "invalid",
        "detail": "injected: bad day",
    }
    assert admin.post("/faults", json=rule).status_code == 201
    assert admin.get("/faults").json()[0]["remaining"] is None
    assert_error(
        client.get("/shop-order-statuses/mapping", params={"integration_id": SHOP}),
        400,
        "invalid",
        "injected: bad day",
    )
    assert client.get("/shop-order-statuses", params={"integration_id": SHOP}).status_code == 200
    assert admin.delete("/faults").status_code == 204
    assert live_mapping(client)["CANCEL"] == (None, True)


@pytest.mark.parametrize(
    "rule",
    [
        {"method": "POST"},
        {"method": "POST", "status": 503, "drop": True},
        {"method": "POST", "status": 200},
        {"method": "POST", "drop": True, "times": 0},
        {"method": "POST", "drop": True, "colour": "red"},
    ],
)
def test_invalid_fault_rules_are_refused(admin: httpx.Client, rule: dict[str, Any]) -> None:
    assert admin.post("/faults", json=rule).status_code == 400
    assert admin.get("/faults").json() == []


def test_a_drop_fault_closes_the_connection_without_a_response(
    client: httpx.Client, admin: httpx.Client
) -> None:
    admin.post("/faults", json={"method": "POST", "integration_id": SHOP, "drop": True, "times": 1})
    with pytest.raises(httpx.TransportError):
        client.post("/shop-order-statuses/mapping", json=body(FULL))
    assert client.post("/shop-order-statuses/mapping", json=body(FULL)).status_code == 200
    assert [r["status"] for r in admin.get("/requests").json()] == [None, 200]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limits_answer_429_with_retry_after(start: Start) -> None:
    clock = FakeClock()
    server = start(SandboxOptions(post_per_minute=1, get_per_minute=2), clock=clock)
    with client_for(server) as c:
        assert c.post("/shop-order-statuses/mapping", json=body(FULL)).status_code == 200
        r = c.post("/shop-order-statuses/mapping", json=body(FULL))
        assert_error(r, 429, "invalid", "throttled")
        assert r.headers["Retry-After"] == "60"
        assert [c.get("/integrations").status_code for _ in range(3)] == [200, 200, 429]
        assert c.get("/integrations").headers["Retry-After"] == "30"
        clock.now += 60
        assert c.post("/shop-order-statuses/mapping", json=body(FULL)).status_code == 200


def test_each_credential_has_limits_of_its_own(start_sandbox: Start) -> None:
    # As Sendcloud's limits are per account: one account at its limit leaves another's untouched,
    # an OAuth2 client's tokens count against that client, and a credential may have its own limit.
    other = Credentials("pk-other", "sk-other")
    clock = FakeClock()
    server = start_sandbox(
        make_store(),
        [KEYS, other],
        SandboxOptions(get_per_minute=2, per_credential=(CredentialLimit("pk-other", get_per_minute=3),)),
        clock=clock,
    )
    with client_for(server) as first, client_for(server, ("pk-other", "sk-other")) as second:
        assert [first.get("/integrations").status_code for _ in range(3)] == [200, 200, 429]
        assert [second.get("/integrations").status_code for _ in range(4)] == [200, 200, 200, 429]
    token = httpx.post(
        server.token_url,
        auth=("pk-test", "sk-test"),
        data={"grant_type": "client_credentials"},
        trust_env=False,
    ).json()["access_token"]
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False, timeout=5
    ) as bearer:
        assert bearer.get("/integrations").status_code == 429  # the first key pair's bucket
    clock.now += 30
    with client_for(server, None) as wrong:
        assert wrong.get("/integrations", auth=("pk-other", "sk-test")).status_code == 401


def test_the_rate_limit_counts_a_request_as_it_arrives_not_after_its_latency(start: Start) -> None:
    # Two requests against a limit of one a minute; the first to arrive is answered last. The
    # limit counts arrivals, as Sendcloud's does: a latency that takes longer for one request
    # (a sleep overshooting on a busy machine) does not change which one is over the limit.
    held = [threading.Event(), threading.Event()]
    waiting: list[threading.Event] = []
    lock = threading.Lock()

    def latency(_seconds: float) -> None:
        with lock:
            event = held[len(waiting)]
            waiting.append(event)
        assert event.wait(10)

    server = start(SandboxOptions(latency=1, get_per_minute=1), clock=FakeClock(), sleep=latency)
    answers: dict[str, int] = {}

    def get(name: str) -> None:
        with client_for(server) as c:
            answers[name] = c.get("/integrations").status_code

    first = threading.Thread(target=get, args=("first",))
    first.start()
    while len(waiting) < 1:
        time.sleep(0.001)
    second = threading.Thread(target=get, args=("second",))
    second.start()
    while len(waiting) < 2:
        time.sleep(0.001)
    held[1].set()
    second.join(10)
    held[0].set()
    first.join(10)
    assert answers == {"first": 200, "second": 429}


def test_latency_is_added_to_api_requests_only(start: Start) -> None:
    slept: list[float] = []
    server = start(SandboxOptions(latency=0.25), sleep=slept.append)
    with client_for(server) as c:
        c.get("/integrations")
        c.post("/shop-order-statuses/mapping", json=body(FULL))
    httpx.get(server.admin_url + "/requests", trust_env=False)
    assert slept == [0.25, 0.25]


# Request log and admin ----------------------------------------------------------------------------


def test_the_request_log_lists_api_requests(client: httpx.Client, admin: httpx.Client) -> None:
    client.get("/integrations")
    client.get(f"/integrations/{SHOP}")
    client.get("/shop-order-statuses/mapping", params={"integration_id": OTHER_SHOP})
    client.post("/shop-order-statuses/mapping", json=body(FULL))
    assert admin.get("/requests").json() == [
        {
            "method": "GET",
            "path": "/api/v3/integrations",
            "integration_id": None,
            "status": 200,
            "partner_id": None,
        },
        {
            "method": "GET",
            "path": f"/api/v3/integrations/{SHOP}",
            "integration_id": SHOP,
            "status": 200,
            "partner_id": None,
        },
        {
            "method": "GET",
            "path": "/api/v3/shop-order-statuses/mapping",
            "integration_id": OTHER_SHOP,
            "status": 200,
            "partner_id": None,
        },
        {
            "method": "POST",
            "path": "/api/v3/shop-order-statuses/mapping",
            "integration_id": SHOP,
            "status": 200,
            "partner_id": None,
        },
    ]
    assert admin.delete("/requests").status_code == 204
    assert admin.get("/requests").json() == []


def test_editing_a_mapping_by_hand(client: httpx.Client, admin: httpx.Client) -> None:
    client.post("/shop-order-statuses/mapping", json=body(FULL))
    r = admin.put(f"/integrations/{SHOP}/mapping", json={"DELIVERED": "11", "CANCEL": "gone"})
    assert r.json()["mapping"] == {**FULL, "DELIVERED": "11", "CANCEL": "gone"}
    assert live_mapping(client)["DELIVERED"] == ("11", True)
    assert live_mapping(client)["CANCEL"] == ("gone", False)
    assert admin.put(f"/integrations/{SHOP}/mapping", json={"DELIVRED": "11"}).status_code == 400
    assert admin.put(f"/integrations/{SHOP}/mapping", json=["11"]).status_code == 400
    assert admin.put("/integrations/999/mapping", json={}).status_code == 404


def test_adding_an_integration_and_reading_its_record(client: httpx.Client, admin: httpx.Client) -> None:
    new = {
        "id": 42,
        "shop_name": "New shop",
        "statuses": [{"external_id": "a/b", "status": "Paid"}, {"external_id": "old", "deleted": True}],
    }
    assert admin.post("/integrations", json=new).status_code == 201
    assert admin.post("/integrations", json=new).status_code == 409
    assert admin.post("/integrations", json={"id": "42"}).status_code == 400
    record = admin.get("/integrations/42").json()
    assert (record["shop_name"], record["type"]) == ("New shop", "prestashop_v2")
    assert [(s["external_id"], s["deleted_at"] is None) for s in record["statuses"]] == [
        ("a/b", True),
        ("old", False),
    ]
    assert record["mapping"] == dict.fromkeys(CATEGORIES)
    assert client.get("/integrations/42").status_code == 200
    assert admin.delete("/integrations/42/statuses/a%2Fb").json()["statuses"][0]["deleted_at"]
    assert admin.delete("/integrations/42/statuses/nope").status_code == 404
    assert admin.get("/integrations/999").status_code == 404
    assert admin.get("/nothing").status_code == 404


# Seeding and credentials --------------------------------------------------------------------------


def spec(integration_id: int, name: str | None, *external_ids: str | None) -> IntegrationSpec:
    return IntegrationSpec.model_validate(
        {
            "integration_id": integration_id,
            "name": name,
            "mapping": dict(zip(CATEGORIES, external_ids, strict=True)),
        }
    )


def test_seeding_from_specs_makes_every_apply_succeed(start: Start) -> None:
    specs = [spec(9, None, "1", "1", "2", None), spec(3, "ACME", "x", None, None, "y")]
    server = start(store=seed_from_specs(specs))
    with client_for(server) as c:
        integrations = c.get("/integrations").json()["data"]
        assert [(i["id"], i["shop_name"], i["type"]) for i in integrations] == [
            (3, "ACME", "prestashop_v2"),
            (9, "Shop 9", "prestashop_v2"),
        ]
        statuses = c.get("/shop-order-statuses", params={"integration_id": 9}).json()["data"]
        assert [(s["external_id"], s["status"]) for s in statuses] == [("1", "Status 1"), ("2", "Status 2")]
        for s in specs:
            assert live_mapping(c, s.integration_id) == {k: (None, True) for k in CATEGORIES}
            r = c.post("/shop-order-statuses/mapping", json=body(s.mapping.as_dict(), s.integration_id))
            assert r.status_code == 200, r.text


SEED = {
    "integrations": [
        {
            "id": 1,
            "shop_name": "Seeded",
            "statuses": [{"external_id": "11", "status": "Shipped"}, {"external_id": "12", "deleted": True}],
            "mapping": {"READY_TO_SEND": "11", "CANCEL": "12"},
        },
        {"id": 2, "type": "woocommerce"},
    ]
}


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_seeding_from_a_file(tmp_path: Path, start: Start, suffix: str) -> None:
    path = tmp_path / f"seed{suffix}"
    path.write_text(json.dumps(SEED) if suffix == ".json" else _yaml(SEED), encoding="utf-8")
    server = start(store=load_seed_file(path))
    with client_for(server) as c:
        assert live_mapping(c, 1) == {
            "READY_TO_SEND": ("11", True),
            "IN_TRANSIT": (None, True),
            "DELIVERED": (None, True),
            "CANCEL": ("12", False),
        }
        assert c.get("/integrations/2").json()["data"]["shop_name"] == "Shop 2"
        assert c.get("/shop-order-statuses", params={"integration_id": 2}).status_code == 400


def test_a_seed_file_adds_key_pairs_each_with_its_own_limits(tmp_path: Path, start_sandbox: Start) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(
        "integrations: [{id: 1}]\n"
        "credentials:\n"
        "  - {public_key: pk-eu, secret_key: sk-eu, get_per_minute: 1}\n"
        "  - {public_key: pk-us, secret_key: sk-us}\n",
        encoding="utf-8",
    )
    seed = load_seed(path)
    server = start_sandbox(
        seed.store,
        (KEYS, *seed.credentials),
        SandboxOptions(get_per_minute=2, per_credential=seed.limits),
        clock=FakeClock(),
    )
    with client_for(server, ("pk-eu", "sk-eu")) as eu, client_for(server, ("pk-us", "sk-us")) as us:
        assert [eu.get("/integrations").status_code for _ in range(2)] == [200, 429]
        assert [us.get("/integrations").status_code for _ in range(3)] == [200, 200, 429]
    with client_for(server) as first:
        assert first.get("/integrations").status_code == 200


def _yaml(data: Any) -> str:
    out = io.StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


@pytest.mark.parametrize(
    "content, message",
    [
        ("integrations: [{id: 1}, {id: 1}]", "integrations: duplicate integration id 1"),
        ("integrations: [{id: 1, colour: red}]", "integrations[0].colour: Extra inputs are not permitted"),
        ("integrations: [{id: 1, mapping: {DELIVRED: '1'}}]", "unknown status category 'DELIVRED'"),
        (
            "integrations: [{id: 1, statuses: [{external_id: 11}]}]",
            "integrations[0].statuses[0].external_id: Input should be a valid string",
        ),
        (
            "integrations: []\ncredentials: [{public_key: a, secret_key: b}, {public_key: a, secret_key: c}]",
            "credentials: duplicate public_key 'a'",
        ),
        (
            "integrations: []\ncredentials: [{public_key: a, secret_key: b, post_per_minute: 0}]",
            "credentials[0].post_per_minute: Input should be greater than 0",
        ),
        ("integrations: [", "not valid YAML"),
        ("", "(top): Input should be a valid dictionary"),
    ],
)
def test_invalid_seed_files_are_reported(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(StatusyncError, match="seed.yaml") as error:
        load_seed_file(path)
    assert message in str(error.value)


def test_missing_seed_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StatusyncError, match="cannot read seed file"):
        load_seed_file(tmp_path / "none.json")


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"SENDCLOUD_PUBLIC_KEY": "p", "SENDCLOUD_SECRET_KEY": "s"}, (Credentials("p", "s"), False)),
        ({"SENDCLOUD_PUBLIC_KEY": "p"}, (DEMO_CREDENTIALS, True)),
        ({}, (DEMO_CREDENTIALS, True)),
    ],
)
def test_demo_credentials(env: dict[str, str], expected: tuple[Credentials, bool]) -> None:
    assert demo_credentials(env) == expected


@pytest.mark.parametrize(
    "env",
    [
        {"SENDCLOUD_PUBLIC_KEY": "", "SENDCLOUD_SECRET_KEY": "s"},
        {"SENDCLOUD_PUBLIC_KEY": "p", "SENDCLOUD_SECRET_KEY": " "},
    ],
)
def test_an_empty_key_variable_is_an_error_not_the_demo_pair(env: dict[str, str]) -> None:
    with pytest.raises(
        StatusyncError,
        match=r"^the environment variable SENDCLOUD_\w+_KEY is set but "
        "empty; set it to the API .+ key the sandbox accepts",
    ):
        demo_credentials(env)


# Server lifecycle ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(StatusyncError, match="only on loopback"):
        SandboxServer(SandboxStore(), KEYS, host=host, port=0)


def test_serves_on_localhost_and_stops() -> None:
    local = SandboxServer(make_store(), KEYS, host="localhost", port=0)
    with local, client_for(local) as c:
        assert local.url.startswith("http://127.0.0.1:") and local.url.endswith("/api/v3")
        assert c.get("/integrations").status_code == 200
        local.stop()  # also ends the client's idle keep-alive connection
        with pytest.raises(httpx.TransportError):
            c.get("/integrations")


def test_serves_on_ipv6_loopback() -> None:
    try:
        server = SandboxServer(make_store(), KEYS, host="::1", port=0)
    except StatusyncError:
        pytest.skip("no IPv6 loopback here")
    with server, client_for(server) as c:
        assert server.url.startswith("http://[::1]:")
        assert c.get("/integrations").status_code == 200


def test_a_chunked_body_is_read(client: httpx.Client) -> None:
    raw = json.dumps(body(FULL)).encode()
    chunks = iter([raw[:10], raw[10:]])
    assert client.post("/shop-order-statuses/mapping", content=chunks).status_code == 200
    assert live_mapping(client)["DELIVERED"] == ("12", True)


@pytest.mark.parametrize("framing", [b"Content-Length: -1\r\n", b"Transfer-Encoding: chunked\r\n\r\nzz"])
def test_malformed_body_framing_is_refused(server: SandboxServer, framing: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port_of(server.url))) as sock:
        sock.sendall(b"POST /api/v3/shop-order-statuses/mapping HTTP/1.1\r\n" + framing + b"\r\n")
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Malformed request body framing" in answer


@pytest.mark.parametrize("length", [b"2000000", b"99999999999999", b"9" * 30])
def test_a_body_too_large_is_refused_before_it_is_read(
    server: SandboxServer, length: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    with socket.create_connection(("127.0.0.1", port_of(server.url))) as sock:
        sock.sendall(
            b"POST /api/v3/shop-order-statuses/mapping HTTP/1.1\r\nContent-Length: " + length + b"\r\n\r\n{"
        )
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"Request body too large" in answer
    assert "Traceback" not in capfd.readouterr().err


def test_an_expect_100_continue_is_answered_before_the_body_is_sent(server: SandboxServer) -> None:
    token = base64.b64encode(b"pk-test:sk-test")
    body = json.dumps({"integration_id": 1, "mapping": []}).encode()
    with socket.create_connection(("127.0.0.1", port_of(server.url)), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v3/shop-order-statuses/mapping HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
            + token
            + b"\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
        )
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 100 ")  # before any byte of the body
        assert reader.readline() == b"\r\n"
        sock.sendall(body)
        assert reader.readline().startswith(b"HTTP/1.1 400 ")  # the answer to the body itself


def test_a_port_in_use_is_an_error(server: SandboxServer) -> None:
    port = port_of(server.url)
    with pytest.raises(StatusyncError, match=f"cannot serve on 127.0.0.1:{port}"):
        SandboxServer(SandboxStore(), KEYS, port=port)


def test_concurrent_requests(client: httpx.Client, server: SandboxServer) -> None:
    results: list[int] = []

    def post(i: int) -> None:
        with client_for(server) as c:
            mapping = {**FULL, "CANCEL": "12" if i % 2 else None}
            results.append(c.post("/shop-order-statuses/mapping", json=body(mapping)).status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 16
    assert len(server.store.requests()) == 16


SERVE = """
import os, sys
from statusync.sandbox import SandboxOptions, demo_credentials, seed_from_specs, serve
credentials, _ = demo_credentials(os.environ)
serve("127.0.0.1", 0, seed_from_specs([]), credentials, SandboxOptions(), sys.stdout)
"""


REAL_KEYS = {"SENDCLOUD_PUBLIC_KEY": "pk-real", "SENDCLOUD_SECRET_KEY": "sk-real"}


@pytest.mark.parametrize("env, shown", [({}, True), (REAL_KEYS, False)], ids=["demo", "real"])
def test_serve_prints_a_banner_and_stops_quietly_on_ctrl_c(env: dict[str, str], shown: bool) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SENDCLOUD_")}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        cwd=ROOT,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    banner = "".join(iter(process.stdout.readline, "Press Ctrl-C to stop.\n"))
    url = banner.split("export STATUSYNC_API_URL=")[1].split()[0]
    auth = ("demo-public-key", "demo-secret-key") if shown else ("pk-real", "sk-real")
    assert httpx.get(url + "/integrations", auth=auth, trust_env=False).status_code == 200
    with socket.create_connection(("127.0.0.1", port_of(url))) as sock:  # a client hangs up
        sock.sendall(b"POST /api/v3/shop-order-statuses/mapping HTTP/1.1\r\nContent-Length: 99\r\n\r\n{")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert err == ""  # no request logs, no traceback from the hang-up or from Ctrl-C
    assert ("export SENDCLOUD_SECRET_KEY=demo-secret-key" in banner) is shown
    assert "sk-real" not in banner + out
    assert "stopped" in out


SERVE_HELD = """
import sys
from statusync.sandbox import DEMO_CREDENTIALS, SandboxOptions, seed_from_specs, serve
from tests.support.gate import Gate

gate = Gate()
gate.close()

def held(seconds):
    print("held", file=sys.stderr, flush=True)
    gate.sleep(seconds)

serve("127.0.0.1", 0, seed_from_specs([]), DEMO_CREDENTIALS, SandboxOptions(latency=1), sys.stdout,
      sleep=held)
"""


def test_ctrl_c_stops_serve_at_once_with_a_request_held_in_flight() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_HELD],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    banner = ""
    for line in process.stdout:  # up to the banner's end, or the end of a process that failed
        banner += line
        if line == "Press Ctrl-C to stop.\n":
            break
    assert "export STATUSYNC_API_URL=" in banner, process.communicate(timeout=10)
    port = port_of(banner.split("export STATUSYNC_API_URL=")[1].split()[0])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /api/v3/integrations HTTP/1.1\r\nHost: x\r\n\r\n")
        read_until(process, "held\n")  # the request waits at the gate
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
        took = time.monotonic() - started
    assert (process.returncode, out, err) == (0, "\nstatusync sandbox stopped\n", "")
    assert took < 1.0, f"the sandbox took {took:.1f} s to stop"


def test_a_gate_for_the_writes_holds_the_writes_and_lets_the_reads_through(start: Start) -> None:
    gate = Gate(holds=mapping_writes)
    gate.close()
    server = start(on_request=gate)
    with client_for(server) as client, ThreadPoolExecutor(1) as pool:
        write = pool.submit(client.post, "/shop-order-statuses/mapping", json=body(FULL))
        gate.wait_held(1)
        with client_for(server) as reader:  # answered while the write is held
            assert reader.get("/shop-order-statuses", params={"integration_id": SHOP}).status_code == 200
            assert (
                reader.get("/shop-order-statuses/mapping", params={"integration_id": SHOP}).status_code == 200
            )
        assert not write.done()
        gate.open()
        assert write.result(timeout=5).status_code == 200
    assert [(r.method, r.path) for r in server.store.requests()] == [
        ("GET", "/api/v3/shop-order-statuses"),
        ("GET", "/api/v3/shop-order-statuses/mapping"),
        ("POST", "/api/v3/shop-order-statuses/mapping"),
    ]


def test_stop_does_not_wait_for_a_request_held_in_flight() -> None:
    gate = Gate()
    gate.close()
    server = SandboxServer(
        seed_from_specs([]), DEMO_CREDENTIALS, SandboxOptions(latency=60), port=0, sleep=gate.sleep
    ).start()
    try:
        with socket.create_connection(("127.0.0.1", port_of(server.url))) as sock:
            sock.sendall(b"GET /api/v3/integrations HTTP/1.1\r\nHost: x\r\n\r\n")
            gate.wait_held(1)
            started = time.monotonic()
            server.stop()
            took = time.monotonic() - started
    finally:
        gate.open()
    assert took < 1.0, f"stop() took {took:.1f} s"


def test_admin_removes_an_integration(admin: httpx.Client, client: httpx.Client) -> None:
    assert admin.delete(f"/integrations/{SHOP}").status_code == 204
    assert client.get(f"/integrations/{SHOP}").status_code == 404
    assert SHOP not in [i["id"] for i in client.get("/integrations").json()["data"]]
    answer = client.post(
        "/shop-order-statuses/mapping",
        json={
            "integration_id": SHOP,
            "mapping": [{"status_category": c, "external_id": None} for c in CATEGORIES],
        },
    )
    assert answer.status_code == 404
    assert admin.delete(f"/integrations/{SHOP}").status_code == 404
