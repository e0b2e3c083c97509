"""The test command of the README's Development section, run where the suite's plugins are not
installed (a shell without the project's virtual environment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# pytest as `python3 -m pytest` starts it, in a Python where xdist cannot be imported.
WITHOUT_XDIST = "import sys; sys.modules['xdist'] = None; import pytest; sys.exit(pytest.main(sys.argv[1:]))"


def test_the_tests_without_their_plugins_say_to_activate_the_virtual_environment() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_XDIST, "-q", "tests/unit/test_urls.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert (proc.stdout + proc.stderr).strip().splitlines() == [
        f"error: the tests need xdist, not installed for {sys.executable}: run them in the project's "
        "virtual environment (. .venv/bin/activate), or install them with python3 -m pip install "
        "-e '.[test]'"
    ]
