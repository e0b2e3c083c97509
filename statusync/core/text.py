"""Text from files and the API, made safe to show: names and paths may hold anything."""

from __future__ import annotations

import json


def printable(text: str) -> str:
    """`text` with control characters escaped (`\\n`, `\\u001b`), so that a shop name cannot
    move the cursor, recolour a terminal or forge an extra line of output."""
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def quote(text: str) -> str:
    """`text` as a YAML double-quoted scalar."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
