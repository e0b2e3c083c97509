"""--push with real git: a bare origin, a developer's clone, and fresh clones as CI jobs, with the
sandbox as Sendcloud. Each scenario of a team's day (concurrent jobs, interrupted pushes, reverts,
hand edits) ends with the same checks: live equals the newest main's files, the state on main
equals live, `plan` is empty, and no job failed that had nothing wrong."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from statusync.cli import Seams, main
from statusync.files.mappings import load_mappings
from statusync.files.state_file import load_state
from statusync.runner import recorder
from statusync.sandbox import FaultRule, SandboxOptions, SandboxServer, SandboxStore, StoredIntegration
from statusync.sandbox.seed import shop_status
from statusync.sendcloud.credentials import Credentials
from tests.support.gitrepo import DEV, Clone, Origin, hermetic_git, mapping_yaml
from tests.support.processes import statusync
from tests.support.project import MAPPING_PATH, PUBLIC_KEY, SECRET_KEY, Result, live

Run = Callable[..., Result]
STATE = ".statusync/state.json"
RECORD = "statusync: record applied state"
MANAGED = (1, 2, 3)  # managed from the start
UNMANAGED = (4, 5)  # live in Sendcloud, not managed yet: for import
FIRST_JOB_AT = "2025-01-01T00:00:00Z"  # when the first CI job (applied_once) applied main


@contextmanager
def sendcloud(monkeypatch: pytest.MonkeyPatch, managed_live: bool) -> Iterator[SandboxServer]:
    """Sendcloud with every shop the tests use, statusync pointed at it. Shops 4 and 5 were
    mapped by hand; 1-3 as the first CI job left them when `managed_live`, else unmapped."""
    live_managed = mapping_of("1") if managed_live else (None,) * 4
    store = SandboxStore(
        StoredIntegration(
            id=i,
            shop_name=f"Shop {i}",
            statuses=tuple(shop_status(str(e)) for e in range(1, 10)),
            mapping=("4", "5", "6", None) if i in UNMANAGED else live_managed,
        )
        for i in (*MANAGED, *UNMANAGED)
    )
    server = SandboxServer(store, Credentials(PUBLIC_KEY, SECRET_KEY), SandboxOptions(), port=0).start()
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv("STATUSYNC_API_URL", server.url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
    try:
        yield server
    finally:
        server.stop()


def mapping_of(rts: str) -> tuple[str | None, ...]:
    """The live mapping of a file written by `Clone.mapping(i, rts)`."""
    return (rts, "2", "3", None)


def start_repository(root: Path) -> tuple[Origin, Clone]:
    """An origin with the developer's first commit (shops 1-3 mapped), and the developer's clone."""
    origin = Origin.create(root)
    dev = origin.clone("dev")
    for i in MANAGED:
        dev.mapping(i, "1")
    dev.write(
        ".gitattributes", ".statusync/state.json merge=statusync\n.statusync/statuses.json merge=statusync\n"
    )
    dev.write(".gitignore", ".statusync/*.lock\n")
    dev.commit("shops 1-3")
    dev.git("push", "--quiet", "origin", "main")
    return origin, dev


@pytest.fixture(scope="module")
def applied_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Origin, Clone]:
    """Made once, copied for each test: the repository after the first CI job applied main and
    pushed its state, and the developer pulled it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        hermetic_git(monkeypatch)
        # Its records are older than any a test makes. By the real clock (whole seconds), a
        # test run right after this fixture records in the same second, and a write that puts
        # back what this job applied then records nothing new: there would be nothing to commit.
        monkeypatch.setattr(recorder, "now_iso", lambda: FIRST_JOB_AT)
        origin, dev = start_repository(tmp_path_factory.mktemp("applied"))
        with sendcloud(monkeypatch, managed_live=False):
            job = origin.clone()
            monkeypatch.chdir(job.path)
            assert main(["apply", "--yes", "--push"]) == 0
        assert origin.log()[0] == RECORD
        dev.git("pull", "--quiet", "--ff-only")
    return origin, dev


@pytest.fixture
def repository(
    applied_once: tuple[Origin, Clone], tmp_path: Path, api: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[Origin, Clone]:
    """A copy of the applied repository, for one test, with Sendcloud as it left it."""
    hermetic_git(monkeypatch)
    origin, (dev,) = applied_once[0].copy_to(tmp_path, applied_once[1])
    return origin, dev


@pytest.fixture
def origin(repository: tuple[Origin, Clone]) -> Origin:
    return repository[0]


@pytest.fixture
def applied(repository: tuple[Origin, Clone]) -> Clone:
    """The developer's clone, up to date with main, where the state records shops 1-3."""
    return repository[1]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    with sendcloud(monkeypatch, managed_live=True) as server:
        yield server


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """statusync in-process, in a clone's work tree."""

    def go(clone: Clone, *args: str) -> Result:
        monkeypatch.chdir(clone.path)
        code = main(list(args), seams=Seams(retry_sleep=lambda _: None))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return go


def posts(api: SandboxServer) -> list[int]:
    """The integrations of the mapping POSTs Sendcloud accepted, in order."""
    return [
        r.integration_id
        for r in api.store.requests()
        if r.method == "POST" and r.path == MAPPING_PATH and r.status == 200 and r.integration_id is not None
    ]


def statusync_job(clone: Clone, *args: str) -> str:
    """A shell command: a CI job running statusync in `clone`, its exit code kept in a file."""
    log = shlex.quote(str(clone.path / ".git" / "job.log"))
    return (
        f"(cd {shlex.quote(str(clone.path))} && {shlex.quote(sys.executable)} -m statusync "
        f"{' '.join(args)} >{log} 2>&1; echo $? >{log}.code)"
    )


def assert_job_succeeded(clone: Clone) -> None:
    """The job `statusync_job` ran in `clone` exited 0."""
    code_file = clone.path / ".git" / "job.log.code"
    assert code_file.exists(), "the job did not run"
    assert code_file.read_text().strip() == "0", (clone.path / ".git" / "job.log").read_text()


def assert_converged(origin: Origin, api: SandboxServer, run: Run) -> None:
    """Live equals the newest main's files, the state on main equals live, plan is empty."""
    check = origin.clone()
    specs = load_mappings(check.path / "mappings", check.path, ["default"])
    desired = {s.spec.integration_id: s.spec.mapping.as_dict() for s in specs}
    assert {i: live(api, i) for i in desired} == desired
    state = load_state(check.path / STATE)
    assert {i: dict(e.mapping) for i, e in state.entries.items()} == desired
    assert not state.uncertain
    result = run(check, "plan", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err


# The scenarios of a team's day -------------------------------------------------------------------


def test_two_pushes_one_job_after_the_other(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    first = origin.clone()  # the job of the first push, queued
    applied.push_change("shop 2 to 8", {2: "8"})
    second = origin.clone()

    # The first job starts after both pushes: it applies the newest main, both changes.
    one = run(first, "apply", "--yes", "--push")
    assert one.code == 0, one.err
    assert sorted(posts(api)) == [1, 2]
    two = run(second, "apply", "--yes", "--push")
    assert two.code == 0, two.err
    assert "No changes" in two.out and "Nothing to record" in two.err
    assert sorted(posts(api)) == [1, 2]  # nothing sent twice
    assert origin.log()[:3] == [RECORD, "shop 2 to 8", "shop 1 to 7"]
    assert_converged(origin, api, run)


def test_two_pushes_whose_jobs_overlap(origin: Origin, applied: Clone, api: SandboxServer, run: Run) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    first = origin.actions_checkout(origin.head())  # shallow, as on GitHub
    second = origin.clone()
    applied.mapping(2, "8")
    applied.commit("shop 2 to 8")
    # While the first job is between its state commit and its push, the second commit is pushed
    # and its job runs from start to end: the first job's push is rejected.
    first.once_before_push(
        f"git -C {shlex.quote(str(applied.path))} push --quiet",
        statusync_job(second, "apply", "--yes", "--push"),
    )

    result = run(first, "apply", "--yes", "--push")
    assert result.code == 0, result.err
    assert_job_succeeded(second)
    # The second job did not know the first one's record yet, so it sent shop 1 again
    # (harmless) and recorded it too: the first job has nothing left to push.
    assert sorted(posts(api)) == [1, 1, 2]
    assert "origin/main records what this run did already" in result.err
    assert origin.log()[:3] == [RECORD, "shop 2 to 8", "shop 1 to 7"]
    assert first.head() == origin.head()  # the first job's checkout follows main
    assert_converged(origin, api, run)


def test_two_writers_that_overlap_merge_their_records(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    first = origin.actions_checkout(origin.head())
    second = origin.clone()
    # Someone adopts shop 4 on main while the apply job runs: its push is rejected, and the
    # state it pushes then holds both records, merged as data.
    first.once_before_push(statusync_job(second, "import", "--integration", "4", "--push"))

    result = run(first, "apply", "--yes", "--push")
    assert result.code == 0, result.err
    assert_job_succeeded(second)
    assert "pushed it to origin/main (after 2 tries)" in result.err
    assert origin.log()[:3] == [RECORD, "statusync: import 1 integration", "shop 1 to 7"]
    assert sorted(json.loads(origin.show(STATE))["integrations"]) == ["1", "2", "3", "4"]
    assert first.head() == origin.head()  # the first job's checkout follows what it pushed
    assert_converged(origin, api, run)


def test_a_reset_pushed_while_an_older_update_is_pushed_keeps_the_reset(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    first = origin.clone()
    second = origin.clone()
    applied.write("statusync.yaml", "on_removed: reset\n")
    (applied.path / "mappings" / "shop-1.yaml").unlink()
    applied.commit("shop 1 removed")
    # While the first job is between its state commit and its push, shop 1's removal is pushed
    # and its job resets shop 1, later than the first job's update (which it never saw).
    first.once_before_push(
        f"git -C {shlex.quote(str(applied.path))} push --quiet",
        statusync_job(second, "apply", "--yes", "--push"),
    )
    monkeypatch.setattr(recorder, "now_iso", lambda: "2025-06-01T00:00:00Z")  # the job's clock
    result = run(first, "apply", "--yes", "--push")
    assert result.code == 0, result.err
    assert_job_succeeded(second)
    assert "integration 1 was reset on origin/main at " in result.err
    assert "kept the newer removal" in result.err
    assert live(api, 1) == {"READY_TO_SEND": None, "IN_TRANSIT": None, "DELIVERED": None, "CANCEL": None}
    assert "1" not in json.loads(origin.show(STATE))["integrations"]
    assert_converged(origin, api, run)


def test_a_change_and_its_revert_pushed_together(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.mapping(1, "7")
    change = applied.commit("shop 1 to 7")
    applied.git(*DEV, "revert", "--no-edit", "HEAD")
    applied.git("push", "--quiet")
    # Each commit's job, the older one first: both apply the newest main, where nothing changed.
    for job in (origin.clone(at=change), origin.clone()):
        result = run(job, "apply", "--yes", "--push")
        assert result.code == 0, result.err
        assert "Nothing to record" in result.err
    assert posts(api) == []
    assert origin.log()[0].startswith("Revert")
    assert_converged(origin, api, run)


def test_a_revert_pushed_while_the_change_is_applied(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    first = origin.clone()
    applied.git(*DEV, "revert", "--no-edit", "HEAD")
    first.once_before_push(f"git -C {shlex.quote(str(applied.path))} push --quiet")

    one = run(first, "apply", "--yes", "--push")
    assert one.code == 0, one.err
    assert "(after 2 tries)" in one.err  # rejected once, merged: its record of 7 is on main
    assert live(api, 1)["READY_TO_SEND"] == "7"
    # The revert's job, queued behind the first in the state's concurrency group, puts 1 back.
    two = run(origin.clone(), "apply", "--yes", "--push")
    assert two.code == 0, two.err
    assert posts(api) == [1, 1]
    assert live(api, 1)["READY_TO_SEND"] == "1"
    assert_converged(origin, api, run)


def test_a_rerun_of_an_old_failed_job_applies_the_newest_main(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    old = applied.push_change("shop 1 to 7", {1: "7"})
    api.store.add_fault(FaultRule(method="POST", status=422, times=1))
    failed_job = origin.clone()
    failed = run(failed_job, "apply", "--yes", "--push")
    assert failed.code == 1 and "Nothing to record" in failed.err
    assert failed_job.git("status", "--porcelain") == ""  # the state it rewrote is put back
    applied.push_change("shop 1 to 8", {1: "8"})
    assert run(origin.clone(), "apply", "--yes", "--push").code == 0
    assert live(api, 1)["READY_TO_SEND"] == "8"

    rerun = run(origin.actions_checkout(old), "apply", "--yes", "--push")
    assert rerun.code == 0, rerun.err
    assert "Working on the newest origin/main" in rerun.err
    assert "2 commits newer than the checkout" in rerun.err
    assert "No changes" in rerun.out
    assert live(api, 1)["READY_TO_SEND"] == "8"  # not rolled back to 7
    assert_converged(origin, api, run)


@pytest.mark.parametrize("with_state", [True, False], ids=["managed-repo", "new-repo"])
def test_two_branches_importing_different_shops_merge_cleanly(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    api: SandboxServer,
    run: Run,
    with_state: bool,
) -> None:
    if with_state:  # shops 1-3 applied first
        origin, dev = request.getfixturevalue("repository")
    else:  # nothing applied yet: both branches create the state file
        hermetic_git(monkeypatch)
        origin, dev = start_repository(tmp_path)
    for shop in UNMANAGED:
        branch = origin.clone()
        branch.git("switch", "--quiet", "-c", f"import-{shop}")
        branch.git("push", "--quiet", "--set-upstream", "origin", f"import-{shop}")
        result = run(branch, "import", "--integration", str(shop), "--push")
        assert result.code == 0, result.err
        assert origin.log(f"import-{shop}")[0] == "statusync: import 1 integration"

    # The maintainer merges both branches, with the merge driver as the README sets it up.
    dev.enable_merge_driver()
    dev.git("fetch", "--quiet")
    for shop in UNMANAGED:
        dev.git(*DEV, "merge", "--no-ff", "--quiet", "-m", f"merge import-{shop}", f"origin/import-{shop}")
    assert dev.git("status", "--porcelain") == ""
    # Both branches recorded their shop's statuses too: the catalog merged as data.
    catalog = json.loads((dev.path / ".statusync" / "statuses.json").read_text())["integrations"]
    assert sorted(catalog) == (["1", "2", "3", "4", "5"] if with_state else ["4", "5"])
    merged = load_state(dev.path / STATE)
    assert sorted(merged.entries) == ([1, 2, 3, 4, 5] if with_state else [4, 5])
    dev.git("push", "--quiet")

    job = run(origin.clone(), "apply", "--yes", "--push")
    assert job.code == 0, job.err
    # Without a state, shops 1-3 are creates whose live mapping already equals their files:
    # apply reads that and records them without a request.
    assert sorted(posts(api)) == []
    if not with_state:
        assert "Recorded 3 integrations whose live mapping already equals the file" in job.err
    assert_converged(origin, api, run)


# What --push does besides -------------------------------------------------------------------------


def test_partial_failure_records_and_pushes_what_was_applied(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.push_change("shops 1 and 2", {1: "7", 2: "8"})
    api.store.add_fault(FaultRule(method="POST", integration_id=2, status=422, times=1))
    result = run(origin.clone(), "apply", "--yes", "--push")
    assert result.code == 1
    assert "1 integration failed" in result.err and "Recorded the state in commit" in result.err
    state = json.loads(origin.show(STATE))
    assert state["integrations"]["1"]["mapping"]["READY_TO_SEND"] == "7"
    assert state["integrations"]["2"]["mapping"]["READY_TO_SEND"] == "1"
    assert run(origin.clone(), "apply", "--yes", "--push").code == 0  # the next job finishes
    assert_converged(origin, api, run)


def test_a_run_stopped_by_an_error_still_pushes_what_it_recorded(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.push_change("shops 1 and 2", {1: "7", 2: "8"})
    api.store.add_fault(FaultRule(method="POST", integration_id=2, status=401))
    result = run(origin.clone(), "apply", "--yes", "--push", "--parallelism", "1")
    assert result.code == 1
    assert "Recorded the state in commit" in result.err
    assert (
        "error: account 'default' stopped: POST /shop-order-statuses/mapping (integration 2): HTTP 401"
        in (result.err)
    )
    state = json.loads(origin.show(STATE))
    assert state["integrations"]["1"]["mapping"]["READY_TO_SEND"] == "7"
    assert state["integrations"]["2"]["mapping"]["READY_TO_SEND"] == "1"


def test_a_run_refused_before_any_request_says_only_why(origin: Origin, applied: Clone, run: Run) -> None:
    applied.write("mappings/broken.yaml", "integration_id: nope\n")
    applied.commit("broken")
    applied.git("push", "--quiet")
    result = run(origin.clone(), "apply", "--yes", "--push")
    assert result.code == 1
    assert "Nothing to record" not in result.err and "mappings/broken.yaml" in result.err


def test_nothing_to_record_makes_no_commit(origin: Origin, applied: Clone, run: Run) -> None:
    before = origin.head()
    job = origin.clone()
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 0, result.err
    assert "Nothing to record: the state did not change; nothing was committed." in result.err
    assert origin.head() == before == job.head()


def test_the_commit_holds_the_state_and_statuses_alone_by_a_fixed_identity_unless_git_has_one(
    origin: Origin, applied: Clone, run: Run
) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    job = origin.clone()
    job.write("README.md", "local notes\n")  # another file, untracked: left alone
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 0, result.err
    assert job.git("show", "--format=%an <%ae>|%s", "--name-only", "HEAD").splitlines() == [
        "statusync <statusync@users.noreply.github.com>|" + RECORD,
        "",
        STATE,
        ".statusync/statuses.json",  # the statuses of what it wrote, read before writing
    ]
    assert job.git("status", "--porcelain") == "?? README.md"

    applied.git("pull", "--quiet", "--ff-only")
    applied.push_change("shop 1 to 8", {1: "8"})
    configured = origin.clone()
    configured.git("config", "user.name", "Deploy Bot")
    configured.git("config", "user.email", "bot@example.com")
    assert run(configured, "apply", "--yes", "--push").code == 0
    assert configured.git("log", "-1", "--format=%an <%ae>") == "Deploy Bot <bot@example.com>"


def test_validate_remote_then_apply_push_in_one_checkout_commits_the_statuses_read(
    origin: Origin, applied: Clone, run: Run
) -> None:
    # A job may check live first: the statuses it read are newer reads, which apply commits.
    applied.push_change("shop 1 to 7", {1: "7"})
    job = origin.clone()
    assert run(job, "validate", "--remote").code == 0
    assert job.git("status", "--porcelain", "--", ".statusync") != ""
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 0, result.err
    assert job.git("status", "--porcelain") == ""
    assert STATE in job.git("show", "--name-only", "--format=", "HEAD").splitlines()


def test_statuses_read_before_apply_push_are_kept_when_main_moved_on_meanwhile(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A job checks live first; meanwhile another run records newer reads of another shop on
    # main. The fast-forward must not stumble on the job's unrecorded reads: both land.
    applied.push_change("shop 1 to 7", {1: "7"})
    job = origin.clone()
    api.store.rename_status(2, "3", (("en-gb", "Handed over"),))
    monkeypatch.setattr(recorder, "now_iso", lambda: "2025-02-01T00:00:00Z")
    assert run(job, "validate", "--remote").code == 0
    api.store.rename_status(1, "2", (("en-gb", "On its way"),))
    monkeypatch.setattr(recorder, "now_iso", lambda: "2025-02-01T00:01:00Z")  # read later
    assert run(origin.clone(), "apply", "--yes", "--push").code == 0

    result = run(job, "apply", "--yes", "--push")
    assert result.code == 0, result.err
    assert "No changes" in result.out
    catalog = json.loads(origin.show(".statusync/statuses.json"))["integrations"]
    assert catalog["1"]["statuses"]["2"]["name"] == "On its way"
    assert catalog["2"]["statuses"]["3"]["name"] == "Handed over"
    assert job.git("status", "--porcelain") == ""
    assert_converged(origin, api, run)


def test_a_push_rejected_every_time_names_what_is_not_recorded(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.push_change("shops 1 and 3", {1: "7", 3: "9"})
    job = origin.clone()
    # Before every push of the job, someone else pushes first: the upstream moves every time.
    other = origin.clone()
    job.hook(
        "pre-push",
        f"""
        git -C {shlex.quote(str(other.path))} {" ".join(DEV)} commit --quiet --allow-empty -m x
        git -C {shlex.quote(str(other.path))} push --quiet
    """,
    )
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 1
    assert "Apply complete: 0 created, 2 updated" in result.out
    assert "the state was not recorded on origin/main: the push was rejected 10 times" in result.err
    assert (
        "Applied but not recorded upstream: integration 1 (mappings/shop-1.yaml), "
        "integration 3 (mappings/shop-3.yaml)"
    ) in result.err
    local = job.head()
    assert f"The local commit {local[:12]} on branch main holds it: push it with `git push`" in result.err
    assert "or run the command again with --push, which pushes it first" in result.err
    assert job.git("log", "-1", "--format=%s") == RECORD
    assert (
        json.loads(job.git("show", f"HEAD:{STATE}"))["integrations"]["3"]["mapping"]["READY_TO_SEND"] == "9"
    )
    assert origin.log()[0] == "x"
    assert live(api, 3)["READY_TO_SEND"] == "9"


def test_a_push_refused_by_a_hook_is_not_retried_and_shows_the_remote_s_words(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    before = origin.head()
    count = origin.root / "pushes"
    # What GitHub's branch protection says, with a credential and a control character in it.
    origin.hook(
        "pre-receive",
        f"""
        echo x >> {shlex.quote(str(count))}
        printf 'GH006: Protected branch update failed for refs/heads/main.\\n' >&2
        printf 'see https://bot:s3cr3t-t0ken@example.com/x \\033[31mred\\n' >&2
        exit 1
    """,
    )
    job = origin.clone()
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 1
    assert len(count.read_text().splitlines()) == 1  # refused once: not tried again
    assert "origin/main refused the push: [remote rejected] (pre-receive hook declined)" in result.err
    assert "remote: GH006: Protected branch update failed for refs/heads/main." in result.err
    assert "s3cr3t" not in result.err + result.out
    assert "\x1b" not in result.err + result.out
    assert '"A protected main branch"' in result.err and "STATUSYNC_PUSH_TOKEN" in result.err
    assert "Applied but not recorded upstream: integration 1 (mappings/shop-1.yaml)" in result.err
    assert f"The local commit {job.head()[:12]} on branch main holds it" in result.err
    assert "Traceback" not in result.err
    assert origin.head() == before


def test_import_commits_the_files_it_wrote_and_the_state(origin: Origin, applied: Clone, run: Run) -> None:
    job = origin.clone()
    result = run(job, "import", "--integration", "4", "--integration", "5", "--push")
    assert result.code == 0, result.err
    assert origin.log()[0] == "statusync: import 2 integrations"
    assert sorted(job.git("show", "--format=", "--name-only", "HEAD").splitlines()) == [
        STATE,
        ".statusync/statuses.json",  # the statuses of the shops it read
        "mappings/shop-4-4.yaml",
        "mappings/shop-5-5.yaml",
    ]


def test_reconcile_pushes_what_it_put_back(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    api.store.edit_mapping(2, {"READY_TO_SEND": "9"})  # an edit in Sendcloud's panel
    before = origin.head()
    result = run(origin.clone(), "reconcile", "--yes", "--push")
    assert result.code == 0, result.err
    assert live(api, 2)["READY_TO_SEND"] == "1"
    assert origin.head() != before and origin.log()[0] == RECORD
    assert json.loads(origin.show(STATE))["integrations"]["2"]["applied_at"] > FIRST_JOB_AT
    assert_converged(origin, api, run)


# Refusals, before any request ------------------------------------------------------------------


def _no_upstream(job: Clone) -> None:
    job.git("switch", "--quiet", "-c", "feature")


def _no_upstream_tracked(job: Clone) -> None:
    job.git("switch", "--quiet", "-c", "feature")
    job.git("push", "--quiet", "origin", "feature")  # on the remote, but not tracked


def _untracked_control_character(job: Clone) -> None:
    job.write("mappings/a\x1b[2Jb.yaml", "integration_id: 9\n")


def _staged_control_character(job: Clone) -> None:
    job.write("notes\x07\nforged.txt", "notes\n")
    job.git("add", "--all")


def _staged(job: Clone) -> None:
    job.write("README.md", "notes\n")
    job.git("add", "README.md")


def _detached(job: Clone) -> None:
    job.git("switch", "--quiet", "--detach")


def _local_commit(job: Clone) -> None:
    job.write("README.md", "notes\n")
    job.commit("local")


def _edited_mapping(job: Clone) -> None:
    job.mapping(2, "9")


def _new_mapping(job: Clone) -> None:
    job.mapping(6, "9")


def _edited_state(job: Clone) -> None:
    path = job.path / ".statusync" / "state.json"
    state = json.loads(path.read_text())
    path.write_text(json.dumps({**state, "serial": state["serial"] + 5}))


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            _no_upstream,
            "branch 'feature' has none; origin has no branch 'feature' (as of the last "
            "fetch); create it and track it with: git push -u origin feature",
        ),
        (
            _no_upstream_tracked,
            "branch 'feature' has none; set one with: git branch --set-upstream-to=origin/feature",
        ),
        (_staged, "there are staged changes: README.md; commit them or unstage them"),
        (_detached, "HEAD is detached; check out the branch"),
        (_local_commit, "branch 'main' has 1 commit that origin/main does not have"),
        (_edited_mapping, "these files have local changes: mappings/shop-2.yaml"),
        (_new_mapping, "these files have local changes: mappings/shop-6.yaml"),
        (_edited_state, "these files have local changes: .statusync/state.json"),
        (_untracked_control_character, "these files have local changes: mappings/a\\u001b[2Jb.yaml"),
        (_staged_control_character, "there are staged changes: notes\\u0007\\nforged.txt; commit"),
    ],
    ids=[
        "no-upstream",
        "no-upstream-remote-branch",
        "staged",
        "detached",
        "diverged",
        "edited-mapping",
        "new-mapping",
        "edited-state",
        "untracked-control",
        "staged-control",
    ],
)
def test_refuses_before_any_request(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run, setup: Callable[[Clone], None], message: str
) -> None:
    applied.push_change("shop 1 to 7", {1: "7"})
    before = origin.head()
    job = origin.clone()
    setup(job)
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 1
    assert message in result.err
    assert "Traceback" not in result.err
    assert api.store.requests() == []
    assert origin.head() == before


def test_credentials_in_the_remote_url_are_never_shown(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    job = origin.clone()
    job.git("remote", "set-url", "origin", "http://x-access-token:s3cr3t-t0ken@127.0.0.1:9/r.git")
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 1
    assert "git fetch failed" in result.err
    assert "s3cr3t" not in result.err + result.out
    assert api.store.requests() == []


def test_outside_a_git_checkout_push_says_what_it_needs(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    hermetic_git(monkeypatch)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = Clone(tmp_path / "plain")
    plain.mapping(1, "1")
    result = run(plain, "apply", "--yes", "--push")
    assert result.code == 1
    assert "--push needs a git checkout" in result.err


# A teammate's push while import runs --------------------------------------------------------------


def _teammate_pushes(origin: Origin, job: Clone, path: str, text: str) -> Clone:
    """A teammate's commit of `path`, pushed while `job` is between its commit and its push."""
    teammate = origin.clone()
    teammate.write(path, text)
    teammate.commit(f"add {path}")
    job.once_before_push(f"git -C {shlex.quote(str(teammate.path))} push --quiet")
    return teammate


@pytest.mark.parametrize(
    "path",
    ["mappings/four.yaml", "mappings/shop-4-4.yaml"],
    ids=["same-id-other-file", "same-file-other-content"],
)
def test_import_never_pushes_a_second_file_for_an_id_or_over_a_teammate_s_file(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run, path: str
) -> None:
    job = origin.clone()
    teammate_file = mapping_yaml(4, "9")
    _teammate_pushes(origin, job, path, teammate_file)
    result = run(job, "import", "--integration", "4", "--push")
    assert result.code == 1
    assert "the import was not pushed: origin/main changed while it ran" in result.err
    if path == "mappings/four.yaml":
        assert (
            "integration 4 is now managed by mappings/four.yaml on origin/main too (the "
            "import wrote mappings/shop-4-4.yaml)"
        ) in result.err
    else:
        assert (
            "mappings/shop-4-4.yaml was committed on origin/main meanwhile, with other content"
        ) in result.err
    assert f"The local commit {job.head()[:12]} on branch main holds the import" in result.err
    assert "git reset --keep origin/main" in result.err
    assert "Traceback" not in result.err
    # main holds the teammate's file alone, and plans on it work.
    assert origin.log()[0] == f"add {path}"
    assert origin.show(path) == teammate_file.rstrip("\n")
    assert run(origin.clone(), "plan").code in (0, 2)
    # What the message says to do works.
    job.git("reset", "--quiet", "--keep", "origin/main")
    assert job.git("status", "--porcelain") == ""
    assert run(job, "plan").code in (0, 2)


def test_import_pushes_on_top_of_an_unrelated_teammate_push(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    job = origin.clone()
    _teammate_pushes(origin, job, "mappings/shop-2.yaml", mapping_yaml(2, "8"))
    result = run(job, "import", "--integration", "4", "--push")
    assert result.code == 0, result.err
    assert "(after 2 tries)" in result.err
    assert origin.log()[:2] == ["statusync: import 1 integration", "add mappings/shop-2.yaml"]


# Symbolic links in the mappings directory ----------------------------------------------------------


def _mappings_linked_to_conf(applied: Clone) -> None:
    applied.git("mv", "mappings", "conf")
    (applied.path / "mappings").symlink_to("conf")
    applied.commit("mappings live in conf/")
    applied.git("push", "--quiet")


def test_an_edit_behind_a_linked_mappings_directory_is_refused(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    _mappings_linked_to_conf(applied)
    before = origin.head()
    job = origin.clone()
    job.write("conf/shop-2.yaml", mapping_yaml(2, "9"))  # not committed
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 1
    assert "these files have local changes: conf/shop-2.yaml" in result.err
    assert api.store.requests() == [] and origin.head() == before

    committed = origin.clone()  # the same layout, committed: applied as usual
    assert run(committed, "apply", "--yes", "--push").code == 0


def test_an_edit_behind_a_linked_subdirectory_is_refused(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    applied.write("extra/shop-6.yaml", mapping_yaml(5, "4"))
    (applied.path / "mappings" / "more").symlink_to("../extra")
    applied.commit("more mappings in extra/")
    applied.git("push", "--quiet")
    job = origin.clone()
    job.write("extra/shop-6.yaml", mapping_yaml(5, "9"))
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 1
    assert "these files have local changes: extra/shop-6.yaml" in result.err
    assert api.store.requests() == []


def test_mapping_files_outside_the_repository_are_refused_with_push(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "shop-1.yaml").write_text(mapping_yaml(1, "9"))
    applied.git("rm", "--quiet", "-r", "mappings")
    (applied.path / "mappings").symlink_to(outside)
    applied.commit("mappings elsewhere")
    applied.git("push", "--quiet")
    result = run(origin.clone(), "apply", "--yes", "--push")
    assert result.code == 1
    assert "mappings (a symbolic link to " in result.err
    assert "elsewhere) is outside the repository" in result.err
    assert api.store.requests() == []


# Stopped during the push -----------------------------------------------------------------------


def _apply_held_at_the_push(origin: Origin, applied: Clone) -> tuple[Clone, subprocess.Popen[str], Path]:
    """A change on main, and its CI job (`apply --yes --push`, in its own process group as at a
    terminal) whose push waits at the origin's hook; the job's clone, its process, and the file
    that lets the push go on when the test creates it (or after a minute)."""
    applied.push_change("shop 1 to 7", {1: "7"})
    reached, release = origin.root / "push-reached-hook", origin.root / "push-released"
    origin.hook(
        "pre-receive",
        f"touch {shlex.quote(str(reached))}\n"
        f"for _ in $(seq 600); do [ -e {shlex.quote(str(release))} ] && break; "
        "sleep 0.1; done\n",
    )
    job = origin.clone()
    proc = statusync("apply", "--yes", "--push", env=os.environ, cwd=job.path, start_new_session=True)
    deadline = time.monotonic() + 60
    while not reached.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the push never reached the hook"
        time.sleep(0.02)
    return job, proc, release


def test_ctrl_c_during_the_push_names_the_local_commit_and_a_rerun_pushes_it(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    job, proc, _ = _apply_held_at_the_push(origin, applied)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole process group, git too
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    local = job.head()
    assert job.git("log", "-1", "--format=%s") == RECORD
    assert "stopped (Ctrl-C or SIGTERM) during the push; origin/main does not have it" in err
    assert "Applied but not recorded upstream: integration 1 (mappings/shop-1.yaml)" in err
    assert f"The local commit {local[:12]} on branch main holds it: push it with `git push`" in err
    assert "Aborted" not in err and "Traceback" not in err
    assert origin.log()[0] == "shop 1 to 7"

    # Main moves on meanwhile; the re-run pushes the leftover commit, merged, then applies.
    (origin.path / "hooks" / "pre-receive").unlink()
    applied.push_change("shop 2 to 8", {2: "8"})
    rerun = run(job, "apply", "--yes", "--push")
    assert rerun.code == 0, rerun.err
    assert (
        f"Pushed the state commit {local[:12]} that an earlier run left on branch 'main' to origin/main"
    ) in rerun.err
    assert posts(api) == [1, 2]  # shop 1 is not sent again: its record reached main first
    assert origin.log()[:3] == [RECORD, RECORD, "shop 2 to 8"]
    assert_converged(origin, api, run)


def test_sigterm_during_the_push_lets_it_finish_and_says_it_was_pushed(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    job, proc, release = _apply_held_at_the_push(origin, applied)
    proc.send_signal(signal.SIGTERM)  # statusync alone: git goes on
    time.sleep(0.3)  # for the signal to be taken before the push ends
    release.touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Recorded the state in commit" in err and "pushed it to origin/main" in err
    assert "came during the push, which went through" in err
    assert "Aborted" not in err
    assert origin.head() == job.head() and origin.log()[0] == RECORD
    assert_converged(origin, api, run)


def test_a_local_commit_that_is_not_a_state_commit_of_statusync_is_not_pushed(
    origin: Origin, applied: Clone, api: SandboxServer, run: Run
) -> None:
    job = origin.clone()
    job.write(STATE, job.path.joinpath(STATE).read_text().replace('"1"', '"5"', 1))
    job.git(*DEV, "commit", "--quiet", "-am", RECORD)  # statusync's message, someone's edit?
    job.mapping(1, "5")
    job.git(*DEV, "commit", "--quiet", "-am", "edit")
    result = run(job, "apply", "--yes", "--push")
    assert result.code == 1
    assert "branch 'main' has 2 commits that origin/main does not have" in result.err
    assert "push them first (git push), or drop them with: git reset --keep origin/main" in result.err
    assert api.store.requests() == []
