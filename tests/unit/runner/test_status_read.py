import threading

from statusync.core.plan import make_plan
from statusync.runner.status_read import StatusReads, check_before_send
from statusync.sendcloud.models import ShopStatus
from tests.support.builders import loaded, mapping, state_of

A = mapping("1", "2", "3", None)


class FakeShops:
    """One account's reads of its shops' statuses: "a"'s wait until a read of "b" is under way
    beside them (served one account after the other, they would wait in vain)."""

    def __init__(self, account: str, b_reading: threading.Event, log: list[tuple[str, int]]) -> None:
        self.account = account
        self.b_reading = b_reading
        self.log = log

    def list_shop_statuses(
        self, integration_id: int, show_deleted: bool = False, language: str | None = None
    ) -> list[ShopStatus]:
        self.log.append((self.account, integration_id))
        if self.account == "b":
            self.b_reading.set()
        else:
            assert self.b_reading.wait(5), "account b's reads waited for account a's"
        return [ShopStatus(external_id=e, status=f"status {e}") for e in ("1", "2", "3")]


def test_the_reads_before_writing_serve_every_account_side_by_side() -> None:
    # Each account's files in a folder of their own: in file order, all of a's come first.
    specs = [loaded(i, A, f"mappings/a/{i}.yaml", "a") for i in range(1, 6)]
    specs += [loaded(i, A, f"mappings/b/{i}.yaml", "b") for i in range(11, 16)]
    plan = make_plan(specs, state_of())
    b_reading = threading.Event()
    log: list[tuple[str, int]] = []
    readers = {name: FakeShops(name, b_reading, log) for name in ("a", "b")}
    reads = StatusReads("en-gb", clock=lambda: "2026-01-01T00:00:00Z")
    refusals = check_before_send(
        list(plan.changes), readers, reads, lambda _file, _findings: [], parallelism=2
    )
    assert refusals == []
    assert sorted(log) == [("a", i) for i in range(1, 6)] + [("b", i) for i in range(11, 16)]
    # b's first read was among the first two started, not after every read of a.
    assert "b" in {account for account, _ in log[:2]}
    assert sorted(reads.shops) == [1, 2, 3, 4, 5, 11, 12, 13, 14, 15]
