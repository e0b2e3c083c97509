from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from statusync.core.model import IntegrationSpec
from statusync.core.schema import mapping_schema

EXAMPLE = """\
# mappings/acme-nl.yaml
integration_id: 23452345      # required: Sendcloud integration id, positive integer
name: ACME NL                 # optional: free text for humans
account: default              # optional: credentials profile from statusync.yaml; default "default"
mapping:                      # required: all four categories, each a shop external_id or null
  READY_TO_SEND: "11"
  IN_TRANSIT: "11"
  DELIVERED: "12"
  CANCEL: null
"""


def as_data(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def validator() -> jsonschema.protocols.Validator:
    schema = mapping_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_the_schema_is_a_valid_2020_12_schema_with_a_title() -> None:
    schema = mapping_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "statusync mapping file"
    assert schema["description"]
    assert "$id" not in schema
    assert isinstance(validator(), jsonschema.Draft202012Validator)
    json.dumps(schema)  # printable as is by `statusync schema`


def test_the_schema_is_generated_from_the_model() -> None:
    assert mapping_schema() == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **IntegrationSpec.model_json_schema(),
    }


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE,
        "integration_id: 1\nmapping: {READY_TO_SEND: null, IN_TRANSIT: null, DELIVERED: null, "
        "CANCEL: null}\n",
    ],
)
def test_valid_files_validate(text: str) -> None:
    assert list(validator().iter_errors(as_data(text))) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("integration_id"), []),
        (lambda d: d.update(integration_id="23452345"), ["integration_id"]),
        (lambda d: d.update(integration_id=0), ["integration_id"]),
        (lambda d: d.update(colour="red"), []),
        (lambda d: d["mapping"].pop("CANCEL"), ["mapping"]),
        (lambda d: d["mapping"].update(DELIVRED="12"), ["mapping"]),
        (lambda d: d["mapping"].update(DELIVERED=""), ["mapping", "DELIVERED"]),
        (lambda d: d["mapping"].update(DELIVERED=1.5), ["mapping", "DELIVERED"]),
        (lambda d: d["mapping"].update(DELIVERED=True), ["mapping", "DELIVERED"]),
        (lambda d: d.update(account=""), ["account"]),
    ],
)
def test_invalid_files_are_rejected(change: Any, path: list[str]) -> None:
    data = as_data(EXAMPLE)
    change(data)
    errors = list(validator().iter_errors(data))
    assert errors and [list(e.absolute_path) for e in errors] == [path]
