"""`--only` patterns: globs with **, id:, account:, unions, and narrowing files and state."""

from __future__ import annotations

import pytest

from statusync.core.model import IntegrationSpec, LoadedSpec
from statusync.core.plan import Action, make_plan
from statusync.core.state import Entry, State
from statusync.core.subset import BadPattern, Subset, narrow, parse_subset, unmatched

MAPPING = {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}


def loaded(integration_id: int, file: str, account: str = "default") -> LoadedSpec:
    spec = IntegrationSpec.model_validate(
        {"integration_id": integration_id, "account": account, "mapping": MAPPING}
    )
    return LoadedSpec(spec, file, f"sha-{integration_id}")


def entry(file: str, account: str = "default") -> Entry:
    return Entry(file, "old", account, None, dict(MAPPING), "2024-01-01T00:00:00Z")


def subset(*patterns: str) -> Subset:
    parsed = parse_subset(patterns)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("pattern", "file", "expected"),
    [
        ("mappings/eu/**", "mappings/eu/acme-de.yml", True),
        ("mappings/eu/**", "mappings/eu/de/berlin/acme.yaml", True),
        ("mappings/eu/**", "mappings/us/acme.yaml", False),
        ("mappings/eu/**", "mappings/europe/acme.yaml", False),
        ("mappings/eu", "mappings/eu/de/acme.yaml", True),  # a directory: everything under it
        ("mappings/eu/", "mappings/eu/acme.yaml", True),
        ("./mappings/eu/*.yaml", "mappings/eu/acme.yaml", True),
        ("mappings/*.yaml", "mappings/eu/acme.yaml", False),  # * stays within a directory
        ("mappings/**/acme-*.yaml", "mappings/acme-nl.yaml", True),  # ** spans zero directories too
        ("mappings/**/acme-*.yaml", "mappings/a/b/acme-nl.yaml", True),
        ("**/acme-nl.yaml", "mappings/eu/acme-nl.yaml", True),
        ("mappings/shop-?.yaml", "mappings/shop-1.yaml", True),
        ("mappings/shop-?.yaml", "mappings/shop-12.yaml", False),
        ("mappings/shop-[12].yaml", "mappings/shop-2.yaml", True),
        ("mappings/shop-[!12].yaml", "mappings/shop-2.yaml", False),
        ("mappings/a+b (1).yaml", "mappings/a+b (1).yaml", True),  # regex characters are literal
        ("mappings/[eu.yaml", "mappings/[eu.yaml", True),  # an unclosed [ is literal
    ],
)
def test_path_globs(pattern: str, file: str, expected: bool) -> None:
    assert subset(pattern).matches(file, 1, "default") is expected


def test_id_and_account_patterns() -> None:
    assert subset("id:23452345").matches("mappings/x.yaml", 23452345, "default")
    assert not subset("id:23452345").matches("mappings/x.yaml", 2345234, "default")
    assert subset("account:partner-eu").matches("mappings/x.yaml", 1, "partner-eu")
    assert not subset("account:partner-eu").matches("mappings/x.yaml", 1, "default")


def test_several_patterns_are_a_union_without_repeats() -> None:
    only = subset("id:1", "account:b", "mappings/eu/**", "id:1")
    assert only.texts == ("id:1", "account:b", "mappings/eu/**")
    assert only.matches("mappings/us/x.yaml", 1, "a")
    assert only.matches("mappings/us/x.yaml", 2, "b")
    assert only.matches("mappings/eu/x.yaml", 3, "a")
    assert not only.matches("mappings/us/x.yaml", 4, "a")


def test_no_pattern_means_everything() -> None:
    assert parse_subset([]) is None


@pytest.mark.parametrize(
    "pattern",
    [
        "id:abc",
        "id:",
        "id:0",
        "id:-3",
        "id:1_000",
        "id:9007199254740992",
        "account:",
        "",
        "/etc/mappings/**",
        "../other/mappings/**",
    ],
)
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(BadPattern):
        parse_subset([pattern])


def test_a_pattern_that_matches_nothing_is_reported_by_name() -> None:
    specs = [loaded(1, "mappings/eu/a.yaml")]
    state = State(entries={7: entry("mappings/gone.yaml", account="old")})
    assert unmatched(
        subset("mappings/ue/**", "id:1", "id:2", "id:7", "account:old", "account:new"), specs, state
    ) == ["mappings/ue/**", "id:2", "account:new"]


def test_narrowing_keeps_removals_inside_and_leaves_those_outside_alone() -> None:
    specs = [
        loaded(1, "mappings/eu/a.yaml"),
        loaded(2, "mappings/us/b.yaml"),
        loaded(5, "mappings/eu/moved-in.yaml"),
        loaded(6, "mappings/us/moved-out.yaml"),
    ]
    state = State(
        serial=3,
        lineage="l",
        entries={
            1: entry("mappings/eu/a.yaml"),
            2: entry("mappings/us/b.yaml"),
            3: entry("mappings/eu/deleted.yaml"),  # file removed inside the subset: forgotten
            4: entry("mappings/us/deleted.yaml"),  # file removed outside it: left alone
            5: entry("mappings/us/moved-in.yaml"),  # its file moved into the subset: unchanged
            6: entry("mappings/eu/moved-out.yaml"),  # moved out of it: not a forget
        },
    )
    chosen, scoped = narrow(subset("mappings/eu/**"), specs, state)
    assert [s.spec.integration_id for s in chosen] == [1, 5]
    assert sorted(scoped.entries) == [1, 3, 5]
    assert scoped.fingerprint == state.fingerprint
    plan = make_plan(chosen, scoped)
    assert [(c.integration_id, c.action) for c in plan.changes] == [(3, Action.FORGET)]
    assert plan.unchanged == 2 and plan.managed == 3  # the safety base is the subset's
