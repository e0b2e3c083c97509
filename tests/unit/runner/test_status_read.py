import threading
from collections.abc import Callable
from pathlib import Path

from statusync.core.model import MappingDict
from statusync.core.plan import make_plan
from statusync.core.status_check import Finding
from statusync.errors import StatusyncError
from statusync.files.state_file import load_state
from statusync.runner.apply import ChangeResult, apply_plan, reading_workers
from statusync.runner.recorder import Recorder
from statusync.runner.status_read import StatusCheck, StatusReads
from statusync.sendcloud.models import ShopStatus
from statusync.sendcloud.pacing import Pace
from statusync.sendcloud.ratelimit import TokenBucket
from tests.support.builders import loaded, mapping, state_of
from tests.support.fake_time import FakeTime

A = mapping("1", "2", "3", None)
UNKNOWN = mapping("1", "2", "77", None)  # 77: no status of the shop


class FakeShop:
    """One account's API: its shops have statuses 1, 2 and 3; each request goes into `log`. Its
    reads of `failing` answer an error."""

    def __init__(self, account: str, log: list[tuple[str, str, int]], failing: frozenset[int] = frozenset()):
        self.account = account
        self.log = log
        self.failing = failing
        self.lock = threading.Lock()

    def list_shop_statuses(
        self, integration_id: int, show_deleted: bool = False, language: str | None = None
    ) -> list[ShopStatus]:
        with self.lock:
            self.log.append(("GET", self.account, integration_id))
        if integration_id in self.failing:
            raise StatusyncError("HTTP 503: unavailable")
        return [ShopStatus(external_id=e, status=f"status {e}") for e in ("1", "2", "3")]

    def upsert_mapping(
        self, integration_id: int, mapping: MappingDict, *, on_send: Callable[[], None] | None = None
    ) -> None:
        if on_send is not None:
            on_send()
        with self.lock:
            self.log.append(("POST", self.account, integration_id))

    def integration_exists(self, integration_id: int) -> bool:
        return True


def located(file: str, findings: list[Finding]) -> list[str]:
    return [f"{file}: {f.message}" for f in findings]


def apply(
    tmp_path: Path, plan, shops: dict[str, FakeShop], parallelism: int
) -> tuple[list[ChangeResult], StatusReads]:  # type: ignore[no-untyped-def]
    reads = StatusReads("en-gb", clock=lambda: "2026-01-01T00:00:00Z")
    recorder = Recorder(tmp_path / "state.json", load_state(tmp_path / "state.json"))
    outcomes = apply_plan(
        plan, shops, recorder, parallelism=parallelism, check=StatusCheck(shops, reads, located)
    )
    recorder.finish()
    return outcomes, reads


def test_each_write_reads_its_shops_statuses_right_before_it(tmp_path: Path) -> None:
    plan = make_plan([loaded(i, A) for i in range(1, 6)], state_of())
    log: list[tuple[str, str, int]] = []
    outcomes, reads = apply(tmp_path, plan, {"default": FakeShop("default", log)}, parallelism=1)
    assert all(o.ok for o in outcomes)
    # Not every read first and then every write: each integration's read, then its write.
    assert log == [(method, "default", i) for i in range(1, 6) for method in ("GET", "POST")]
    assert sorted(reads.shops) == [1, 2, 3, 4, 5]  # recorded for the catalog


def test_a_mapping_the_shop_lacks_is_refused_alone_and_never_sent(tmp_path: Path) -> None:
    plan = make_plan([loaded(1, A), loaded(2, UNKNOWN), loaded(3, A)], state_of())
    log: list[tuple[str, str, int]] = []
    outcomes, _ = apply(tmp_path, plan, {"default": FakeShop("default", log)}, parallelism=1)
    refused = [o for o in outcomes if not o.ok]
    assert [o.change.integration_id for o in refused] == [2]
    assert refused[0].error is not None and refused[0].error.startswith(
        "refused, nothing was sent: mappings/2.yaml: "
    )
    assert ("POST", "default", 2) not in log and ("GET", "default", 2) in log
    assert sorted(load_state(tmp_path / "state.json").entries) == [1, 3]


def test_a_read_that_fails_sends_the_write_unchecked_and_says_so(tmp_path: Path) -> None:
    plan = make_plan([loaded(1, A), loaded(2, A)], state_of())
    log: list[tuple[str, str, int]] = []
    outcomes, reads = apply(
        tmp_path, plan, {"default": FakeShop("default", log, failing=frozenset({2}))}, parallelism=1
    )
    assert all(o.ok for o in outcomes)
    described = {o.change.integration_id: o.describe() for o in outcomes}
    assert described[1] == "create 1 (mappings/1.yaml): created"
    assert described[2] == (
        "create 2 (mappings/2.yaml): created; its shop's statuses could not be read "
        "(HTTP 503: unavailable), so it was sent without checking them"
    )
    assert sorted(reads.shops) == [1]


def test_every_account_reads_and_writes_side_by_side(tmp_path: Path) -> None:
    # Each account's files in a folder of their own: in file order, all of a's come first.
    specs = [loaded(i, A, f"mappings/a/{i}.yaml", "a") for i in range(1, 6)]
    specs += [loaded(i, A, f"mappings/b/{i}.yaml", "b") for i in range(11, 16)]
    plan = make_plan(specs, state_of())
    log: list[tuple[str, str, int]] = []
    # The first two reads wait for each other: the two requests the runner has on the wire at
    # once (parallelism 2), whichever thread runs first.
    together = threading.Barrier(2, timeout=10)
    first_two: list[str] = []
    lock = threading.Lock()

    class SideBySide(FakeShop):
        def list_shop_statuses(
            self, integration_id: int, show_deleted: bool = False, language: str | None = None
        ) -> list[ShopStatus]:
            with lock:
                waits = len(first_two) < 2
                if waits:
                    first_two.append(self.account)
            if waits:
                together.wait()
            return super().list_shop_statuses(integration_id, show_deleted, language)

    shops = {name: SideBySide(name, log) for name in ("a", "b")}
    outcomes, _ = apply(tmp_path, plan, shops, parallelism=2)
    assert len(outcomes) == 10 and all(o.ok for o in outcomes)
    # The two requests on the wire together were one of each account's, though a's come first
    # in file order: the accounts are served side by side.
    assert sorted(first_two) == ["a", "b"] and not together.broken


class PacedShop:
    """An account paced as Sendcloud's: GETs at ten times the POST limit, 20 ms per request."""

    def __init__(self, t: FakeTime) -> None:
        self.paces = {
            "POST": Pace(TokenBucket(3000, 5, clock=t.clock, sleep=t.sleep), stop=threading.Event()),
            "GET": Pace(TokenBucket(30_000, 14, clock=t.clock, sleep=t.sleep), stop=threading.Event()),
        }
        for p in self.paces.values():
            p.observe(0.02)
            while p.bucket.try_acquire() <= 0:  # a run well under way: no burst left in hand
                pass

    def pace(self, method: str) -> Pace:
        return self.paces[method]


def test_a_write_after_a_read_takes_the_workers_of_both_at_the_write_rate_not_at_the_get_limit() -> None:
    shop = PacedShop(FakeTime())
    post, get = shop.paces["POST"].workers(), shop.paces["GET"].workers()
    workers = reading_workers(shop).limit()
    # At 50 writes a second, a read and a write of 20 ms each keep about two requests on the
    # wire; sized by the GET limit (500 a second) it would be ten times as many threads.
    assert post < workers <= post + 2
    assert get >= 13 and workers <= get // 3
