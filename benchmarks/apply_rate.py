"""How close `statusync apply` with default settings comes to the POST limit, and how it copes
with a server whose limit is lower than the settings say.

Starts the sandbox in this process (20 ms latency, enforcing `--server-per-minute`, by default
the configured limit: 429 beyond it), with GET limits ten times the POST limits, as Sendcloud's,
configured and enforced alike (apply reads each shop's statuses right before its write), writes
N applied mapping files to a temporary directory and
changes each (updates: a create would first read the live mapping, which is GET-bound), runs
`statusync apply --yes --force` there in a subprocess with CI=1 and the default (auto) parallelism, and
prints how long it took, the rate it sustained against the limit and how many 429s it met.

    python3 benchmarks/apply_rate.py [--integrations N] [--post-per-minute N]
                                     [--server-per-minute N] [--latency S] [--parallelism N]

Exit 0 when every change was applied and, against a server at the configured limit, the rate
after the first burst was at least 90% of it with no 429. Takes about 25 s with the defaults.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness import FIRST_ID, GET_PER_POST, rate_limit_yaml, report_rate, timed_run, write_project

from statusync.sandbox import SandboxOptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=1000)
    parser.add_argument("--post-per-minute", type=int, default=3000, help="configured limit")
    parser.add_argument("--server-per-minute", type=int, help="the sandbox's (default: the same)")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--parallelism", type=int, help="default: auto")
    args = parser.parse_args()
    server_limit = args.server_per_minute or args.post_per_minute
    ids = range(FIRST_ID, FIRST_ID + args.integrations)
    extra = [] if args.parallelism is None else ["--parallelism", str(args.parallelism)]
    with tempfile.TemporaryDirectory(prefix="statusync-bench-") as tmp:
        root = Path(tmp)
        write_project(
            root, ids, applied=True, settings=f"rate_limit: {rate_limit_yaml(args.post_per_minute)}\n"
        )
        for integration_id in ids:
            path = root / "mappings" / f"shop-{integration_id}.yaml"
            path.write_text(path.read_text().replace('DELIVERED: "3"', 'DELIVERED: "2"'))
        # --force: every managed integration changes, far above the safety threshold.
        timed = timed_run(
            root,
            ids,
            SandboxOptions(
                latency=args.latency, post_per_minute=server_limit, get_per_minute=server_limit * GET_PER_POST
            ),
            "apply",
            "--yes",
            "--force",
            *extra,
        )
    accepted = timed.count("POST", 200)
    print(
        f"apply of {args.integrations} changed integrations, parallelism "
        f"{args.parallelism or 'auto'}, sandbox latency {args.latency * 1000:.0f} ms"
    )
    print(f"  configured limit:   {args.post_per_minute}/min; the server's: {server_limit}/min")
    print(f"  exit code:          {timed.run.returncode}")
    print(f"  elapsed:            {timed.elapsed:.1f} s (whole process, start-up included)")
    print(f"  accepted POSTs:     {accepted} of {args.integrations}")
    print(f"  overall rate:       {accepted / timed.elapsed * 60:.0f}/min (start-up included)")
    return report_rate(timed, "POST", args.post_per_minute, server_limit, done=accepted == args.integrations)


if __name__ == "__main__":
    raise SystemExit(main())
