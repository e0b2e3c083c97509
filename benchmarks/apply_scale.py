"""Whether the cost of `statusync apply` per change grows with the size of the state.

Runs the same apply twice, each time in a fresh temporary project against the sandbox (20 ms
latency, a POST limit of 3,000/min and a GET limit ten times that, 30,000/min, as Sendcloud's,
configured in statusync.yaml and enforced by the sandbox; apply reads each shop's statuses right
before its write): 300 changed integrations with 300 managed, then 300 changed integrations
among 10,000 managed (9,700 unchanged). Also times an apply with nothing to do at 10,000, the
fixed cost of a large repository (every mapping file is read and hashed, the state read; a file
unchanged since it was applied is taken from the state; the status catalog of every managed
shop, fourteen statuses each, is read and written again with the statuses the apply read).
Prints the figures and the ratio of the two applies, and, for the large apply, the floor of this
machine: importing the libraries statusync runs on, reading and hashing the files, and sending
the writes at statusync's pace (a little under the limit), with the share of the limit that
leaves end to end. The floor is the best of three fresh processes each.

    python3 benchmarks/apply_scale.py [--changes N] [--managed N]

Exit 0 when the large apply takes at most 1.5 times the small one and, end to end (start-up,
plan and state write included), keeps at least 90% of the limit. About a minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness import (
    FIRST_ID,
    GET_PER_POST,
    IMPORTS,
    READ_AND_HASH,
    Timed,
    best_of,
    rate_limit_yaml,
    timed_run,
    write_project,
)

from statusync.sandbox import SandboxOptions
from statusync.sendcloud.ratelimit import client_burst, client_per_minute

LIMIT = 3000
# The statuses of every managed shop, recorded as `import` leaves them (a PrestaShop has about
# fourteen): the apply reads the catalog again and writes it with what it read.
STATUSES = 14
OPTIONS = SandboxOptions(latency=0.02, post_per_minute=LIMIT, get_per_minute=LIMIT * GET_PER_POST)


FLOOR_RUNS = 3


def floor(root: Path, changes: int) -> float:
    """The least an apply of `changes` writes among the files in `root` takes on this machine,
    printed piece by piece: the imports, the files read and hashed, and the writes at the pace
    statusync keeps (after its first burst; plus the read before the first write and the answer
    to the last one)."""
    python = best_of([sys.executable, "-c", "pass"], root, FLOOR_RUNS)
    imports = best_of([sys.executable, "-c", IMPORTS], root, FLOOR_RUNS)
    reading = best_of([sys.executable, "-c", READ_AND_HASH], root, FLOOR_RUNS) - python
    burst = client_burst(LIMIT)
    sending = max(0, changes - burst) / client_per_minute(LIMIT) * 60 + 2 * OPTIONS.latency
    print(
        f"      floor here: imports {imports:.2f} s + reading and hashing the files {reading:.2f} s + "
        f"{changes} writes at statusync's pace {sending:.2f} s = {imports + reading + sending:.2f} s"
    )
    return imports + reading + sending


def run(managed: int, changes: int, with_floor: bool = False) -> tuple[Timed, float]:
    """An apply of `changes` updates in a project of `managed` applied integrations, and the
    floor of such an apply on this machine when asked for (else 0)."""
    ids = range(FIRST_ID, FIRST_ID + managed)
    with tempfile.TemporaryDirectory(prefix="statusync-bench-") as tmp:
        root = Path(tmp)
        write_project(
            root, ids, applied=True, settings=f"rate_limit: {rate_limit_yaml(LIMIT)}\n", statuses=STATUSES
        )
        for integration_id in ids[:changes]:
            path = root / "mappings" / f"shop-{integration_id}.yaml"
            path.write_text(path.read_text().replace('DELIVERED: "3"', 'DELIVERED: "2"'))
        least = floor(root, changes) if with_floor else 0.0
        timed = timed_run(root, ids, OPTIONS, "apply", "--yes", "--force")  # 100% of 300
        if timed.run.returncode != 0:
            sys.stderr.write(timed.run.stderr[-2000:])
            raise SystemExit(f"apply exited {timed.run.returncode}")
        state_kib = (root / ".statusync" / "state.json").stat().st_size / 1024
        print(
            f"  {changes:>6} changes, {managed:>6} managed: {timed.elapsed:6.2f} s, "
            f"{timed.count('POST', 200)} POSTs accepted, {timed.count('POST', 429)} x 429, "
            f"state {state_kib:,.0f} KiB"
        )
        if changes:
            print(f"      {timed.end_to_end('POST', LIMIT)}")
        return timed, least


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--managed", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"apply against the sandbox (20 ms latency, POST {LIMIT}/min, GET {LIMIT * GET_PER_POST}/min), "
        "fresh process each:"
    )
    small, _ = run(args.changes, args.changes)
    large, least = run(args.managed, args.changes, with_floor=True)
    idle, _ = run(args.managed, 0)
    ratio = large.elapsed / small.elapsed
    per_change = (large.elapsed - idle.elapsed) / args.changes * 1000
    print(f"ratio large / small:  {ratio:.2f} (at most 1.5 expected)")
    print(
        f"per change at {args.managed:,} managed, the fixed cost taken off: {per_change:.1f} ms "
        f"(the limit allows one every {60_000 / LIMIT:.0f} ms; at this rate statusync keeps 3% "
        "under it)"
    )
    share = large.count("POST", 200) / large.elapsed * 60 / LIMIT
    print(f"end to end at {args.managed:,} managed: {share:.1%} of the limit (at least 90% expected)")
    best = large.count("POST", 200) / least * 60 / LIMIT
    print(
        f"the floor of this machine allows {best:.1%} end to end; this apply took "
        f"{large.elapsed - least:.2f} s more than the floor"
    )
    return 0 if ratio <= 1.5 and share >= 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
