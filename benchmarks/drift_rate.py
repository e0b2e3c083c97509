"""How fast `statusync drift` reads 1,000 integrations against a GET limit of 1000/min.

Starts the sandbox in this process with 1,000 PrestaShop integrations, all in sync, enforcing
`get_per_minute` like Sendcloud (429 beyond it); writes the 1,000 mapping files and their state
to a temporary directory; runs `statusync drift` there in a subprocess with CI=1; then prints
how long it took, the rate achieved against the limit and how many 429s the sandbox answered.

    python3 benchmarks/drift_rate.py [--integrations N] [--get-per-minute N] [--parallelism N]

A pacing that is right takes close to N / limit minutes (less the first burst of 15) and never
sees a 429. Not a test: it takes about a minute.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from harness import FIRST_ID, MAPPING, mapping_text, timed_run
from statusync.sandbox import SandboxOptions
from statusync.core.state import Entry, State
from statusync.files.state_file import save_state
from statusync.runner.recorder import now_iso


def write_project(root: Path, ids: range) -> None:
    """The mapping files, and a state recording each as applied (so they are all managed)."""
    entries = {}
    for integration_id in ids:
        file = f"mappings/shop-{integration_id}.yaml"
        data = mapping_text(integration_id).encode()
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(data)
        entries[integration_id] = Entry(file, hashlib.sha256(data).hexdigest(), "default", None,
                                        dict(MAPPING), now_iso())
    save_state(root / ".statusync" / "state.json", State(entries=entries))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=1000)
    parser.add_argument("--get-per-minute", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=4)
    args = parser.parse_args()
    ids = range(FIRST_ID, FIRST_ID + args.integrations)
    with tempfile.TemporaryDirectory(prefix="statusync-bench-") as tmp:
        root = Path(tmp)
        write_project(root, ids)
        (root / "statusync.yaml").write_text(
            f"rate_limit: {{safe_per_minute: {args.get_per_minute}}}\n")
        run, elapsed, requests = timed_run(
            root, ids, SandboxOptions(get_per_minute=args.get_per_minute),
            "drift", "--format", "json", "--parallelism", str(args.parallelism))
    if run.returncode != 0:
        sys.stderr.write(run.stderr[-2000:])
        print(f"statusync drift exited {run.returncode} (expected 0: all in sync)")
        return 1
    summary = json.loads(run.stdout)["summary"]
    gets = [r for r in requests if r.method == "GET"]
    throttled = sum(1 for r in gets if r.status == 429)
    print(f"integrations:        {args.integrations} ({summary['in_sync']} in sync)")
    print(f"elapsed:             {elapsed:.1f} s (whole process, start-up included)")
    print(f"GET requests:        {len(gets)}")
    print(f"achieved rate:       {len(gets) / elapsed * 60:.0f} requests/minute "
          f"(limit {args.get_per_minute}/min, bursts of 15)")
    print(f"ideal elapsed:       {max(0, len(gets) - 15) / args.get_per_minute * 60:.1f} s "
          "(limit, after the first burst)")
    print(f"429 answers:         {throttled}")
    return 0 if throttled == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
