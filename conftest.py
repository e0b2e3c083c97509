"""Loads the pytest plugins the suite uses, after checking that what the tests need is installed.

The plugins are named here rather than found (`--disable-plugin-autoload` in pyproject.toml):
pytest rewrites the asserts of every module of an auto-loaded plugin's package, and where
bytecode is not cached that costs seconds in every worker. They are named here rather than with
`-p` in `addopts`, because pytest imports a `-p` plugin before anything of the project runs: in a
shell without the project's virtual environment, that ended in a bare ImportError. This file is
read before the command line is parsed in full (it is the conftest at the root), so the plugins'
options (`-n auto`) are known in time.
"""

from __future__ import annotations

import importlib.util
import sys

# What the suite imports, by module: the plugins, and the packages statusync and its tests need.
_NEEDED = (
    "xdist",
    "hypothesis",
    "schemathesis",
    "httpx",
    "pydantic",
    "ruamel.yaml",
    "click",
    "jsonschema",
    "markdown_it",
)


def _missing() -> list[str]:
    missing = []
    for name in _NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # ruamel.yaml without ruamel
            found = False
        if not found:
            missing.append(name)
    return missing


if missing := _missing():
    # SystemExit, not an exception pytest would show with a traceback of this file.
    raise SystemExit(
        f"error: the tests need {', '.join(missing)}, not installed for {sys.executable}: "
        "run them in the project's virtual environment (. .venv/bin/activate), or "
        "install them with python3 -m pip install -e '.[test]'"
    )

pytest_plugins = ["xdist.plugin", "_hypothesis_pytestplugin", "schemathesis.pytest.plugin"]
