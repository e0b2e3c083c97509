"""Drift as data, with a fake API: statuses, causes, failures, reconcile."""

from __future__ import annotations

import pytest

from statusync.core.drift import (
    Cause,
    CheckFailure,
    DriftReport,
    DriftStatus,
    compare,
    reconcile_plan,
)
from statusync.core.model import MappingDict
from statusync.core.plan import Action
from statusync.errors import ApiError, IntegrationNotFound
from statusync.runner.drift_check import check_drift
from statusync.sendcloud.models import LiveMapping
from tests.support.builders import live, loaded, mapping, sample_drift, state_of

DESIRED = mapping("1", "2", "3", None)


def api_error(status: int) -> ApiError:
    kind = IntegrationNotFound if status == 404 else ApiError  # as the client raises them
    return kind(f"GET /shop-order-statuses/mapping: HTTP {status}: nope", status=status, detail="nope")


class FakeApi:
    def __init__(self, answers: dict[int, LiveMapping | ApiError]) -> None:
        self.answers = answers
        self.asked: list[int] = []

    def get_mapping(self, integration_id: int) -> LiveMapping:
        self.asked.append(integration_id)
        answer = self.answers[integration_id]
        if isinstance(answer, ApiError):
            raise answer
        return answer


@pytest.mark.parametrize(
    "last_applied, current, invalid, status, cause",
    [
        (DESIRED, DESIRED, (), DriftStatus.IN_SYNC, None),
        (None, DESIRED, (), DriftStatus.IN_SYNC, None),
        (DESIRED, mapping("1", "2", "9", None), (), DriftStatus.DRIFTED, Cause.CHANGED_OUTSIDE),
        (None, mapping(None, None, None, None), (), DriftStatus.DRIFTED, Cause.NOT_APPLIED),
        (
            mapping("1", "2", "7", None),
            mapping("1", "2", "7", None),
            (),
            DriftStatus.DRIFTED,
            Cause.NOT_APPLIED,
        ),
        # The file still asks for the deleted status: only a file change helps.
        (DESIRED, DESIRED, ("DELIVERED",), DriftStatus.INVALID, None),
        # ... even when another category differs too: posting would be refused.
        (DESIRED, mapping("9", "2", "3", None), ("DELIVERED",), DriftStatus.INVALID, Cause.CHANGED_OUTSIDE),
        # The invalid entry is one the file does not want: posting the file replaces it.
        (DESIRED, mapping("1", "2", "8", None), ("DELIVERED",), DriftStatus.DRIFTED, Cause.CHANGED_OUTSIDE),
    ],
)
def test_status_and_cause(
    last_applied: MappingDict | None,
    current: MappingDict,
    invalid: tuple[str, ...],
    status: DriftStatus,
    cause: Cause | None,
) -> None:
    drift = compare(loaded(1, DESIRED), last_applied, live(current, invalid))
    assert drift.status is status
    assert drift.cause is cause
    assert [(i.category, i.external_id) for i in drift.invalid] == [(c, current[c]) for c in invalid]


def test_differences_name_each_category_with_desired_live_and_last_applied() -> None:
    drift = compare(loaded(1, DESIRED), mapping("1", "2", "3", "4"), live(mapping("1", "5", "3", "4")))
    assert [d.data() for d in drift.differences] == [
        {"category": "IN_TRANSIT", "desired": "2", "live": "5", "last_applied": "2"},
        {"category": "CANCEL", "desired": None, "live": "4", "last_applied": "4"},
    ]


def test_not_found_has_no_live_mapping() -> None:
    drift = compare(loaded(1, DESIRED), DESIRED, None)
    assert drift.status is DriftStatus.NOT_FOUND and drift.live is None
    assert drift.differences == () and drift.invalid == () and drift.cause is None


def test_check_reads_each_file_once_and_reports_in_file_order() -> None:
    specs = [
        loaded(3, DESIRED, "mappings/a.yaml"),
        loaded(1, DESIRED, "mappings/b.yaml"),
        loaded(2, DESIRED, "mappings/c.yaml", account="eu"),
    ]
    default = FakeApi({3: live(DESIRED, integration_id=3), 1: api_error(404)})
    eu = FakeApi({2: live(mapping(None, None, None, None), integration_id=2)})
    seen: list[str] = []
    report = check_drift(
        specs,
        state_of((1, DESIRED), (2, DESIRED), (3, DESIRED)),
        {"default": default, "eu": eu},
        parallelism=2,
        report=lambda c: seen.append(c.describe()),
    )
    assert [(d.file, d.status) for d in report.integrations] == [
        ("mappings/a.yaml", DriftStatus.IN_SYNC),
        ("mappings/b.yaml", DriftStatus.NOT_FOUND),
        ("mappings/c.yaml", DriftStatus.DRIFTED),
    ]
    assert sorted(default.asked) == [1, 3] and eu.asked == [2]
    assert sorted(seen) == [
        "1 (mappings/b.yaml): not found",
        "2 (mappings/c.yaml): drifted",
        "3 (mappings/a.yaml): in sync",
    ]


@pytest.mark.parametrize("status", [400, 401, 500, None])
def test_other_errors_fail_one_integration_and_the_others_are_checked(status: int | None) -> None:
    specs = [loaded(1, DESIRED), loaded(2, DESIRED)]
    api = FakeApi(
        {
            1: api_error(status) if status else ApiError("timed out", status=None, detail="timed out"),
            2: live(DESIRED),
        }
    )
    report = check_drift(specs, state_of(), {"default": api})
    assert [d.integration_id for d in report.integrations] == [2]
    assert [(f.loaded.spec.integration_id, f.ok) for f in report.failures] == [(1, False)]
    assert report.failures[0].describe().startswith("1 (mappings/1.yaml): FAILED: ")


def _report() -> DriftReport:
    return sample_drift(DESIRED)


def test_reconcile_updates_only_drifted_integrations_from_live_to_desired() -> None:
    report = _report()
    plan = reconcile_plan(report, managed=5)
    assert [(c.integration_id, c.action) for c in plan.changes] == [(1, Action.UPDATE), (2, Action.UPDATE)]
    first = plan.changes[0]
    assert first.before == mapping("1", "2", "9", None) and first.after == DESIRED
    assert first.sha256 == "sha-1" and first.name == "ACME | NL"
    assert plan.managed == 5 and plan.unchanged == 3


def test_integrations_that_could_not_be_checked_are_errors_not_integrations() -> None:
    report = DriftReport(
        (compare(loaded(1, DESIRED), DESIRED, live(DESIRED)),),
        (CheckFailure(loaded(2, DESIRED), "HTTP 500: boom"),),
    )
    data = report.data()
    assert data["errors"] == [{"integration_id": 2, "file": "mappings/2.yaml", "error": "HTTP 500: boom"}]
    assert [i["integration_id"] for i in data["integrations"]] == [1]
