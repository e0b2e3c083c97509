"""Fixtures: a throw-away project directory and an in-process CLI runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from statusync.cli import Seams, main
from statusync.files.mappings import load_mappings
from statusync.files.settings import load_settings
from statusync.sandbox import SandboxOptions, SandboxServer, SandboxStore, seed_from_specs
from statusync.sendcloud.credentials import Credentials
from tests.support.gate import Gate
from tests.support.project import PUBLIC_KEY, SECRET_KEY, Project, Result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


@pytest.fixture
def env() -> dict[str, str]:
    """The environment the commands of a test see (`cli`, the sandbox's processes): only what
    the test puts in it. The one the tests run in is never read, so that neither a developer's
    credentials nor the variables of this project's own CI (GITHUB_ACTIONS, its job summary)
    reach a command; a test of those sets them here."""
    return {}


@pytest.fixture
def retry_waits() -> list[float]:
    """The waits the API clients asked for before retrying, in order (none really happen)."""
    return []


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str],
    retry_waits: list[float],
    env: dict[str, str],
    request: pytest.FixtureRequest,
) -> Callable[..., Result]:
    """Run a command in-process, in the environment `env` holds when it runs. Retry waits are
    recorded, not slept, unless the test is marked `real_time` (a server's rate limit only makes
    room as real time passes)."""
    real = request.node.get_closest_marker("real_time") is not None
    seams = Seams() if real else Seams(retry_sleep=retry_waits.append)

    def run(*args: str) -> Result:
        code = main(list(args), replace(seams, env=dict(env)))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes over real HTTP on free loopback ports: start(store, credentials, options,
    **SandboxServer keywords); every one is stopped after the test."""
    servers: list[SandboxServer] = []

    def start(
        store: SandboxStore, credentials: Credentials, options: SandboxOptions | None = None, **kwargs: Any
    ) -> SandboxServer:
        server = SandboxServer(store, credentials, options or SandboxOptions(), port=0, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(
    project: Project, env: dict[str, str], start_sandbox: Callable[..., SandboxServer]
) -> Iterator[Callable[..., SandboxServer]]:
    """Start the sandbox over real HTTP on loopback, seeded from the project's mapping files,
    and point statusync at it with valid credentials (in `env`); `gate=Gate()` puts a gate in
    front."""
    gates: list[Gate] = []

    def start(*, gate: Gate | None = None, **options: Any) -> SandboxServer:
        accounts = load_settings(project.root, {}).accounts
        specs = load_mappings(project.root / "mappings", project.root, accounts)
        held: dict[str, Any] = {}
        if gate is not None:
            held["on_request"] = gate
            gates.append(gate)
        server = start_sandbox(
            seed_from_specs(s.spec for s in specs),
            Credentials(PUBLIC_KEY, SECRET_KEY),
            SandboxOptions(**options),
            **held,
        )
        env.update(
            STATUSYNC_API_URL=server.url, SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY, SENDCLOUD_SECRET_KEY=SECRET_KEY
        )
        return server

    yield start
    for gate in gates:  # what a failed test left held, so that the sandbox can stop
        gate.open()
