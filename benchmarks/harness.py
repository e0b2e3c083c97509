"""What the rate benchmarks share: a sandbox of N in-sync integrations and a timed statusync run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from statusync.sendcloud.credentials import Credentials
from statusync.core.model import CATEGORIES
from statusync.sandbox import (
    LoggedRequest, SandboxOptions, SandboxServer, SandboxStore, StoredIntegration, StoredStatus,
)

MAPPING = {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
KEYS = Credentials("bench-public", "bench-secret")
FIRST_ID = 100_000


def mapping_text(integration_id: int) -> str:
    lines = [f"integration_id: {integration_id}", "mapping:"]
    lines += [f"  {c}: {'null' if MAPPING[c] is None else json.dumps(MAPPING[c])}"
              for c in CATEGORIES]
    return "\n".join(lines) + "\n"


def in_sync_store(ids: range) -> SandboxStore:
    statuses = tuple(StoredStatus(e, (("en-gb", f"Status {e}"),)) for e in ("1", "2", "3"))
    return SandboxStore(StoredIntegration(id=i, shop_name=f"Shop {i}", statuses=statuses,
                                    mapping=tuple(MAPPING[c] for c in CATEGORIES)) for i in ids)


def timed_run(root: Path, ids: range, options: SandboxOptions, *args: str
              ) -> tuple[subprocess.CompletedProcess[str], float, list[LoggedRequest]]:
    """Run `statusync ARGS` in `root` (as in CI) against a sandbox holding `ids`, all in sync."""
    with SandboxServer(in_sync_store(ids), KEYS, options, port=0) as server:
        env = {**os.environ, "CI": "1", "STATUSYNC_API_URL": server.url,
               "SENDCLOUD_PUBLIC_KEY": KEYS.public_key, "SENDCLOUD_SECRET_KEY": KEYS.secret_key}
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "statusync", *args], cwd=root, env=env,
                             capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        return run, elapsed, server.store.requests()
