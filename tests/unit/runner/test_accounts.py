import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync.core.model import MappingDict
from statusync.core.plan import make_plan
from statusync.errors import AccountRefused, AccountSkipped, CredentialsRejected
from statusync.files.state_file import load_state
from statusync.runner.accounts import AccountClient, AccountStops, PacedAccountClient
from statusync.runner.apply import apply_plan
from statusync.runner.recorder import Recorder
from tests.support.builders import loaded, mapping

A = mapping("1", "2", "3", None)
REFUSAL = CredentialsRejected(
    "POST /shop-order-statuses/mapping (integration 1): HTTP 401: Sendcloud rejected the API credentials",
    status=401,
    detail="Invalid username/password.",
)


class Api:
    """An account's client: refuses every request with `refuse`, else accepts it; what left."""

    def __init__(self, refuse: bool = False, before_send: Callable[[], None] = lambda: None) -> None:
        self.refuse = refuse
        self.before_send = before_send
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def upsert_mapping(
        self, integration_id: int, mapping: MappingDict, *, on_send: Callable[[], None] | None = None
    ) -> None:
        self.before_send()  # its turn under the rate limit comes
        if on_send is not None:
            on_send()
        with self.lock:
            self.sent.append(integration_id)
        if self.refuse:
            raise REFUSAL


def guarded(apis: dict[str, Api], stops: AccountStops) -> dict[str, AccountClient]:
    return {name: AccountClient(name, api, stops) for name, api in apis.items()}  # type: ignore[arg-type]


def test_a_write_whose_turn_comes_after_its_account_stopped_is_not_sent() -> None:
    stops = AccountStops()
    first = Api(refuse=True)
    clients: dict[str, AccountClient] = {}
    # While the second write waits for its turn, the first is refused.
    second = Api(before_send=lambda: pytest.raises(AccountRefused, clients["other"].upsert_mapping, 1, A))
    clients["other"] = PacedAccountClient("bad", first, stops)  # type: ignore[arg-type]
    intents: list[int] = []
    with pytest.raises(AccountSkipped, match="integration 2: not sent: account 'bad' was stopped"):
        PacedAccountClient("bad", second, stops).upsert_mapping(2, A, on_send=lambda: intents.append(2))  # type: ignore[arg-type]
    assert first.sent == [1] and second.sent == [] and intents == []
    assert stops.left_ids("bad") == {1, 2}


@pytest.mark.parametrize("parallelism", [1, 3, 8])
def test_one_refused_account_leaves_the_others_whole(tmp_path: Path, parallelism: int) -> None:
    specs = [loaded(i, A, account="bad" if i % 2 else "good") for i in range(1, 21)]
    plan = make_plan(specs, load_state(tmp_path / "state.json"))
    apis = {"good": Api(), "bad": Api(refuse=True)}
    stops = AccountStops()
    path = tmp_path / "state.json"
    recorder = Recorder(path, load_state(path))
    outcomes = apply_plan(plan, guarded(apis, stops), recorder, parallelism=parallelism)
    recorder.finish()
    assert sorted(apis["good"].sent) == list(range(2, 21, 2))
    assert 1 <= len(apis["bad"].sent) <= parallelism  # only those already under way
    if parallelism == 1:
        assert apis["bad"].sent == [1]
    assert sorted(load_state(path).entries) == list(range(2, 21, 2))
    skipped = [o.change.integration_id for o in outcomes if o.skipped]
    assert len(skipped) == 10 - len(apis["bad"].sent)
    assert not any(o.uncertain for o in outcomes)
    [line] = stops.summary()
    assert line.startswith(
        "account 'bad' stopped: POST /shop-order-statuses/mapping (integration 1): HTTP 401"
    )
    assert line.endswith("; 10 integrations left undone")


def test_an_account_without_credentials_sends_nothing() -> None:
    stops = AccountStops()
    client = AccountClient("shop-c", None, stops, unconfigured="missing credentials for account 'shop-c'")
    with pytest.raises(AccountSkipped):
        client.get_mapping(7)
    assert stops.summary() == [
        "account 'shop-c' stopped: missing credentials for account 'shop-c'; 1 integration left undone"
    ]
