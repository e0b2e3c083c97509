"""The layout's promises: the core does no I/O, the client knows nothing of the YAML layer,
and a plan never loads the API client."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "statusync"

# What a pure module may import: value types of the standard library, pydantic for the mapping
# file's model, the exception tree and the text escapes below it, and the core itself.
CORE_ALLOWED = {"__future__", "dataclasses", "enum", "typing", "datetime", "json", "re",
                "hashlib", "collections", "collections.abc", "itertools", "functools", "math",
                "pydantic", "statusync.errors", "statusync.text"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).glob("*.py"))


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.name)
def test_the_core_imports_nothing_that_does_io(path: Path) -> None:
    impure = {name for name in imports_of(path)
              if name not in CORE_ALLOWED and not name.startswith("statusync.core")}
    assert not impure, f"statusync/core/{path.name} imports {sorted(impure)}"


@pytest.mark.parametrize("path", modules("sendcloud"), ids=lambda p: p.name)
def test_the_client_does_not_depend_on_the_yaml_layer_or_the_terminal(path: Path) -> None:
    forbidden = {name for name in imports_of(path)
                 if name.split(".")[0] in ("click", "ruamel")
                 or name.startswith(("statusync.files", "statusync.commands", "statusync.render",
                                     "statusync.console", "statusync.workspace"))}
    assert not forbidden, f"statusync/sendcloud/{path.name} imports {sorted(forbidden)}"


def test_the_core_and_a_plan_load_no_heavy_module() -> None:
    code = ("import sys\n"
            "import statusync.core.drift, statusync.core.plan, statusync.core.safety, "
            "statusync.core.state, statusync.core.status_check\n"
            "print(sorted(m for m in ('httpx', 'click', 'ruamel.yaml') if m in sys.modules))\n"
            "import statusync.commands.plan\n"
            "print('httpx' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "False"


def test_the_cli_shows_the_sandbox_port_the_sandbox_uses() -> None:
    # The CLI keeps its own copy, so that it need not import the sandbox to show a default.
    from statusync.cli import SANDBOX_PORT
    from statusync.sandbox import DEFAULT_PORT

    assert SANDBOX_PORT == DEFAULT_PORT
