"""`statusync sandbox`: seed the fake API from the mapping files (or a seed file) and serve it."""

from __future__ import annotations

from pathlib import Path

from statusync.console import Console
from statusync.errors import OK
from statusync.sandbox import SandboxOptions, Seed, demo_credentials, load_seed, seed_from_specs, serve
from statusync.workspace import Workspace


def run(
    ws: Workspace,
    console: Console,
    *,
    host: str,
    port: int,
    seed: Path | None,
    latency: float,
    post_per_minute: int | None,
    get_per_minute: int | None,
) -> int:
    seeded = load_seed(seed) if seed is not None else Seed(seed_from_specs(s.spec for s in ws.specs()))
    credentials, _ = demo_credentials(ws.env)
    # --post-per-minute / --get-per-minute are each credential's limits, unless the seed file
    # gives a credential its own.
    options = SandboxOptions(
        latency=latency,
        post_per_minute=post_per_minute,
        get_per_minute=get_per_minute,
        per_credential=seeded.limits,
    )
    serve(host, port, seeded.store, (credentials, *seeded.credentials), options, console.out)
    return OK
