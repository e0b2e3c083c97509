"""requirements.lock, what the action installs with `pip install --require-hashes`, against
pyproject.toml: offline, every dependency and the build backend are pinned there at a version
their specifier allows, each pin with hashes. (`scripts/lock --check`, run by .ci/run, also
resolves it again with PyPI.)"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.requirements import lock_requirements

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "requirements.lock"


def pinned() -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in lock_requirements(LOCK)}


def direct() -> list[str]:
    return PYPROJECT["project"]["dependencies"] + PYPROJECT["build-system"]["requires"]


@pytest.mark.parametrize("text", direct())
def test_every_dependency_and_the_build_backend_is_locked_at_a_version_it_allows(text: str) -> None:
    wanted = Requirement(text)
    lock = pinned()
    name = canonicalize_name(wanted.name)
    assert name in lock, f"{wanted.name} is not in requirements.lock: run scripts/lock"
    (pin,) = lock[name].specifier
    assert pin.operator == "==" and wanted.specifier.contains(pin.version, prereleases=True), (
        f"requirements.lock pins {name} {pin}, pyproject.toml wants {wanted.specifier}: run scripts/lock"
    )


def test_every_pin_is_exact_and_hashed() -> None:
    text = LOCK.read_text().replace("\\\n", " ")
    entries = [line for line in text.splitlines() if line.split("#", 1)[0].strip()]
    assert len(entries) == len(pinned()) >= len(direct())
    for entry in entries:
        assert "==" in entry and "--hash=sha256:" in entry, entry


@pytest.mark.parametrize(
    "platform",
    [
        {"sys_platform": "linux", "platform_system": "Linux"},
        {"sys_platform": "darwin", "platform_system": "Darwin"},
    ],
    ids=["linux", "macos"],
)
@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_everything_the_runners_need_is_locked_for_them(platform: dict[str, str], python: str) -> None:
    """A pin made on one platform could hide behind that platform's marker: every dependency a
    Linux or macOS runner's CPython needs is locked for it."""
    env = {
        **platform,
        "platform_python_implementation": "CPython",
        "implementation_name": "cpython",
        "python_version": python,
        "python_full_version": f"{python}.0",
    }
    lock = pinned()
    for text in direct():
        wanted = Requirement(text)
        if wanted.marker is None or wanted.marker.evaluate(env):
            marker = lock[canonicalize_name(wanted.name)].marker
            assert marker is None or marker.evaluate(env), (wanted.name, env)
