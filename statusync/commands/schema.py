"""`statusync schema`: the JSON Schema of a mapping file, for editors."""

from __future__ import annotations

import json

from statusync.console import Console
from statusync.errors import OK


def run(console: Console) -> int:
    from statusync.core.schema import mapping_schema

    json.dump(mapping_schema(), console.out, indent=2)
    console.out.write("\n")
    return OK
