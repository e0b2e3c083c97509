"""The drift renderers: text for people, JSON for scripts, markdown for a GitHub issue body."""

from __future__ import annotations

import io
import json

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.core.drift import CheckFailure, DriftReport, compare
from statusync.render.drift import render_json, render_markdown, render_text
from tests.support.builders import live, loaded, mapping, sample_drift

DESIRED = mapping("1", "2", "3", None)


def _report() -> DriftReport:
    return sample_drift(DESIRED)


def test_json_document_matches_the_contract() -> None:
    report = DriftReport(
        (
            compare(loaded(1, DESIRED), DESIRED, live(mapping("1", "2", "9", None))),
            compare(loaded(2, DESIRED), DESIRED, live(DESIRED)),
            compare(loaded(3, DESIRED), DESIRED, live(DESIRED, ("IN_TRANSIT",))),
        )
    )
    out = io.StringIO()
    render_json(report, out)
    doc = json.loads(out.getvalue())
    assert doc["format_version"] == 1
    assert doc["summary"] == {"in_sync": 1, "drifted": 1, "invalid": 1, "not_found": 0}
    first, in_sync, invalid = doc["integrations"]
    assert {"integration_id", "file", "status", "differences", "invalid"} <= first.keys()
    assert first["differences"] == [
        {"category": "DELIVERED", "desired": "3", "live": "9", "last_applied": "3"}
    ]
    assert first["cause"] == "changed_outside_statusync"
    assert in_sync["status"] == "in_sync" and in_sync["differences"] == in_sync["invalid"] == []
    assert invalid["invalid"] == [{"category": "IN_TRANSIT", "external_id": "2"}]


def test_text_lists_what_differs_and_counts_the_rest() -> None:
    out = io.StringIO()
    render_text(_report(), out)
    text = out.getvalue()
    assert text.startswith("4 of 5 integrations differ from the files:")
    assert "~ drifted    1  mappings/1.yaml  (ACME | NL)" in text
    assert "# changed outside statusync" in text
    assert "# not applied yet: statusync never applied this file" in text
    assert 'IN_TRANSIT: live "2" points at a shop status the shop no longer has' in text
    assert "? not found  4  mappings/4.yaml" in text and "(HTTP 404)" in text
    assert "mappings/5.yaml" not in text
    assert "Drift: 2 drifted, 1 invalid, 1 not found, 1 in sync." in text
    assert "'statusync reconcile'" in text


def test_text_without_drift() -> None:
    out = io.StringIO()
    render_text(DriftReport((compare(loaded(1, DESIRED), DESIRED, live(DESIRED)),)), out)
    assert out.getvalue() == "No drift. 1 integration in sync.\n"


def test_markdown_is_an_issue_body() -> None:
    out = io.StringIO()
    render_markdown(_report(), out)
    text = out.getvalue()
    assert text.startswith("## statusync drift: 4 of 5 integrations differ from the files\n")
    assert "**2 drifted, 1 invalid, 1 not found, 1 in sync**" in text
    assert (
        '| 1 (ACME \\| NL) | `mappings/1.yaml` | DELIVERED | `"3"` | `"9"` | `"3"` '
        "| changed outside statusync"
    ) in text
    assert "| *never applied* |" in text
    assert "### Invalid live entries" in text and '| IN_TRANSIT | `"2"` |' in text
    assert "### Not found" in text and "- 4 `mappings/4.yaml`" in text
    assert "### What to do" in text and "`statusync reconcile`" in text


def test_markdown_stays_within_what_a_github_issue_holds() -> None:
    drifted = [
        compare(loaded(i, DESIRED), DESIRED, live(mapping("9", "8", "7", "6"))) for i in range(1, 3001)
    ]
    out = io.StringIO()
    render_markdown(DriftReport(tuple(drifted)), out)
    text = out.getvalue()
    assert len(text) < 65_536
    shown = text.count(" | READY_TO_SEND | ")
    assert 0 < shown < 3000
    assert (
        f"… and {3000 - shown} more integrations with differences not shown here: run `statusync drift`"
    ) in text
    assert "### What to do" in text


def test_a_drift_too_long_for_the_issue_is_skipped_and_the_rest_still_shown() -> None:
    wanted = [mapping("x" * 70_000, "2", "3", None), DESIRED, DESIRED]
    drifted = [compare(loaded(i, m), m, live(mapping("9", "8", "7", "6"))) for i, m in enumerate(wanted, 1)]
    out = io.StringIO()
    render_markdown(DriftReport(tuple(drifted)), out)
    text = out.getvalue()
    assert len(text) < 65_536
    assert [line.split(" | ")[0] for line in text.splitlines() if " | READY_TO_SEND | " in line] == [
        "| 2",
        "| 3",
    ]
    assert (
        "*… and 1 more integration with differences not shown here: run `statusync drift` for "
        "the full list. Not shown: 1.*"
    ) in text


def test_integrations_that_could_not_be_checked_are_not_reported_as_in_sync() -> None:
    report = DriftReport(
        (compare(loaded(1, DESIRED), DESIRED, live(DESIRED)),),
        (CheckFailure(loaded(2, DESIRED), "HTTP 500: boom"),),
    )
    out = io.StringIO()
    render_text(report, out)
    assert out.getvalue() == (
        "Drift unknown for 1 of 2 integrations: they could not be checked (errors above); 1 in sync.\n"
    )


def test_when_nothing_is_found_the_hint_points_at_the_api_url() -> None:
    report = DriftReport(tuple(compare(loaded(i, DESIRED), DESIRED, None) for i in (1, 2)))
    out = io.StringIO()
    render_text(report, out)
    assert "No integration was found at all: check the API URL" in out.getvalue()
    assert "check integration_id and account" not in out.getvalue()


NAMES = StatusCatalog(
    {
        1: ShopStatuses(
            "2026-12-01T10:00:00Z", "en-gb", {"3": KnownStatus("Shipped"), "9": KnownStatus("Lost")}
        ),
        3: ShopStatuses("2026-12-01T10:00:00Z", "en-gb", {"2": KnownStatus("Gone", deleted=True)}),
    }
)


def test_text_names_desired_live_and_last_applied_and_the_invalid_entries() -> None:
    out = io.StringIO()
    render_text(_report(), out, catalog=NAMES)
    text = out.getvalue()
    assert 'DELIVERED  "3" (Shipped)  "9" (Lost)  "3" (Shipped)\n' in text
    assert 'IN_TRANSIT: live "2" (Gone) points at a shop status the shop no longer has' in text
    assert 'DELIVERED      "3"      null  -\n' in text  # integration 2: nothing read, no names


def test_markdown_names_the_ids_of_the_issue_body() -> None:
    out = io.StringIO()
    render_markdown(_report(), out, catalog=NAMES)
    md = out.getvalue()
    assert '| DELIVERED | `"3"` (Shipped) | `"9"` (Lost) | `"3"` (Shipped) |' in md
    assert '| IN_TRANSIT | `"2"` (Gone) |' in md


def test_json_entries_carry_the_names_of_their_ids() -> None:
    out = io.StringIO()
    render_json(_report(), out, catalog=NAMES)
    drifted, never, invalid, missing, in_sync = json.loads(out.getvalue())["integrations"]
    assert drifted["status_names"] == {"3": "Shipped", "9": "Lost"}
    assert invalid["status_names"] == {"2": "Gone"}
    assert never["status_names"] == missing["status_names"] == in_sync["status_names"] == {}
