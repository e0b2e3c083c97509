"""`statusync merge-state` as git runs it (`%O %A %B`): the merged state in OURS, exit 0; a side
that is not a state file exits 1 and changes nothing, so git leaves the conflict to the user."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.core.model import CATEGORIES
from statusync.core.state import Entry, State
from statusync.files.catalog_file import dump_catalog
from statusync.files.state_file import dump_state, load_state
from statusync.runner import recorder
from statusync.sandbox import SandboxServer, SandboxStore, StoredIntegration
from statusync.sandbox.seed import shop_status
from statusync.sendcloud.credentials import Credentials
from tests.support.builders import mapping
from tests.support.gitrepo import DEV, Clone, Origin, hermetic_git
from tests.support.project import PUBLIC_KEY, SECRET_KEY, Result, live

Cli = Callable[..., Result]
STATE = ".statusync/state.json"


def entry(rts: str, at: str, integration_id: int = 1) -> Entry:
    return Entry(
        f"mappings/shop-{integration_id}.yaml",
        f"sha-{rts}",
        "default",
        None,
        mapping(rts, "2", "3", None),
        at,
    )


def state(serial: int, **entries: Entry) -> State:
    return State(serial, "L", {int(k.removeprefix("i")): e for k, e in entries.items()})


EARLY, LATE = "2026-02-01T08:00:00Z", "2026-02-01T09:00:00Z"
BASE = state(4, i1=entry("1", EARLY), i2=entry("1", EARLY, 2))


def sides(tmp_path: Path, base: bytes | None, ours: State, theirs: State) -> tuple[Path, ...]:
    paths = tuple(tmp_path / name for name in ("base", "ours", "theirs"))
    if base is not None:
        paths[0].write_bytes(base)
    paths[1].write_bytes(dump_state(ours))
    paths[2].write_bytes(dump_state(theirs))
    return paths


def test_merges_into_ours_and_says_what_it_kept(tmp_path: Path, cli: Cli) -> None:
    ours = state(5, i1=entry("7", EARLY), i2=entry("1", EARLY, 2))
    theirs = state(6, i1=entry("8", LATE), i2=entry("1", EARLY, 2), i3=entry("4", LATE, 3))
    base, our_file, their_file = sides(tmp_path, dump_state(BASE), ours, theirs)
    result = cli("merge-state", str(base), str(our_file), str(their_file))
    assert result.code == 0, result.err
    merged = load_state(our_file)
    assert merged.entries == {1: theirs.entries[1], 2: ours.entries[2], 3: theirs.entries[3]}
    assert merged.serial == 7 and merged.lineage == "L"
    assert result.err == (
        "statusync merge-state: integration 1 changed on both sides; kept the newer record from "
        f"theirs (applied at {LATE}; ours: applied at {EARLY})\n"
    )


@pytest.mark.parametrize("base", [None, b""], ids=["missing", "empty"])
def test_a_file_added_on_both_branches_merges(tmp_path: Path, cli: Cli, base: bytes | None) -> None:
    ours, theirs = state(1, i1=entry("1", EARLY)), state(1, i2=entry("1", EARLY, 2))
    paths = sides(tmp_path, base, ours, theirs)
    assert cli("merge-state", *map(str, paths)).code == 0
    assert sorted(load_state(paths[1]).entries) == [1, 2]


@pytest.mark.parametrize(
    ("side", "text", "message"),
    [
        ("ours", "<<<<<<< HEAD\n{}", "ours: the state file is corrupt"),
        ("theirs", "", "theirs: the state file is corrupt"),
        ("base", '{"version": 99}', "the common ancestor: state version 99 is not supported"),
    ],
)
def test_a_side_that_is_not_a_state_leaves_the_conflict_to_the_user(
    tmp_path: Path, cli: Cli, side: str, text: str, message: str
) -> None:
    paths = sides(tmp_path, dump_state(BASE), BASE, BASE)
    (tmp_path / side).write_text(text)
    before = paths[1].read_bytes()
    result = cli("merge-state", *map(str, paths))
    assert result.code == 1
    assert result.err.startswith(f"error: cannot merge the state: {message}")
    assert "git leaves the conflict in the state file for you to resolve" in result.err
    assert "Traceback" not in result.err and "git checkout" not in result.err
    assert paths[1].read_bytes() == before


@pytest.mark.parametrize("catalog_side", ["ours", "theirs"])
def test_a_state_and_a_catalog_are_not_merged_and_the_sides_are_named(
    tmp_path: Path, cli: Cli, catalog_side: str
) -> None:
    paths = sides(tmp_path, dump_state(BASE), BASE, BASE)
    catalog = {1: ShopStatuses("2026-01-01T00:00:00Z", "en-gb", {"1": KnownStatus("Paid")})}
    (tmp_path / catalog_side).write_bytes(dump_catalog(StatusCatalog(catalog)))
    before = paths[1].read_bytes()
    result = cli("merge-state", *map(str, paths))
    assert result.code == 1
    kinds = ("a status catalog", "a state") if catalog_side == "ours" else ("a state", "a status catalog")
    assert result.err.startswith(f"error: cannot merge: ours is {kinds[0]} and theirs {kinds[1]}, not two")
    assert "common ancestor" not in result.err and "Traceback" not in result.err
    assert paths[1].read_bytes() == before


def _repository_with_the_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Clone:
    """A clone where shops 1 and 2 are mapped, the state is BASE and git merges the state
    through `statusync merge-state`."""
    hermetic_git(monkeypatch)
    repo = Origin.create(tmp_path).clone("repo")
    repo.mapping(1, "1")
    repo.mapping(2, "1")
    repo.write(".gitattributes", ".statusync/state.json merge=statusync\n")
    repo.write(STATE, dump_state(BASE).decode())
    repo.commit("start")
    repo.enable_merge_driver()
    return repo


def test_git_merges_two_branches_through_the_driver_and_old_plans_go_stale(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repository_with_the_driver(tmp_path, monkeypatch)

    repo.git("switch", "--quiet", "-c", "other")
    repo.write(STATE, dump_state(state(5, i1=entry("8", LATE), i2=entry("1", EARLY, 2))).decode())
    repo.commit("other: 1 applied later")
    repo.git("switch", "--quiet", "main")
    repo.write(STATE, dump_state(state(5, i1=entry("7", EARLY), i2=entry("5", EARLY, 2))).decode())
    repo.commit("main: 1 and 2 applied")
    monkeypatch.chdir(repo.path)
    saved = cli("plan", "--out", "saved.plan")
    assert saved.code == 0, saved.err

    merge = _merge(repo, "other")
    assert "integration 1 changed on both sides; kept the newer record from theirs" in merge
    merged = json.loads((repo.path / STATE).read_text())
    assert merged["serial"] == 6
    assert merged["integrations"]["1"]["mapping"]["READY_TO_SEND"] == "8"
    assert merged["integrations"]["2"]["mapping"]["READY_TO_SEND"] == "5"
    stale = cli("apply", "saved.plan", "--yes")
    assert stale.code == 1 and "the saved plan saved.plan is stale" in stale.err


def _merge(repo: Clone, branch: str) -> str:
    proc = subprocess.run(
        ["git", *DEV, "merge", "--no-edit", branch], cwd=repo.path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_reverting_a_state_commit_keeps_the_newer_record_so_plan_shows_what_is_live(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repository_with_the_driver(tmp_path, monkeypatch)
    repo.mapping(1, "7")
    repo.commit("shop 1: 7")
    repo.write(STATE, dump_state(state(5, i1=entry("7", LATE), i2=entry("1", EARLY, 2))).decode())
    recorded = repo.commit("statusync: record applied state")
    # A later run records shop 2, so reverting the first state commit is a real merge.
    repo.write(STATE, dump_state(state(6, i1=entry("7", LATE), i2=entry("1", LATE, 2))).decode())
    repo.commit("statusync: record applied state")

    proc = subprocess.run(
        ["git", *DEV, "revert", "--no-edit", recorded], cwd=repo.path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "kept the newer one, so that the next plan shows what is live" in proc.stderr
    reverted = load_state(repo.path / STATE)
    assert reverted.entries[1].mapping["READY_TO_SEND"] == "7"  # what is live, not "1"

    repo.git(*DEV, "revert", "--no-edit", "HEAD~3")  # the mapping change: back to "1"
    monkeypatch.chdir(repo.path)
    plan = cli("plan")
    assert plan.code == 0 and 'READY_TO_SEND  "7" -> "1"' in plan.out


def test_a_reset_newer_than_the_other_branchs_update_wins_the_merge(
    tmp_path: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    start_sandbox: Callable[..., SandboxServer],
) -> None:
    """`feature` applies an update of shop 1; a second later main resets it (its file deleted,
    `on_removed: reset`). Merging feature and keeping its file must not let the state claim the
    update is live: live is all-null, so the next plan must send the file again."""
    hermetic_git(monkeypatch)
    server = start_sandbox(
        SandboxStore(
            [
                StoredIntegration(
                    id=1, shop_name="Shop 1", statuses=tuple(shop_status(str(e)) for e in range(1, 10))
                )
            ]
        ),
        Credentials(PUBLIC_KEY, SECRET_KEY),
    )
    env.update(STATUSYNC_API_URL=server.url, SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY, SENDCLOUD_SECRET_KEY=SECRET_KEY)
    repo = Origin.create(tmp_path).clone("repo")
    repo.mapping(1, "1")
    repo.write(".gitattributes", f"{STATE} merge=statusync\n.statusync/statuses.json merge=statusync\n")
    repo.write(".gitignore", ".statusync/*.lock\n")
    repo.commit("shop 1")
    repo.enable_merge_driver()
    monkeypatch.chdir(repo.path)

    def apply_at(at: str, message: str) -> None:
        monkeypatch.setattr(recorder, "now_iso", lambda: at)  # records carry whole seconds
        result = cli("apply", "--yes")
        assert result.code == 0, result.err
        repo.commit(message)

    apply_at("2026-03-01T10:00:00Z", "statusync: record applied state")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.mapping(1, "7")
    apply_at("2026-03-01T12:00:00Z", "shop 1 to 7, applied")
    repo.git("switch", "--quiet", "main")
    repo.write("statusync.yaml", "on_removed: reset\n")
    (repo.path / "mappings" / "shop-1.yaml").unlink()
    apply_at("2026-03-01T12:00:01Z", "shop 1 reset, applied")
    assert live(server, 1) == {c: None for c in CATEGORIES}

    proc = subprocess.run(
        ["git", *DEV, "merge", "--no-edit", "feature"], cwd=repo.path, capture_output=True, text=True
    )
    assert proc.returncode == 1 and "CONFLICT (modify/delete): mappings/shop-1.yaml" in proc.stdout
    assert "integration 1 was reset on ours at 2026-03-01T12:00:01Z" in proc.stderr
    repo.git("add", "mappings/shop-1.yaml")  # keep feature's file
    repo.git(*DEV, "commit", "--quiet", "--no-edit")

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert "No changes" not in plan.out
    assert "+ create 1  mappings/shop-1.yaml" in plan.out and "1 to create" in plan.out
    drift = cli("drift")
    assert drift.code == 2 and "changed outside statusync" not in drift.out
    assert "not applied yet" in drift.out
    apply = cli("apply", "--yes")
    assert apply.code == 0, apply.err
    assert live(server, 1) == {"READY_TO_SEND": "7", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
