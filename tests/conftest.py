"""Fixtures: a throw-away project directory and an in-process CLI runner."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import pytest

from statusync.cli import main
from statusync.credentials import Credentials
from statusync.loader import load_mappings
from statusync.settings import load_settings
from statusync.sandbox import SandboxOptions, SandboxServer, seed_from_specs


class Result(NamedTuple):
    code: int
    out: str
    err: str


class Project:
    """A user's repository in a temporary directory, which is also the working directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "mappings").mkdir()

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def mapping(self, integration_id: int, rts: str | None = '"1"', transit: str | None = '"2"',
                delivered: str | None = '"3"', cancel: str | None = "null",
                file: str | None = None, extra: str = "") -> Path:
        def v(x: str | None) -> str:
            return "null" if x is None else x
        return self.write(file or f"mappings/shop-{integration_id}.yaml", (
            f"integration_id: {integration_id}\n{extra}mapping:\n"
            f"  READY_TO_SEND: {v(rts)}\n  IN_TRANSIT: {v(transit)}\n"
            f"  DELIVERED: {v(delivered)}\n  CANCEL: {v(cancel)}\n"))

    @property
    def state_file(self) -> Path:
        return self.root / ".statusync" / "state.json"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in ("SENDCLOUD_PUBLIC_KEY", "SENDCLOUD_SECRET_KEY", "STATUSYNC_API_URL", "NO_COLOR", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)
    return run


PUBLIC_KEY = "pk-test-0123"
SECRET_KEY = "sk-test-never-shown-4567"


@pytest.fixture
def sandbox(project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., SandboxServer]]:
    """Start the sandbox over real HTTP on loopback, seeded from the project's mapping files,
    and point statusync at it with valid credentials."""
    servers: list[SandboxServer] = []

    def start(**options: Any) -> SandboxServer:
        accounts = load_settings(project.root, {}).accounts
        specs = load_mappings(project.root / "mappings", project.root, accounts)
        server = SandboxServer(seed_from_specs(s.spec for s in specs),
                               Credentials(PUBLIC_KEY, SECRET_KEY), SandboxOptions(**options),
                               port=0).start()
        servers.append(server)
        monkeypatch.setenv("STATUSYNC_API_URL", server.url)
        monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
        monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
        return server

    yield start
    for server in servers:
        server.stop()
