"""How close `statusync drift` with default settings comes to the GET limit, and how it copes
with a server whose limit is lower than the settings say.

Starts the sandbox in this process with N PrestaShop integrations, all in sync (20 ms latency,
enforcing `--server-per-minute`, by default the configured limit: 429 beyond it); writes the
mapping files and their state to a temporary directory; runs `statusync drift --format json`
there in a subprocess with CI=1 and the default (auto) parallelism; then prints how long it
took, the CPU each side spent per request, the rate it sustained against the limit and how many
429s it met.

    python3 benchmarks/drift_rate.py [--integrations N] [--get-per-minute N]
                                     [--server-per-minute N] [--latency S] [--parallelism N]

Exit 0 when every integration was checked (all in sync) and, against a server at the
configured limit, the rate after the first burst was at least 90% of it with no 429. Takes
about 25 s with the defaults.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from harness import FIRST_ID, report_rate, timed_run, write_project

from statusync.sandbox import SandboxOptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=2000)
    parser.add_argument("--get-per-minute", type=int, default=6000, help="configured limit")
    parser.add_argument("--server-per-minute", type=int, help="the sandbox's (default: the same)")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--parallelism", type=int, help="default: auto")
    args = parser.parse_args()
    server_limit = args.server_per_minute or args.get_per_minute
    ids = range(FIRST_ID, FIRST_ID + args.integrations)
    extra = [] if args.parallelism is None else ["--parallelism", str(args.parallelism)]
    with tempfile.TemporaryDirectory(prefix="statusync-bench-") as tmp:
        root = Path(tmp)
        write_project(
            root, ids, applied=True, settings=f"rate_limit: {{safe_per_minute: {args.get_per_minute}}}\n"
        )
        timed = timed_run(
            root,
            ids,
            SandboxOptions(latency=args.latency, get_per_minute=server_limit),
            "drift",
            "--format",
            "json",
            *extra,
        )
    try:
        summary = json.loads(timed.run.stdout)["summary"]
    except ValueError:
        summary = {}
    print(
        f"drift of {args.integrations} integrations, parallelism "
        f"{args.parallelism or 'auto'}, sandbox latency {args.latency * 1000:.0f} ms"
    )
    print(f"  configured limit:   {args.get_per_minute}/min; the server's: {server_limit}/min")
    print(f"  exit code:          {timed.run.returncode}")
    print(f"  elapsed:            {timed.elapsed:.1f} s (whole process, start-up included)")
    print(f"  in sync:            {summary.get('in_sync', 0)} of {args.integrations}")
    print(f"  GET requests:       {timed.count('GET')}")
    print(f"  CPU per request:    {timed.cpu_per_request()}")
    return report_rate(
        timed, "GET", args.get_per_minute, server_limit, done=summary.get("in_sync") == args.integrations
    )


if __name__ == "__main__":
    raise SystemExit(main())
