"""Three accounts against the sandbox over real HTTP, one of them refused (a revoked key pair, an
OAuth2 client the token endpoint refuses, variables not set): every command does all of the good
accounts' integrations and records them, sends nothing more for the refused account after its
first refusal, prints its reports whole, exits 1 and names the stopped account."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from statusync.core.journal import Record
from statusync.core.state import Entry, State
from statusync.errors import JournalUnwritable
from statusync.files.journal import JournalWriter
from statusync.files.state_file import save_state
from statusync.runner.accounts import AccountStops
from statusync.runner.bounded import stop_running
from statusync.sandbox import SandboxServer
from tests.support.project import PUBLIC_KEY, SECRET_KEY, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]

IDS = {"a": (1, 2, 3, 4), "b": (11, 12, 13, 14), "c": (21, 22, 23, 24)}
REVOKED = "sk-revoked-never-shown-999"


def settings(c_auth: str = "", token_url: str = "") -> str:
    lines = ["accounts:"]
    for name in IDS:
        up = name.upper()
        if name == "c" and c_auth == "oauth2":
            lines += [
                "  c:",
                "    auth: oauth2",
                "    client_id_env: C_CLIENT_ID",
                "    client_secret_env: C_CLIENT_SECRET",
                f"    token_url: {token_url}",
            ]
        else:
            lines.append(f"  {name}: {{public_key_env: {up}_PUBLIC_KEY, secret_key_env: {up}_SECRET_KEY}}")
    return "\n".join(lines) + "\n"


def three_accounts(
    project: Project, sandbox: Start, env: dict[str, str], *, cancel: str = "null"
) -> SandboxServer:
    """Files of accounts a, b and c in folders of their own, the sandbox serving them all, and
    the keys of a and b good; c's key pair is revoked (the API refuses it)."""
    project.write("statusync.yaml", settings())
    for account, ids in IDS.items():
        for i in ids:
            project.mapping(
                i,
                rts=f'"{i}"',
                cancel=cancel,
                file=f"mappings/{account}/shop-{i}.yaml",
                extra=f"account: {account}\n",
            )
    server = sandbox()
    for name in ("A", "B"):
        env[f"{name}_PUBLIC_KEY"], env[f"{name}_SECRET_KEY"] = PUBLIC_KEY, SECRET_KEY
    env["C_PUBLIC_KEY"], env["C_SECRET_KEY"] = PUBLIC_KEY, REVOKED
    return server


def refused(server: SandboxServer) -> int:
    """How many requests the sandbox refused for their credentials."""
    return sum(1 for r in server.store.requests() if r.status == 401)


def state_ids(project: Project) -> set[int]:
    return {int(i) for i in json.loads(project.state_file.read_text())["integrations"]}


def assert_c_stopped(result: Result, left: int = 4) -> None:
    assert result.code == 1, result.err
    assert (
        "error: account 'c' stopped: " in result.err
        and "HTTP 401: Sendcloud rejected the API credentials" in result.err
        and f"{left} integrations left undone" in result.err
    ), result.err
    assert "account 'a' stopped" not in result.err and "account 'b' stopped" not in result.err
    assert REVOKED not in result.out + result.err


@pytest.mark.parametrize("parallelism", [("--parallelism", "1"), ("--parallelism", "8"), ()])
def test_apply_does_every_good_account_and_stops_the_revoked_one(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str], parallelism: tuple[str, ...]
) -> None:
    server = three_accounts(project, sandbox, env)
    result = cli("apply", "--yes", *parallelism)
    assert_c_stopped(result)
    for i in IDS["a"] + IDS["b"]:
        assert live(server, i)["READY_TO_SEND"] == str(i)
    for i in IDS["c"]:
        assert live(server, i)["READY_TO_SEND"] != str(i)
    assert state_ids(project) == set(IDS["a"] + IDS["b"])
    # Nothing of c was sent after its first refusal but what was already under way.
    assert refused(server) == 1 if parallelism == ("--parallelism", "1") else 1 <= refused(server) <= 8
    # c's creates were refused while reading what they replace: none of them was sent.
    assert (
        "Apply incomplete: " in result.out
        and "0 failed, 4 not sent (their account was stopped)" in result.out
    )
    assert "4 integrations not sent (their account was stopped); they stay in the plan" in result.err
    assert "failed;" not in result.err
    assert "not found in Sendcloud" not in result.err  # refused, not missing: no 404 was said
    # The next plan still has c's integrations to do, and only those.
    plan = cli("plan", "--format", "json")
    assert {c["integration_id"] for c in json.loads(plan.out)["changes"]} == set(IDS["c"])


def test_updates_of_the_revoked_account_stop_after_its_first_refusal(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    env["C_SECRET_KEY"] = SECRET_KEY
    assert cli("apply", "--yes").code == 0
    for account, ids in IDS.items():
        for i in ids:
            project.mapping(
                i,
                rts=f'"{i}"',
                cancel=f'"{i}"',
                file=f"mappings/{account}/shop-{i}.yaml",
                extra=f"account: {account}\n",
            )
    env["C_SECRET_KEY"] = REVOKED
    server.store.clear_requests()
    result = cli("apply", "--yes", "--force", "--parallelism", "1")
    assert_c_stopped(result)
    # Its first request, the read of 21's shop statuses before writing, was refused, and no other
    # request of c was made: none of its writes was sent.
    assert refused(server) == 1
    posts = [r for r in server.store.requests() if r.method == "POST"]
    assert sorted(r.integration_id for r in posts) == sorted(IDS["a"] + IDS["b"])
    assert all(r.status == 200 for r in posts)
    assert "Apply incomplete: 0 created, 8 updated, 0 reset, 0 forgotten, 0 failed, 4 not sent" in result.out
    # Neither applied nor refused in the state: c's last applied mapping is unchanged.
    state = json.loads(project.state_file.read_text())["integrations"]
    assert all(state[str(i)]["mapping"]["CANCEL"] is None for i in IDS["c"])
    assert all(state[str(i)]["mapping"]["CANCEL"] == str(i) for i in IDS["a"] + IDS["b"])
    assert json.loads(cli("plan", "--format", "json").out)["uncertain"] == []


def test_drift_reports_every_good_account_whole(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    env["C_SECRET_KEY"] = SECRET_KEY
    assert cli("apply", "--yes").code == 0
    env["C_SECRET_KEY"] = REVOKED
    server.store.edit_mapping(2, {"CANCEL": "1"})
    server.store.clear_requests()
    result = cli("drift", "--format", "json", "--parallelism", "1")
    assert_c_stopped(result)
    report = json.loads(result.out)
    statuses = {i["integration_id"]: i["status"] for i in report["integrations"]}
    assert statuses == {i: "drifted" if i == 2 else "in_sync" for i in IDS["a"] + IDS["b"]}
    assert sorted(e["integration_id"] for e in report["errors"]) == list(IDS["c"])
    assert refused(server) == 1
    for output_format in ("text", "markdown"):
        shown = cli("drift", "--format", output_format)
        assert (
            shown.code == 1 and "mappings/a/shop-2.yaml" in shown.out and "account 'c' stopped" in shown.err
        )
    # The markdown (the job summary, the drift issue) lists what it did not check, and why.
    markdown = cli("drift", "--format", "markdown").out
    assert "### Not checked" in markdown
    for i in IDS["c"]:
        assert f"| {i} | `mappings/c/shop-{i}.yaml` |" in markdown


def test_reconcile_fixes_the_good_accounts(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    env["C_SECRET_KEY"] = SECRET_KEY
    assert cli("apply", "--yes").code == 0
    env["C_SECRET_KEY"] = REVOKED
    for i in (2, 12, 22):
        server.store.edit_mapping(i, {"CANCEL": "1"})
    server.store.clear_requests()
    result = cli("reconcile", "--yes", "--parallelism", "1")
    assert_c_stopped(result)
    assert live(server, 2)["CANCEL"] is None and live(server, 12)["CANCEL"] is None
    assert live(server, 22)["CANCEL"] == "1"
    assert refused(server) == 1


def test_validate_remote_checks_every_good_account(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    result = cli("validate", "--remote", "--parallelism", "1")
    assert_c_stopped(result)
    assert "8 of 12 checked against the shops' statuses" in result.out
    assert sorted(r.integration_id for r in server.store.requests() if r.status == 200) == sorted(
        IDS["a"] + IDS["b"]
    )
    assert refused(server) == 1


def test_import_all_reads_every_account(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    for path in sorted((project.root / "mappings").rglob("*.yaml")):
        path.unlink()
    del env["SENDCLOUD_PUBLIC_KEY"], env["SENDCLOUD_SECRET_KEY"]
    result = cli("import", "--all")
    assert result.code == 1, result.err
    assert "error: account 'c' stopped: GET /integrations: HTTP 401" in result.err
    assert "its integrations (not listed) left undone" in result.err
    # The sandbox shows every integration to every key pair: each is imported once, with the
    # first account (by name) that lists it.
    assert state_ids(project) == set(IDS["a"] + IDS["b"] + IDS["c"])
    assert len(result.out.splitlines()) == 12
    assert cli("plan", "--detailed-exitcode").code == 0
    # default, which statusync.yaml does not name, was never asked for keys.
    assert "account 'default'" not in result.err
    listed = [r for r in server.store.requests() if r.path.endswith("/integrations")]
    assert sorted(r.status or 0 for r in listed) == [200, 200, 401]


def test_import_all_imports_the_good_accounts_when_one_has_no_variables(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    for path in sorted((project.root / "mappings").rglob("*.yaml")):
        path.unlink()
    del env["SENDCLOUD_PUBLIC_KEY"], env["SENDCLOUD_SECRET_KEY"]
    del env["C_PUBLIC_KEY"], env["C_SECRET_KEY"]
    result = cli("import", "--all")
    assert result.code == 1, result.err
    assert "internal error" not in result.err
    assert (
        "error: account 'c' stopped: missing credentials for account 'c': set C_PUBLIC_KEY"
    ) in result.err and "its integrations (not listed) left undone" in result.err
    # a and b list every integration of the sandbox: all are imported, none with account c.
    assert state_ids(project) == set(IDS["a"] + IDS["b"] + IDS["c"])
    assert len(result.out.splitlines()) == 12
    assert not any("account: c\n" in (project.root / f).read_text() for f in result.out.splitlines())
    assert refused(server) == 0


def test_import_all_with_account_reads_that_account_only(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    for path in sorted((project.root / "mappings").rglob("*.yaml")):
        path.unlink()
    server.store.clear_requests()
    result = cli("import", "--all", "--account", "b")
    assert result.code == 0, result.err
    assert len([r for r in server.store.requests() if r.path.endswith("/integrations")]) == 1
    assert all("account: b\n" in (project.root / f).read_text() for f in result.out.splitlines())
    assert refused(server) == 0


def test_an_account_without_its_variables_is_stopped_before_any_request(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    del env["C_PUBLIC_KEY"], env["C_SECRET_KEY"]
    result = cli("apply", "--yes")
    assert result.code == 1
    assert (
        "error: account 'c' stopped: missing credentials for account 'c': set C_PUBLIC_KEY "
        "(the Sendcloud API public key) and C_SECRET_KEY (the Sendcloud API secret key); "
        "4 integrations left undone"
    ) in result.err
    assert state_ids(project) == set(IDS["a"] + IDS["b"])
    assert refused(server) == 0
    assert not any(r.integration_id in IDS["c"] for r in server.store.requests())


def test_an_oauth2_client_the_token_endpoint_refuses_stops_its_account_only(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    project.write("statusync.yaml", settings("oauth2", server.token_url))
    env["C_CLIENT_ID"], env["C_CLIENT_SECRET"] = PUBLIC_KEY, REVOKED
    result = cli("apply", "--yes")
    assert result.code == 1
    assert "error: account 'c' stopped: " in result.err and "invalid_client" in result.err
    assert "4 integrations left undone" in result.err
    assert state_ids(project) == set(IDS["a"] + IDS["b"])
    assert not any(r.integration_id in IDS["c"] for r in server.store.requests())
    assert REVOKED not in result.out + result.err


def test_statuses_remote_lists_every_account_and_marks_the_revoked_ones_integrations(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    server = three_accounts(project, sandbox, env)
    result = cli("statuses", "--remote", "--format", "json", "--parallelism", "1")
    assert_c_stopped(result)
    shops = {i["integration_id"]: i for i in json.loads(result.out)["integrations"]}
    assert sorted(shops) == sorted(IDS["a"] + IDS["b"] + IDS["c"])
    for i in IDS["a"] + IDS["b"]:
        assert shops[i]["error"] is None and shops[i]["statuses"], shops[i]
    for i in IDS["c"]:
        assert shops[i]["statuses"] is None
        assert "account 'c' stopped: " in shops[i]["error"] and "HTTP 401" in shops[i]["error"]
    assert refused(server) == 1
    # Named once, with its account, not once per integration.
    assert "statuses of integration 21" not in result.err
    text = cli("statuses", "--remote")
    assert text.code == 1 and "mappings/c/shop-21.yaml (integration 21): not read: account 'c'" in text.out


def test_statuses_refresh_records_the_good_accounts_when_one_has_no_variables(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    three_accounts(project, sandbox, env)
    del env["C_PUBLIC_KEY"], env["C_SECRET_KEY"]
    result = cli("statuses", "--refresh", "--format", "json")
    assert result.code == 1
    assert (
        "error: account 'c' stopped: missing credentials for account 'c': set C_PUBLIC_KEY"
    ) in result.err and "4 integrations left undone" in result.err
    shops = {i["integration_id"]: i for i in json.loads(result.out)["integrations"]}
    assert all(shops[i]["error"] is None for i in IDS["a"] + IDS["b"])
    assert all("missing credentials" in shops[i]["error"] for i in IDS["c"])
    recorded = json.loads((project.root / ".statusync" / "statuses.json").read_text())["integrations"]
    assert sorted(int(i) for i in recorded) == sorted(IDS["a"] + IDS["b"])


def test_accounts_lists_those_with_files_or_pending_changes(project: Project, cli: Cli) -> None:
    assert cli("accounts", "--format", "json").out == "[]\n"
    project.write(
        "statusync.yaml", settings() + "  unused: {public_key_env: U_PUBLIC, secret_key_env: U_SECRET}\n"
    )
    project.mapping(1, file="mappings/b/shop-1.yaml", extra="account: b\n")
    project.mapping(2, file="mappings/a/shop-2.yaml", extra="account: a\n")
    # An integration of account c whose file was removed: its forget is pending.
    older = {"READY_TO_SEND": "9", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
    save_state(
        project.state_file,
        State(entries={3: Entry("mappings/c/shop-3.yaml", "old", "c", None, older, "2026-01-01T00:00:00Z")}),
    )
    result = cli("accounts", "--format", "json")
    assert result.code == 0 and json.loads(result.out) == ["a", "b", "c"]
    assert cli("accounts").out == "a\nb\nc\n"
    # No credentials were needed, and nothing was written.
    assert json.loads(project.state_file.read_text())["integrations"].keys() == {"3"}


@pytest.mark.parametrize(
    "command",
    [("apply", "--yes"), ("drift",), ("validate", "--remote"), ("statuses", "--refresh")],
    ids=["apply", "drift", "validate", "statuses"],
)
def test_a_run_stopped_after_an_account_was_still_names_that_account(
    project: Project,
    cli: Cli,
    sandbox: Start,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    # Ctrl-C (or SIGTERM) right after c's key was refused: the run is cut short, and its summary,
    # which names the stopped accounts, is not reached; c is named all the same.
    three_accounts(project, sandbox, env)
    stop = AccountStops.stop

    def stop_then_interrupt(self: AccountStops, account: str, reason: str) -> None:
        stop(self, account, reason)
        stop_running()  # what the signal handler does

    monkeypatch.setattr(AccountStops, "stop", stop_then_interrupt)
    result = cli(*command, "--parallelism", "1")
    assert result.code == 1, result.err
    assert "error: account 'c' stopped: " in result.err and "HTTP 401" in result.err, result.err
    assert result.err.count("account 'c' stopped: ") == 1
    assert REVOKED not in result.out + result.err


def test_an_apply_ended_by_a_full_disk_still_names_the_account_it_stopped(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = three_accounts(project, sandbox, env)
    write = JournalWriter.write
    records: list[object] = []

    def fills_up(self: JournalWriter, record: Record) -> None:
        if len(records) == 4:  # the intents and answers of a's and b's first writes
            raise JournalUnwritable(f"cannot write the journal {self.path}: No space left on device")
        records.append(record)
        write(self, record)

    monkeypatch.setattr(JournalWriter, "write", fills_up)
    result = cli("apply", "--yes", "--parallelism", "1")
    assert "error: cannot write the journal" in result.err and "No space left on device" in result.err
    assert_c_stopped(result)
    assert live(server, IDS["a"][0])["READY_TO_SEND"] == str(IDS["a"][0])
