"""How close `statusync apply` with several accounts comes to the sum of their POST limits, when
each account's files sit in a folder of their own (the usual layout).

Starts the sandbox in this process with one key pair per account, each with its own POST limit
and a GET limit ten times that, as Sendcloud's (20 ms latency, 429 beyond them; apply reads each
shop's statuses right before its write); writes each account's applied mapping files under
mappings/<account>/ with that account's limits in statusync.yaml (default settings otherwise),
changes every file, and runs `statusync apply --yes --force` in a subprocess with CI=1. Each
account has as many changes as its limit allows in `--seconds`, so that all end together.
Prints the rate each account sustained against its limit, the total against the sum, and the 429s.

    python3 benchmarks/multi_account_rate.py [--limits 3000,2400,1800,1200] [--seconds S]
                                             [--latency S]

Exit 0 when every change was applied with no 429 and the total, after the first bursts, was
at least 90% of the sum of the limits. Takes about 30 s with the defaults.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness import FIRST_ID, GET_PER_POST, Timed, rate_limit_yaml, timed_run, write_project

from statusync.sandbox import CredentialLimit, SandboxOptions
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.ratelimit import CLIENT_BURST


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limits", default="3000,2400,1800,1200", help="POST limits a minute, one per account"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="the run's length at the limits")
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()
    limits = [int(n) for n in args.limits.split(",")]
    accounts = [f"account-{chr(ord('a') + n)}" for n in range(len(limits))]
    counts = [round(limit / 60 * args.seconds) for limit in limits]
    first = [FIRST_ID + sum(counts[:n]) for n in range(len(counts))]
    ids = range(FIRST_ID, FIRST_ID + sum(counts))

    def account_of(integration_id: int) -> str:
        return accounts[max(n for n in range(len(first)) if first[n] <= integration_id)]

    keys = {f"ACCOUNT_{n}": Credentials(f"pk-{name}", f"sk-{name}") for n, name in enumerate(accounts)}
    settings = "accounts:\n" + "".join(
        f"  {name}:\n"
        f"    public_key_env: ACCOUNT_{n}_PUBLIC_KEY\n"
        f"    secret_key_env: ACCOUNT_{n}_SECRET_KEY\n"
        f"    rate_limit: {rate_limit_yaml(limit)}\n"
        for n, (name, limit) in enumerate(zip(accounts, limits, strict=True))
    )
    options = SandboxOptions(
        latency=args.latency,
        per_credential=tuple(
            CredentialLimit(f"pk-{name}", post_per_minute=limit, get_per_minute=limit * GET_PER_POST)
            for name, limit in zip(accounts, limits, strict=True)
        ),
    )
    with tempfile.TemporaryDirectory(prefix="statusync-bench-") as tmp:
        root = Path(tmp)
        write_project(root, ids, applied=True, settings=settings, account=account_of)
        for path in (root / "mappings").rglob("*.yaml"):
            path.write_text(path.read_text().replace('DELIVERED: "3"', 'DELIVERED: "2"'))
        # --force: every managed integration changes, far above the safety threshold.
        timed = timed_run(root, ids, options, "apply", "--yes", "--force", keys=keys)

    accepted = timed.count("POST", 200)
    throttled = timed.count("POST", 429)
    print(
        f"apply of {len(ids)} changed integrations in {len(accounts)} accounts, each in a folder of "
        f"its own, default parallelism, sandbox latency {args.latency * 1000:.0f} ms"
    )
    print(f"  exit code:          {timed.run.returncode}")
    print(f"  elapsed:            {timed.elapsed:.1f} s (whole process, start-up included)")
    print(f"  accepted POSTs:     {accepted} of {len(ids)}")
    print(f"  429 answers:        {throttled}")
    for name, limit in zip(accounts, limits, strict=True):
        own = {i for i in ids if account_of(i) == name}
        rate = _sustained(timed, own)
        refused = sum(1 for r in timed.requests if r.status == 429 and r.integration_id in own)
        print(f"  {name}:          {rate:.0f}/min of its {limit}/min = {rate / limit:.1%}, {refused} 429s")
    total = _sustained(timed, set(ids), skip=CLIENT_BURST * len(accounts))
    print(f"  total:              {total:.0f}/min of the sum {sum(limits)}/min = {total / sum(limits):.1%}")
    print(f"  end to end:         {timed.end_to_end('POST', sum(limits))}")
    ok = timed.run.returncode == 0 and accepted == len(ids) and throttled == 0 and total >= 0.9 * sum(limits)
    if timed.run.returncode != 0:
        print(timed.run.stderr[-2000:])
    return 0 if ok else 1


def _sustained(timed: Timed, wanted: set[int], skip: int = CLIENT_BURST) -> float:
    """POSTs a minute of the integrations `wanted`, between the `skip`th answer (after the
    first burst) and the last."""
    times = [
        t
        for r, t in zip(timed.requests, timed.times, strict=True)
        if r.method == "POST" and r.integration_id in wanted
    ]
    if len(times) <= skip + 1:
        return 0.0
    return (len(times) - 1 - skip) / (times[-1] - times[skip]) * 60


if __name__ == "__main__":
    raise SystemExit(main())
