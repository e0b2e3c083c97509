"""How close `statusync drift` with default settings comes to the GET limit, and how it copes
with a server whose limit is lower than the settings say.

For each case, starts the sandbox in this process with N PrestaShop integrations, all in sync
(with the case's latency, enforcing `--server-per-minute`, by default the configured limit: 429
beyond it); writes the mapping files and their state to a temporary directory; runs `statusync
drift --format json` there in a subprocess with CI=1 and the default (auto) parallelism; then
prints how long it took, the CPU each side spent per request, the rate it sustained against the
limit and how many 429s it met. Then, for reference, the rate httpx alone sustains against the
same sandbox without a limit: threads with a client each and no statusync code, the best of a
few thread counts around the requests in flight the limit needs (rate x latency). On a machine
where that reference stays under 90% of the limit, so does statusync, whose requests are httpx's.

    python3 benchmarks/drift_rate.py [--case far|fast|both] [--integrations N]
                                     [--get-per-minute N] [--server-per-minute N]
                                     [--latency S] [--parallelism N]

The cases: `far`, 2,000 integrations at 6,000 GETs a minute with 200 ms latency (a distant API:
the workers must hide the latency); `fast`, 10,000 integrations at 60,000 a minute with 20 ms (the
client's own cost per request counts). By default both, one after the other; `--integrations`,
`--get-per-minute` and `--latency` change the case(s) run.

Exit 0 when, in every case run, every integration was checked (all in sync) and, against a
server at the configured limit, the rate after the first burst was at least 90% of it with no
429. Takes about a minute with the defaults.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from harness import FIRST_ID, httpx_alone_per_minute, report_rate, timed_run, write_project

from statusync.sandbox import SandboxOptions
from statusync.sendcloud.ratelimit import CLIENT_BURST


@dataclass(frozen=True)
class Case:
    integrations: int
    get_per_minute: int
    latency: float


CASES = {"far": Case(2000, 6000, 0.2), "fast": Case(10_000, 60_000, 0.02)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "both"], default="both")
    parser.add_argument("--integrations", type=int, help="default: the case's")
    parser.add_argument("--get-per-minute", type=int, help="configured limit (default: the case's)")
    parser.add_argument("--server-per-minute", type=int, help="the sandbox's (default: the same)")
    parser.add_argument("--latency", type=float, help="default: the case's")
    parser.add_argument("--parallelism", type=int, help="default: auto")
    args = parser.parse_args()
    failed = 0
    for name in CASES if args.case == "both" else [args.case]:
        case = CASES[name]
        case = replace(
            case,
            integrations=args.integrations or case.integrations,
            get_per_minute=args.get_per_minute or case.get_per_minute,
            latency=case.latency if args.latency is None else args.latency,
        )
        failed |= run_case(case, args.server_per_minute or case.get_per_minute, args.parallelism)
    return failed


def run_case(case: Case, server_limit: int, parallelism: int | None) -> int:
    ids = range(FIRST_ID, FIRST_ID + case.integrations)
    extra = [] if parallelism is None else ["--parallelism", str(parallelism)]
    with tempfile.TemporaryDirectory(prefix="statusync-bench-") as tmp:
        root = Path(tmp)
        write_project(
            root, ids, applied=True, settings=f"rate_limit: {{safe_per_minute: {case.get_per_minute}}}\n"
        )
        timed = timed_run(
            root,
            ids,
            SandboxOptions(latency=case.latency, get_per_minute=server_limit),
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
        f"drift of {case.integrations} integrations, parallelism "
        f"{parallelism or 'auto'}, sandbox latency {case.latency * 1000:.0f} ms"
    )
    print(f"  configured limit:   {case.get_per_minute}/min; the server's: {server_limit}/min")
    print(f"  exit code:          {timed.run.returncode}")
    print(f"  elapsed:            {timed.elapsed:.1f} s (whole process, start-up included)")
    print(f"  in sync:            {summary.get('in_sync', 0)} of {case.integrations}")
    print(f"  GET requests:       {timed.count('GET')}")
    print(f"  CPU per request:    {timed.cpu_per_request()}")
    failed = report_rate(
        timed, "GET", case.get_per_minute, server_limit, done=summary.get("in_sync") == case.integrations
    )
    report_reference(case, timed.sustained_per_minute("GET", CLIENT_BURST))
    return failed


# How long the reference reads at each thread count, at the case's limit: enough for a steady
# rate (and at most REFERENCE_READS integrations).
REFERENCE_SECONDS = 5
REFERENCE_READS = 4000


def report_reference(case: Case, sustained: float) -> None:
    """Print what httpx alone sustains here, against the case's limit and statusync's rate."""
    in_flight = max(1, round(case.get_per_minute / 60 * case.latency))
    threads = sorted({max(1, round(in_flight * factor)) for factor in (1, 1.5, 2)})
    reads = min(case.integrations, REFERENCE_READS, case.get_per_minute // 60 * REFERENCE_SECONDS)
    ids = range(FIRST_ID, FIRST_ID + reads)
    reference, best_threads = httpx_alone_per_minute(ids, case.latency, threads)
    share = reference / case.get_per_minute
    print(
        f"  httpx alone:        {reference:.0f}/min with {best_threads} threads, no limit = "
        f"{share:.1%} of the configured limit; statusync's rate is {sustained / reference:.0%} of it"
    )
    if share < 0.9:
        print("                      under 90%: one Python process with httpx does not reach it here")


if __name__ == "__main__":
    raise SystemExit(main())
