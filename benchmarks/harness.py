"""What the benchmarks share: a sandbox of N in-sync integrations, a project of mapping files and
its state, a timed statusync run with the time of every request the sandbox answered, the best
time of a command run several times, and the references a result is read against: what httpx
alone sustains here, and the imports and file reads any run must pay."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.core.model import CATEGORIES
from statusync.core.state import Entry, State
from statusync.files.catalog_file import save_catalog
from statusync.files.state_file import save_state
from statusync.sandbox import (
    LoggedRequest,
    SandboxOptions,
    SandboxServer,
    SandboxStore,
    StoredIntegration,
    StoredStatus,
)
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.ratelimit import CLIENT_BURST

# Sendcloud allows ten times as many GETs as POSTs a minute (1,000 against 100 by default): the
# benchmarks configure each account's GET limit so, in the sandbox and in statusync.yaml alike.
GET_PER_POST = 10
MAPPING = {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
KEYS = Credentials("bench-public", "bench-secret")
FIRST_ID = 100_000


def rate_limit_yaml(post_per_minute: int) -> str:
    """statusync.yaml's rate_limit for an account at `post_per_minute`, GETs at GET_PER_POST times
    that."""
    return f"{{unsafe_per_minute: {post_per_minute}, safe_per_minute: {post_per_minute * GET_PER_POST}}}"


def mapping_text(integration_id: int) -> str:
    lines = [f"integration_id: {integration_id}", "mapping:"]
    lines += [f"  {c}: {'null' if MAPPING[c] is None else json.dumps(MAPPING[c])}" for c in CATEGORIES]
    return "\n".join(lines) + "\n"


class TimedStore(SandboxStore):
    """A sandbox store that also notes when it answered each request."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.times: list[float] = []
        self._times_lock = threading.Lock()

    def log_request(self, entry: LoggedRequest) -> None:
        with self._times_lock:
            super().log_request(entry)
            self.times.append(time.monotonic())


def in_sync_store(ids: range) -> TimedStore:
    statuses = tuple(StoredStatus(e, (("en-gb", f"Status {e}"),)) for e in ("1", "2", "3"))
    return TimedStore(
        StoredIntegration(
            id=i, shop_name=f"Shop {i}", statuses=statuses, mapping=tuple(MAPPING[c] for c in CATEGORIES)
        )
        for i in ids
    )


def write_project(
    root: Path,
    ids: range,
    *,
    applied: bool,
    settings: str = "",
    account: Callable[[int], str] | None = None,
    statuses: int = 0,
) -> None:
    """The mapping files of `ids` and statusync.yaml; with `applied`, a state recording each file
    as applied (so they are all managed and in sync). With `account`, each file names its
    account and sits in a folder of that account's. With `statuses`, a status catalog
    (statuses.json) naming that many statuses of every shop, as `import` leaves it."""
    entries = {}
    for integration_id in ids:
        name = "default" if account is None else account(integration_id)
        folder = "" if account is None else f"{name}/"
        file = f"mappings/{folder}shop-{integration_id}.yaml"
        text = mapping_text(integration_id)
        if account is not None:
            text = text.replace("mapping:", f"account: {name}\nmapping:", 1)
        data = text.encode()
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(data)
        entries[integration_id] = Entry(
            file, hashlib.sha256(data).hexdigest(), name, None, dict(MAPPING), "2026-01-01T00:00:00Z"
        )
    if applied:
        save_state(root / ".statusync" / "state.json", State(entries=entries))
    if statuses:
        names = {str(e): KnownStatus(f"Status {e}") for e in range(1, statuses + 1)}
        shops = {i: ShopStatuses("2026-01-01T00:00:00Z", "en-gb", names) for i in ids}
        save_catalog(root / ".statusync" / "statuses.json", StatusCatalog(shops))
    (root / "statusync.yaml").write_text(settings)


@dataclass(frozen=True)
class Timed:
    run: subprocess.CompletedProcess[str]
    elapsed: float  # the whole process, start-up included
    requests: list[LoggedRequest]  # as the sandbox answered them ...
    times: list[float]  # ... and when
    started: float = 0.0  # when the process started, by the same clock
    client_cpu: float = 0.0  # CPU seconds of the statusync process (user + system) ...
    server_cpu: float = 0.0  # ... and of this process meanwhile: the sandbox's threads

    def cpu_per_request(self) -> str:
        """The CPU each side spent per request answered: on a shared machine wall times read low
        under others' load, CPU times much less so."""
        count = max(1, len(self.requests))
        return (
            f"statusync {self.client_cpu / count * 1000:.2f} ms, sandbox "
            f"{self.server_cpu / count * 1000:.2f} ms (whole runs: {self.client_cpu:.1f} s and "
            f"{self.server_cpu:.1f} s for {len(self.requests)} requests)"
        )

    def end_to_end(self, method: str, configured: int) -> str:
        """The rate of accepted `method` requests over the whole process (start-up, plan and the
        last write of the state included) against `configured`, and where the time went."""
        accepted = self.count(method, 200)
        rate = accepted / self.elapsed * 60
        first = self.times[0] - self.started if self.times else self.elapsed
        last = self.started + self.elapsed - self.times[-1] if self.times else 0.0
        return (
            f"{rate:.0f}/min end to end = {rate / configured:.1%} of the limit "
            f"({first:.2f} s before the first request, {last:.2f} s after the last answer)"
        )

    def count(self, method: str, status: int | None = None) -> int:
        return sum(1 for r in self.requests if r.method == method and (status is None or r.status == status))

    def sustained_per_minute(self, method: str, skip: int) -> float:
        """Requests a minute between the `skip`th answer (after the first burst) and the last:
        the rate the limit bounds, without start-up and burst."""
        times = [t for r, t in zip(self.requests, self.times, strict=True) if r.method == method]
        if len(times) <= skip + 1:
            return 0.0
        return (len(times) - 1 - skip) / (times[-1] - times[skip]) * 60


def timed_run(
    root: Path,
    ids: range,
    options: SandboxOptions,
    *args: str,
    keys: dict[str, Credentials] | None = None,
) -> Timed:
    """Run `statusync ARGS` in `root` (as in CI) against a sandbox holding `ids`, all in sync.
    `keys`: the key pair of each env variable prefix (SENDCLOUD for the default account); the
    sandbox accepts them all."""
    keys = keys or {"SENDCLOUD": KEYS}
    compile_statusync()  # started as installed: the run's start-up is timed too
    store = in_sync_store(ids)
    with SandboxServer(store, list(keys.values()), options, port=0) as server:
        env = {**os.environ, "CI": "1", "STATUSYNC_API_URL": server.url}
        for prefix, pair in keys.items():
            env[f"{prefix}_PUBLIC_KEY"] = pair.public_key
            env[f"{prefix}_SECRET_KEY"] = pair.secret_key
        # The project just written goes to the disk first, as plan_speed's does: the kernel
        # writing back thousands of new files would otherwise hold up the run's own syncs of
        # the state at its end, a cost of this benchmark's setup, not of the run.
        os.sync()
        before = _cpu()
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "statusync", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        client, server = (after - earlier for after, earlier in zip(_cpu(), before, strict=True))
        return Timed(run, elapsed, store.requests(), list(store.times), started, client, server)


# The reference for a rate: a fresh Python process in which `threads` threads, each with an
# httpx.Client of its own and nothing else of statusync (no pacing, no parsing, no bookkeeping),
# GET the integrations' mappings from the sandbox as fast as it answers. It tells what one Python
# process with httpx, statusync's client library, reaches on this machine: a share of a limit
# that this reference cannot reach is one that statusync cannot reach here either.
_HTTPX_ALONE = """
import sys, threading, time, httpx
url, public, secret, first, count, threads = sys.argv[1:]
first, count, threads = int(first), int(count), int(threads)
ids = iter(range(first, first + count))
take = threading.Lock()
times = []
def work():
    with httpx.Client(auth=(public, secret)) as client:
        while True:
            with take:
                integration_id = next(ids, None)
            if integration_id is None:
                return
            response = client.get(url, params={"integration_id": integration_id})
            response.raise_for_status()
            response.json()
            times.append(time.monotonic())
workers = [threading.Thread(target=work) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
times.sort()
skip = min(len(times) - 2, threads)  # after the first round of requests, as connections open
print((len(times) - 1 - skip) / (times[-1] - times[skip]) * 60)
"""


def httpx_alone_per_minute(ids: range, latency: float, threads: list[int]) -> tuple[float, int]:
    """The most GETs a minute that httpx alone (_HTTPX_ALONE) sustained against a sandbox of
    `ids` with `latency` and no limit, and with how many threads (the best of `threads`, each
    tried once)."""
    store = in_sync_store(ids)
    best = (0.0, 0)
    options = SandboxOptions(latency=latency, get_per_minute=None, post_per_minute=None)
    with SandboxServer(store, [KEYS], options, port=0) as server:
        for count in threads:
            run = subprocess.run(
                [sys.executable, "-c", _HTTPX_ALONE, f"{server.url}/shop-order-statuses/mapping"]
                + [KEYS.public_key, KEYS.secret_key, str(ids.start), str(len(ids)), str(count)],
                capture_output=True,
                text=True,
                check=True,
            )
            best = max(best, (float(run.stdout), count))
    return best


def _cpu() -> tuple[float, float]:
    """CPU seconds so far of the child processes waited for, and of this process."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime, own.ru_utime + own.ru_stime


def report_rate(timed: Timed, method: str, configured: int, server_limit: int, done: bool) -> int:
    """Print the rate `timed` sustained for `method` and the 429s it met; the exit code: 0 when
    the run did all its work (`done`) and, against a server at the configured limit, kept to at
    least 90% of it without a 429."""
    sustained = timed.sustained_per_minute(method, CLIENT_BURST)
    throttled = timed.count(method, 429)
    print(
        f"  sustained rate:     {sustained:.0f}/min after the first burst = "
        f"{sustained / server_limit:.1%} of the server's limit, "
        f"{sustained / configured:.1%} of the configured one"
    )
    print(f"  429 answers:        {throttled}")
    ok = timed.run.returncode == 0 and done
    if server_limit >= configured:
        ok = ok and throttled == 0 and sustained >= 0.9 * configured
    if not ok:
        sys.stderr.write(timed.run.stderr[-2000:])
    return 0 if ok else 1


# Every file, read and hashed: what any plan or apply of these files must do at least.
READ_AND_HASH = """
import hashlib, os
for folder, _, names in os.walk("mappings"):
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            hashlib.sha256(f.read()).hexdigest()
"""
# The libraries statusync cannot run without, imported as statusync imports them (its package
# first: it turns off what of them it never uses), and httpx's TLS context built: what any
# statusync command that talks to the API spends before its own code runs.
IMPORTS = """
import statusync, click, httpx, pydantic, ruamel.yaml
httpx.create_ssl_context()
"""


def best_of(command: list[str], cwd: Path, runs: int) -> float:
    """The shortest wall time of `runs` runs of `command` in `cwd`, each a fresh process: on a
    shared machine the shortest run is the one least slowed down by others."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def compile_statusync() -> None:
    """Compile statusync's modules to bytecode, as installing it does (pip compiles a wheel's
    modules): a checkout run with PYTHONDONTWRITEBYTECODE (or read-only) would otherwise compile
    some fifty modules from source on every start, a cost no installed statusync pays."""
    import compileall

    import statusync

    compileall.compile_dir(Path(statusync.__file__).parent, quiet=1)
