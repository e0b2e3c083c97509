"""Mapping files against the shops' statuses: findings, hints and where they are reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from statusync.core.status_check import (
    MAX_HINT_STATUSES,
    Finding,
    available_hint,
    id_order,
    integration_refusal,
    refusal_finding,
    status_findings,
)
from statusync.errors import ApiError
from statusync.files.mappings import located
from statusync.sendcloud.models import ShopStatus
from tests.support.builders import mapping

DELETED = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
SHOP = [
    ShopStatus(external_id="5", status="Delivered"),
    ShopStatus(external_id="2", status="Payment accepted"),
    ShopStatus(external_id="6", status="Canceled", deleted_at=DELETED),
    ShopStatus(external_id="4", status="Shipped"),
]
AVAILABLE = '(available: "2" Payment accepted, "4" Shipped, "5" Delivered)'


def test_all_ids_known_means_no_findings() -> None:
    assert status_findings(mapping("2", "4", "5", None), SHOP) == []


def test_an_unknown_id() -> None:
    assert status_findings(mapping("2", "4", "9", None), SHOP) == [
        Finding(("mapping", "DELIVERED"), f'DELIVERED: the shop has no status "9" {AVAILABLE}')
    ]


def test_a_deleted_id() -> None:
    assert status_findings(mapping("2", "4", "5", "6"), SHOP) == [
        Finding(
            ("mapping", "CANCEL"),
            'CANCEL: status "6" (Canceled) was deleted in the shop on '
            f"2026-03-14; map another status or null {AVAILABLE}",
        )
    ]


def test_every_bad_category_is_reported() -> None:
    found = status_findings(mapping("9", "9", "6", None), SHOP)
    assert [f.loc for f in found] == [
        ("mapping", "READY_TO_SEND"),
        ("mapping", "IN_TRANSIT"),
        ("mapping", "DELIVERED"),
    ]


def test_a_status_created_again_after_deletion_is_available() -> None:
    again = [ShopStatus(external_id="6", status="Canceled again"), *SHOP]
    assert status_findings(mapping(None, None, None, "6"), again) == []


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "the shop has no available statuses"),
        ([ShopStatus(external_id="1", deleted_at=DELETED)], "the shop has no available statuses"),
        (
            [
                ShopStatus(external_id="10", status="Ten"),
                ShopStatus(external_id="b", status="Bee"),
                ShopStatus(external_id="9", status="Nine"),
                ShopStatus(external_id="a", status=""),
            ],
            'available: "9" Nine, "10" Ten, "a", "b" Bee',
        ),
        # Names spelled as plans show them: escaped, shortened past 80 characters.
        ([ShopStatus(external_id="1", status="Two\nlines")], 'available: "1" Two\\nlines'),
        ([ShopStatus(external_id="1", status="x" * 100)], f'available: "1" {"x" * 79}…'),
    ],
)
def test_available_hint(statuses: list[ShopStatus], expected: str) -> None:
    assert available_hint(statuses) == expected


def test_the_hint_is_capped_for_a_shop_with_many_statuses() -> None:
    many = [ShopStatus(external_id=str(i), status=f"Status {i}") for i in range(1, 41)]
    hint = available_hint(many)
    assert hint.endswith(
        f'"{MAX_HINT_STATUSES}" Status {MAX_HINT_STATUSES} and {40 - MAX_HINT_STATUSES} more'
    )
    assert hint.count('"') == 2 * MAX_HINT_STATUSES


def error(status: int | None, detail: str = "no") -> ApiError:
    return ApiError(f"GET /x: HTTP {status}: {detail}", status=status, detail=detail)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, "integration 7 not found (HTTP 404: gone)"),
        (400, "integration 7: HTTP 400: gone"),
        (403, "integration 7: HTTP 403: gone"),
        (401, None),  # the credentials: every request fails alike
        (429, None),
        (500, None),
        (None, None),  # no answer at all
    ],
)
def test_integration_refusal(status: int | None, expected: str | None) -> None:
    assert integration_refusal(7, error(status, "gone")) == expected


TEXT = """\
integration_id: 7
mapping:
  READY_TO_SEND: "2"
  IN_TRANSIT: "4"
  DELIVERED: "9"
  CANCEL: null
"""


def test_findings_are_located_at_their_values() -> None:
    findings = [
        Finding(("mapping", "DELIVERED"), "DELIVERED: bad"),
        refusal_finding("integration 7 not found (HTTP 404: gone)"),
    ]
    assert [str(p) for p in located("mappings/x.yaml", TEXT, findings)] == [
        "mappings/x.yaml:5:14: DELIVERED: bad",
        "mappings/x.yaml:1:17: integration 7 not found (HTTP 404: gone); its external ids cannot be checked",
    ]


def test_ids_from_outside_sort_numerically_without_ever_failing() -> None:
    # A shop's id may be 5,000 digits (longer than Python converts) or hold non-ASCII digits.
    huge, superscript = "9" * 5000, "²"
    ordered = sorted(["10", huge, "2", superscript, "b", "a"], key=id_order)
    assert ordered == ["2", "10", huge, "a", "b", superscript]
