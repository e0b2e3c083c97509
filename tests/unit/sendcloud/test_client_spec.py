"""The client against Sendcloud's published OpenAPI document: what it sends validates against the
request schema, and every response example of the endpoints it uses parses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from ruamel.yaml import YAML

from statusync.errors import ApiError
from statusync.sendcloud.client import SendcloudClient
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.ratelimit import TokenBucket

SPEC_PATH = Path(__file__).resolve().parents[3] / "spec/sendcloud-integrations-openapi.yaml"
SHARED_SPEC = Path(__file__).resolve().parents[4] / "shared/sendcloud/integrations-openapi.yaml"
SPEC: dict[str, Any] = YAML(typ="safe").load(SPEC_PATH.read_text(encoding="utf-8"))
SPEC_URI = "urn:sendcloud-integrations-openapi"

# The operations the client performs, each with the call that performs it.
CALLS: dict[tuple[str, str], Callable[[SendcloudClient], Any]] = {
    ("get", "/shop-order-statuses/mapping"): lambda c: c.get_mapping(23452345),
    ("post", "/shop-order-statuses/mapping"): lambda c: c.upsert_mapping(
        23452345, {"READY_TO_SEND": "11", "IN_TRANSIT": "11", "DELIVERED": "12", "CANCEL": None}
    ),
    ("get", "/shop-order-statuses"): lambda c: c.list_shop_statuses(23452345, show_deleted=True),
    ("get", "/integrations"): lambda c: c.list_integrations(),
    ("get", "/integrations/{id}"): lambda c: c.get_integration(23452345),
}


def resolve(node: Any) -> Any:
    """`node`, or what its local `$ref` points at."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def response_examples() -> list[Any]:
    """(method, path, status, example value) for every example of every operation the client uses,
    plus the shared 401 examples, which the document defines apart from the operations."""
    cases = []
    for method, path in CALLS:
        for status, response in SPEC["paths"][path][method]["responses"].items():
            for name, example in resolve(response)["content"]["application/json"]["examples"].items():
                cases.append(
                    pytest.param(
                        method,
                        path,
                        int(status),
                        resolve(example)["value"],
                        id=f"{method} {path} {status} {name}",
                    )
                )
    unauthorized = SPEC["components"]["responses"]["Unauthorized"]["content"]["application/json"]
    for name, example in unauthorized["examples"].items():
        for method, path in CALLS:
            cases.append(pytest.param(method, path, 401, example["value"], id=f"{method} {path} 401 {name}"))
    return cases


def serve(status: int, body: Any) -> tuple[SendcloudClient, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, json=body)

    bucket = TokenBucket(10**6, 10**6)
    client = SendcloudClient(
        "https://panel.sendcloud.sc/api/v3",
        Credentials("pk", "sk-secret"),
        post_limiter=bucket,
        get_limiter=bucket,
        transport=httpx.MockTransport(handle),
        sleep=lambda s: None,
    )
    return client, requests


@pytest.mark.parametrize(
    "mapping",
    [
        {"READY_TO_SEND": "11", "IN_TRANSIT": "11", "DELIVERED": "12", "CANCEL": None},
        {"READY_TO_SEND": None, "IN_TRANSIT": None, "DELIVERED": None, "CANCEL": None},
        {"READY_TO_SEND": "Send-4", "IN_TRANSIT": "17-B", "DELIVERED": "15", "CANCEL": "0"},
        {"CANCEL": "x", "DELIVERED": None, "IN_TRANSIT": "y", "READY_TO_SEND": "z"},
    ],
)
def test_every_request_body_matches_the_published_schema(mapping: dict[str, str | None]) -> None:
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/create-custom-status-mapping"}, registry=registry
    )
    client, requests = serve(200, None)
    client.upsert_mapping(23452345, mapping)
    client.upsert_mapping(1, mapping)
    assert len(requests) == 2
    for request in requests:
        body = json.loads(request.content)
        validator.validate(body)
        assert [e["status_category"] for e in body["mapping"]] == [
            "READY_TO_SEND",
            "IN_TRANSIT",
            "DELIVERED",
            "CANCEL",
        ]


@pytest.mark.parametrize(("method", "path", "status", "example"), response_examples())
def test_every_response_example_is_understood(method: str, path: str, status: int, example: Any) -> None:
    client, _ = serve(status, example)
    call = CALLS[(method, path)]
    if status >= 400:
        with pytest.raises(ApiError) as caught:
            call(client)
        assert caught.value.status == status
        assert caught.value.detail == "; ".join(e["detail"] for e in example["errors"])
        return
    result = call(client)
    if example is None:
        assert result is None
    elif path == "/shop-order-statuses/mapping":
        data = example["data"]
        assert result.integration_id == data["integration_id"]
        assert [(e.category, e.external_id, e.is_valid) for e in result.entries] == [
            (m["status_category"], m["external_id"], m["is_valid"]) for m in data["mapping"]
        ]
    elif path == "/shop-order-statuses":
        assert [(s.external_id, s.status, s.deleted_at and s.deleted_at.isoformat()) for s in result] == [
            (s["external_id"], s["status"], s["deleted_at"] and s["deleted_at"].replace("Z", "+00:00"))
            for s in example["data"]
        ]
    else:
        items = example["data"] if isinstance(example["data"], list) else [example["data"]]
        parsed = result if isinstance(result, list) else [result]
        assert [(i.id, i.shop_name, i.type) for i in parsed] == [
            (i["id"], i["shop_name"], i["type"]) for i in items
        ]


def test_every_used_operation_has_examples() -> None:
    # Guards the test above against silently testing nothing after a spec update.
    covered = {(p.values[0], p.values[1]) for p in response_examples()}
    assert covered == set(CALLS)


@pytest.mark.skipif(
    not SHARED_SPEC.exists(),
    reason=(
        f"{SHARED_SPEC} is not there: that is the project's reference copy of Sendcloud's published "
        f"API document, beside the repository only in the project's own workspace and CI; without "
        f"it nothing can tell whether {SPEC_PATH.name}, the copy the tests use, was edited (every "
        "other test still runs against that copy)"
    ),
)
def test_vendored_spec_is_the_shared_reference() -> None:
    assert SPEC_PATH.read_bytes() == SHARED_SPEC.read_bytes()
