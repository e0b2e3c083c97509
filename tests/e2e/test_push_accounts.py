"""One CI job per account with real git: as many jobs as accounts, from one push, each running
`apply --only account:NAME --push` from its own clone, all pushing at the same moment. Every job's
state lands on origin's main (--push rebases and merges the state), live equals the files, and a
plan of origin's main is empty."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from statusync.sandbox import SandboxOptions, SandboxServer, SandboxStore, StoredIntegration
from statusync.sandbox.seed import shop_status
from statusync.sendcloud.credentials import Credentials
from tests.support.gitrepo import Clone, Origin, hermetic_git
from tests.support.processes import statusync
from tests.support.project import PUBLIC_KEY, SECRET_KEY, live

ACCOUNTS = {"acc-1": (1, 2, 3), "acc-2": (11, 12, 13), "acc-3": (21, 22, 23)}
STATE = ".statusync/state.json"
RECORD = "statusync: record applied state"


def mapping_file(integration_id: int, account: str) -> str:
    return (
        f"integration_id: {integration_id}\naccount: {account}\nmapping:\n"
        f'  READY_TO_SEND: "{integration_id % 9 + 1}"\n  IN_TRANSIT: "2"\n  DELIVERED: "3"\n  CANCEL: null\n'
    )


def desired() -> dict[int, dict[str, str | None]]:
    return {
        i: {"READY_TO_SEND": str(i % 9 + 1), "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
        for ids in ACCOUNTS.values()
        for i in ids
    }


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    store = SandboxStore(
        StoredIntegration(
            id=i, shop_name=f"Shop {i}", statuses=tuple(shop_status(str(e)) for e in range(1, 10))
        )
        for ids in ACCOUNTS.values()
        for i in ids
    )
    server = SandboxServer(store, Credentials(PUBLIC_KEY, SECRET_KEY), SandboxOptions(), port=0).start()
    # Each job sees its own account's keys under the standard names, as from the environment
    # sendcloud-NAME of the per-account workflow.
    monkeypatch.setenv("STATUSYNC_API_URL", server.url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
    yield server
    server.stop()


def held_until_all_push(clone: Clone, gate: Path, count: int) -> None:
    """A pre-push hook: the job's first push waits until every job has reached its own, so
    that they all push at once (at most a minute)."""
    gate.mkdir(exist_ok=True)
    mark = shlex.quote(str(gate / clone.path.name))
    clone.hook(
        "pre-push",
        f"""
        touch {mark}
        for _ in $(seq 600); do
            [ "$(ls {shlex.quote(str(gate))} | wc -l)" -ge {count} ] && exit 0
            sleep 0.1
        done
        exit 0
    """,
    )


def test_one_job_per_account_all_at_once_lands_every_state(
    tmp_path: Path, api: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hermetic_git(monkeypatch)
    origin = Origin.create(tmp_path)
    dev = origin.clone("dev")
    dev.write("statusync.yaml", "accounts:\n" + "".join(f"  {name}: {{}}\n" for name in ACCOUNTS))
    for account, ids in ACCOUNTS.items():
        for i in ids:
            dev.write(f"mappings/{account}/shop-{i}.yaml", mapping_file(i, account))
    dev.write(".gitattributes", ".statusync/state.json merge=statusync\n")
    dev.write(".gitignore", ".statusync/*.lock\n")
    dev.commit("three accounts")
    dev.git("push", "--quiet", "origin", "main")

    # The matrix the workflow would make, from the pushed commit.
    listed, _ = statusync(
        "accounts", "--format", "json", env=os.environ, cwd=origin.clone().path
    ).communicate()
    accounts = json.loads(listed)
    assert accounts == sorted(ACCOUNTS)

    gate = tmp_path / "gate"
    jobs = matrix_jobs(origin, accounts, gate)
    retried = 0
    for account, proc in jobs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{account}: {out}{err}"
        assert f"{len(ACCOUNTS[account])} created" in out
        retried += "pushed it to origin/main (after " in err
    # They pushed at once: all but the first were rejected, and rebuilt on what had landed.
    assert retried >= len(accounts) - 1

    assert len(list(gate.iterdir())) == len(accounts)  # every job was held until all pushed
    assert origin.log()[: len(accounts)] == [RECORD] * len(accounts)
    check = origin.clone()
    state = json.loads(origin.show(STATE))
    assert {int(i) for i in state["integrations"]} == set(desired())
    assert not state.get("uncertain")
    assert {i: live(api, i) for i in desired()} == desired()
    plan = statusync("plan", "--detailed-exitcode", env=os.environ, cwd=check.path)
    out, err = plan.communicate(timeout=60)
    assert plan.returncode == 0, out + err


def matrix_jobs(
    origin: Origin, accounts: Iterable[str], gate: Path
) -> list[tuple[str, subprocess.Popen[str]]]:
    """One `apply --push --only account:NAME` job per account, each from its own clone, all held
    at their first push until every one of them is there (`gate`), as a matrix starts them."""
    accounts = list(accounts)
    jobs = []
    for account in accounts:
        clone = origin.clone()
        held_until_all_push(clone, gate, len(accounts))
        proc = statusync(
            "apply", "--yes", "--push", "--only", f"account:{account}", env=os.environ, cwd=clone.path
        )
        jobs.append((account, proc))
    return jobs


def test_more_jobs_at_once_than_a_push_has_tries_all_land(
    tmp_path: Path, api: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An agency's matrix: eight accounts, one shop each, every job pushing at the same moment.
    # Each round of pushes lands one of them; the others must not all come back in step with
    # each other until the tries run out.
    hermetic_git(monkeypatch)
    accounts = {f"shop-{i}": i for i in range(101, 109)}
    for i in accounts.values():
        api.store.add_integration(
            StoredIntegration(
                id=i, shop_name=f"Shop {i}", statuses=tuple(shop_status(str(e)) for e in range(1, 10))
            )
        )
    origin = Origin.create(tmp_path)
    dev = origin.clone("dev")
    dev.write("statusync.yaml", "accounts:\n" + "".join(f"  {name}: {{}}\n" for name in accounts))
    for account, i in accounts.items():
        dev.write(f"mappings/{account}.yaml", mapping_file(i, account))
    dev.write(
        ".gitattributes", ".statusync/state.json merge=statusync\n.statusync/statuses.json merge=statusync\n"
    )
    dev.write(".gitignore", ".statusync/*.lock\n")
    dev.commit("eight accounts")
    dev.git("push", "--quiet", "origin", "main")

    jobs = matrix_jobs(origin, accounts, tmp_path / "gate")
    for account, proc in jobs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{account}: {out}{err}"

    state = json.loads(origin.show(STATE))
    assert {int(i) for i in state["integrations"]} == set(accounts.values())
    assert {int(i) for i in json.loads(origin.show(".statusync/statuses.json"))["integrations"]} == set(
        accounts.values()
    )
    plan = statusync("plan", "--detailed-exitcode", env=os.environ, cwd=origin.clone().path)
    out, err = plan.communicate(timeout=60)
    assert plan.returncode == 0, out + err
