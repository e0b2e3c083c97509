"""The JSON Schema of a mapping file, generated from the model so the two cannot disagree."""

from __future__ import annotations

from typing import Any

from statusync.core.model import IntegrationSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def mapping_schema() -> dict[str, Any]:
    """For editors (e.g. a `# yaml-language-server: $schema=` line) and `statusync schema`."""
    return {"$schema": SCHEMA_DIALECT, **IntegrationSpec.model_json_schema()}
