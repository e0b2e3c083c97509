"""How `statusync apply` paces itself against the POST limit (Sendcloud: 100/min, bursts of 15).

Starts the sandbox in this process enforcing `post_per_minute` (429 beyond it), writes N new
mapping files (nothing applied yet) to a temporary directory, runs `statusync apply --yes` there in
a subprocess with CI=1, and prints how long it took, the rate achieved against the limit and how
many 429s the sandbox answered.

    python3 benchmarks/apply_rate.py [--integrations N] [--post-per-minute N] [--parallelism N]

A pacing that is right takes close to (N - 14) / limit minutes and never sees a 429: the rate
limit, not the CPU, bounds apply (1,000 changed integrations take at least 10 minutes).
Not a test: with the defaults it takes about half a minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness import FIRST_ID, mapping_text, timed_run
from statusync.sandbox import SandboxOptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=60)
    parser.add_argument("--post-per-minute", type=int, default=100)
    parser.add_argument("--parallelism", type=int, default=4)
    args = parser.parse_args()
    ids = range(FIRST_ID, FIRST_ID + args.integrations)
    with tempfile.TemporaryDirectory(prefix="statusync-bench-") as tmp:
        root = Path(tmp)
        for integration_id in ids:
            path = root / "mappings" / f"shop-{integration_id}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(mapping_text(integration_id))
        (root / "statusync.yaml").write_text(
            f"rate_limit: {{unsafe_per_minute: {args.post_per_minute}}}\n")
        run, elapsed, requests = timed_run(
            root, ids, SandboxOptions(post_per_minute=args.post_per_minute),
            "apply", "--yes", "--parallelism", str(args.parallelism))
    if run.returncode != 0:
        sys.stderr.write(run.stderr[-2000:])
        print(f"statusync apply exited {run.returncode} (expected 0)")
        return 1
    posts = [r for r in requests if r.method == "POST"]
    throttled = sum(1 for r in posts if r.status == 429)
    print(f"integrations:        {args.integrations}")
    print(f"elapsed:             {elapsed:.1f} s (whole process, start-up included)")
    print(f"POST requests:       {len(posts)}")
    print(f"achieved rate:       {len(posts) / elapsed * 60:.0f} requests/minute "
          f"(limit {args.post_per_minute}/min, bursts of 15)")
    print(f"after the burst:     {max(0, len(posts) - 14) / elapsed * 60:.0f} requests/minute "
          "(the steady rate, which the limit bounds)")
    print(f"ideal elapsed:       {max(0, len(posts) - 14) / args.post_per_minute * 60:.1f} s "
          "(limit, after the client's first burst of 14)")
    print(f"429 answers:         {throttled}")
    return 0 if throttled == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
