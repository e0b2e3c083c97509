"""A soak of `statusync apply` against the sandbox: over many rounds it edits mapping files,
injects faults (5xx bursts, dropped connections, a server limit below the configured one,
latency) and stops runs at random (SIGKILL, SIGTERM, SIGINT, two signals, or none), and after
every round checks that

- the state never claims what the server did not accept, and hides no write it did accept:
  every integration the state records (and does not call uncertain) is live exactly as
  recorded; one it calls uncertain is live as last recorded or as some mapping sent to it; one
  it never recorded is live as it was before the soak;
- a run that stops on a signal exits within 3 s of it (the requests on the wire last at most
  the 0.3 s latency), and no lock, journal or temporary file blocks or clutters the next run;

and at the end that one more apply, with the faults gone, converges: it exits 0, and then
`plan --detailed-exitcode` and `drift` exit 0.

    python3 benchmarks/soak.py [--rounds N] [--seed N] [--integrations N]

Bounded and seeded (the same seed makes the same edits, faults and stops; timings still vary).
Not part of the test run: 60 rounds take about three minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from statusync.core.model import CATEGORIES, MappingDict
from statusync.files.journal import journal_path
from statusync.files.state_file import load_state
from statusync.sandbox import (
    FaultRule,
    SandboxOptions,
    SandboxServer,
    SandboxStore,
    StoredIntegration,
    StoredStatus,
)
from statusync.sendcloud.credentials import Credentials

KEYS = Credentials("soak-public-key", "soak-secret-key")
VALUES: list[str | None] = ["1", "2", "3", "4", "5", "6", None]
INITIAL: MappingDict = {"READY_TO_SEND": "6", "IN_TRANSIT": "6", "DELIVERED": "6", "CANCEL": None}
STOPS = ["none", "none", "SIGKILL", "SIGTERM", "SIGINT", "twice"]
MAX_LATENCY = 0.3


@dataclass
class Soak:
    root: Path
    store: SandboxStore
    rng: random.Random
    ids: list[int]
    desired: dict[int, MappingDict] = field(default_factory=dict)  # the files now
    sent: dict[int, list[MappingDict]] = field(default_factory=dict)  # every mapping a file asked
    forgotten: set[int] = field(default_factory=set)  # left the state once: live is anything
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def state_path(self) -> Path:
        return self.root / ".statusync" / "state.json"

    def write(self, integration_id: int, mapping: MappingDict) -> None:
        lines = [f"integration_id: {integration_id}", "mapping:"]
        lines += [f"  {c}: {'null' if mapping[c] is None else repr(mapping[c])}" for c in CATEGORIES]
        (self.root / "mappings" / f"shop-{integration_id}.yaml").write_text("\n".join(lines) + "\n")
        self.desired[integration_id] = mapping
        self.sent.setdefault(integration_id, []).append(mapping)

    def edit(self) -> str:
        """Change a few files, delete or bring back one now and then; what was done."""
        done = []
        for integration_id in self.rng.sample(self.ids, self.rng.randint(1, len(self.ids) // 2)):
            if integration_id not in self.desired:
                self.write(integration_id, self.random_mapping())
                done.append(f"+{integration_id}")
            elif self.rng.random() < 0.1:
                (self.root / "mappings" / f"shop-{integration_id}.yaml").unlink()
                del self.desired[integration_id]
                self.forgotten.add(integration_id)  # on_removed: forget
                done.append(f"-{integration_id}")
            else:
                self.write(integration_id, self.random_mapping())
                done.append(f"~{integration_id}")
        return " ".join(done)

    def random_mapping(self) -> MappingDict:
        return {c: self.rng.choice(VALUES) for c in CATEGORIES}

    def faults(self) -> tuple[SandboxOptions, str]:
        rules: list[FaultRule] = []
        if self.rng.random() < 0.4:
            rules.append(
                FaultRule(
                    method="POST", status=self.rng.choice([500, 502, 503]), times=self.rng.randint(1, 6)
                )
            )
        if self.rng.random() < 0.3:
            rules.append(FaultRule(method="POST", drop=True, times=self.rng.randint(1, 3)))
        limit = self.rng.choice([None, None, 120, 300])
        latency = self.rng.choice([0.0, 0.05, 0.1, MAX_LATENCY])
        text = f"latency {latency}s, limit {limit or 'none'}, " + (
            ", ".join(f"{r.status or 'drop'}x{r.times}" for r in rules) or "no faults"
        )
        return SandboxOptions(latency=latency, post_per_minute=limit, faults=tuple(rules)), text

    def check(self) -> list[str]:
        """Every way the state and live disagree that the journal should have prevented."""
        state = load_state(self.state_path)
        problems = []
        for integration_id in self.ids:
            stored = self.store.integration(integration_id)
            assert stored is not None
            live = stored.mapping_dict()
            entry = state.entries.get(integration_id)
            pending = state.uncertain.get(integration_id)
            if pending is not None:
                possible = [*self.sent.get(integration_id, []), INITIAL]
                if entry is not None:
                    possible.append(dict(entry.mapping))
                if live not in possible:
                    problems.append(f"{integration_id}: uncertain, but live {live} was never sent")
            elif entry is not None:
                if dict(entry.mapping) != live:
                    problems.append(f"{integration_id}: the state says {dict(entry.mapping)}, live is {live}")
            elif integration_id not in self.forgotten and live != INITIAL:
                problems.append(f"{integration_id}: not in the state, yet live is {live}")
        leftovers = [p.name for p in self.state_path.parent.glob(".*.tmp")]
        return problems + [f"temporary file left: {name}" for name in leftovers]


def statusync(soak: Soak, server: SandboxServer, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CI": "1",
        "STATUSYNC_API_URL": server.url,
        "SENDCLOUD_PUBLIC_KEY": KEYS.public_key,
        "SENDCLOUD_SECRET_KEY": KEYS.secret_key,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "statusync", *args],
        cwd=soak.root,
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def one_round(soak: Soak, number: int) -> list[str]:
    edits = soak.edit()
    options, faults = soak.faults()
    configured = soak.rng.choice([600, 6000])
    (soak.root / "statusync.yaml").write_text(f"rate_limit: {{unsafe_per_minute: {configured}}}\n")
    stop = soak.rng.choice(STOPS)
    delay = soak.rng.uniform(0.45, 1.2)  # after start-up: the handlers are installed by then
    with SandboxServer(soak.store, KEYS, options, port=0) as server:
        proc = statusync(soak, server, "apply", "--yes", "--force", "--lock-timeout", "5")
        stopped_in = 0.0
        if stop != "none":
            time.sleep(delay)
            started = time.monotonic()
            if stop == "SIGKILL":
                proc.kill()
            elif stop == "twice":
                proc.send_signal(signal.SIGTERM)
                time.sleep(0.05)
                proc.send_signal(signal.SIGINT)
            else:
                proc.send_signal(getattr(signal, stop))
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            stopped_in = time.monotonic() - started
        _, err = proc.communicate(timeout=300)
        # What a killed client left on the wire still lands: let it, before anyone looks.
        time.sleep(MAX_LATENCY + 0.2)
        soak.store.clear_faults()
    problems = soak.check()
    if "Traceback" in err or "internal error" in err:
        problems.append("a crash: " + err[-500:])
    if "holds the lock" in err:
        problems.append("a lock was left behind")
    if stop in ("SIGTERM", "SIGINT", "twice") and stopped_in > 3.0 and proc.returncode != 0:
        problems.append(f"the run took {stopped_in:.1f} s to stop")
    if stop == "none" and proc.returncode not in (0, 1):
        problems.append(f"exit code {proc.returncode}")
    if proc.returncode in (0, 1) and journal_path(soak.state_path).exists() and stop != "twice":
        problems.append("a run that finished left its journal")
    state = load_state(soak.state_path)
    soak.figures["uncertain"] = soak.figures.get("uncertain", 0) + len(state.uncertain)
    soak.figures["max_stop"] = max(soak.figures.get("max_stop", 0.0), stopped_in)
    if stop != "none" and proc.returncode != 0:  # it came while the run was under way
        soak.figures[f"landed {stop}"] = soak.figures.get(f"landed {stop}", 0) + 1
    print(
        f"round {number:3}: {stop:<7} after {delay:3.1f}s exit {proc.returncode:>3}"
        + (f" in {stopped_in:.2f}s" if stop != "none" else "          ")
        + f" | {len(state.entries):2} recorded, {len(state.uncertain)} uncertain | {faults} | "
        + f"{edits}"
        + ("" if not problems else f"\n  PROBLEMS: {problems}"),
        flush=True,
    )
    return problems


def converge(soak: Soak) -> list[str]:
    (soak.root / "statusync.yaml").write_text("rate_limit: {unsafe_per_minute: 6000}\n")
    problems = []
    with SandboxServer(soak.store, KEYS, SandboxOptions(), port=0) as server:
        for args, expected in (
            (("apply", "--yes", "--force"), 0),
            (("plan", "--detailed-exitcode"), 0),
            (("drift",), 0),
        ):
            proc = statusync(soak, server, *args)
            out, err = proc.communicate(timeout=300)
            if proc.returncode != expected:
                problems.append(f"{' '.join(args)} exited {proc.returncode}: {err[-500:]}")
    problems += soak.check()
    state = load_state(soak.state_path)
    if state.uncertain or journal_path(soak.state_path).exists():
        problems.append("uncertain integrations or a journal left after converging")
    if sorted(state.entries) != sorted(soak.desired):
        problems.append("the state does not record exactly the files")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--integrations", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ids = list(range(1, args.integrations + 1))
    statuses = tuple(StoredStatus(e, (("en-gb", f"Status {e}"),)) for e in "123456")
    store = SandboxStore(
        StoredIntegration(
            id=i, shop_name=f"Shop {i}", statuses=statuses, mapping=tuple(INITIAL[c] for c in CATEGORIES)
        )
        for i in ids
    )
    with tempfile.TemporaryDirectory(prefix="statusync-soak-") as tmp:
        soak = Soak(Path(tmp), store, rng, ids)
        (soak.root / "mappings").mkdir()
        failures = 0
        started = time.monotonic()
        for number in range(1, args.rounds + 1):
            failures += bool(one_round(soak, number))
        final = converge(soak)
    print(
        f"\n{args.rounds} rounds (seed {args.seed}) in {time.monotonic() - started:.0f} s: "
        f"{failures} with problems; {soak.figures.get('uncertain', 0):.0f} uncertain "
        f"integrations seen after rounds; slowest stop {soak.figures.get('max_stop', 0):.2f} s"
    )
    landed = {k.split()[1]: int(v) for k, v in soak.figures.items() if k.startswith("landed")}
    print(f"stops that came while a run was under way: {landed}")
    print("converged: " + ("yes" if not final else f"NO: {final}"))
    return 0 if failures == 0 and not final else 1


if __name__ == "__main__":
    raise SystemExit(main())
