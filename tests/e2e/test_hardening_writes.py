"""The edge cases of writing, from the user's side (the command, its exit code, what it printed,
what the sandbox received and what the state holds):

- a missing state is said at the top of every plan, not silently turned into "create everything";
- a create shows the live mapping it replaces, counts toward the safety threshold when it
  overwrites one, and sends nothing when live already equals the file;
- what could make recording fail is found before the first request, and a run that cannot
  record at its end still says what went live;
- `exclude:` keeps shops out of `import`, and `import` warns about entries pointing at deleted
  statuses;
- the lock file beside the state stays, and the words about it say so.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from statusync.errors import StatusyncError
from statusync.files.journal import journal_path
from statusync.files.state_file import load_state
from statusync.sandbox import SandboxServer, StoredIntegration
from statusync.sandbox.seed import shop_status
from tests.support.project import MAPPING_PATH, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]

FILE_MAPPING = {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
OTHER_MAPPING = {"READY_TO_SEND": "3", "IN_TRANSIT": "3", "DELIVERED": "3", "CANCEL": None}
REPOSITORY = Path(__file__).resolve().parents[2]


def requests(server: SandboxServer, method: str) -> list[int | None]:
    """The integration of every request to the mapping endpoint by `method`, in order."""
    return [
        r.integration_id for r in server.store.requests() if r.method == method and r.path == MAPPING_PATH
    ]


def set_live(server: SandboxServer, integration_id: int, mapping: dict[str, str | None]) -> None:
    assert server.store.upsert_mapping(integration_id, mapping) == []


@contextmanager
def read_only(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`directory` as a user who may not create files in it sees it: by its permissions, or,
    for root (who writes anywhere, as in CI), by creating a file there failing as it would."""
    if os.geteuid() != 0:
        mode = directory.stat().st_mode
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(mode)
        return
    real_open = os.open

    def guarded(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        target = Path(os.fsdecode(path))
        if flags & os.O_CREAT and target.parent.resolve() == directory.resolve() and not target.exists():
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    with monkeypatch.context() as patched:  # undo() would undo the project's chdir too
        patched.setattr(os, "open", guarded)
        yield


# -- 1. a missing state is said at the top --------------------------------------------------------


def test_a_missing_state_is_said_at_the_top_of_every_plan(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    text = cli("plan")
    assert text.code == 0
    assert text.out.startswith(
        "Warning: the state file .statusync/state.json does not exist, so "
        "every mapping file is planned as a create"
    )
    assert "'statusync import'" in text.out.splitlines()[0]
    doc = json.loads(cli("plan", "--format", "json").out)
    assert doc["warnings"] == [text.out.splitlines()[0].removeprefix("Warning: ").rstrip(".")]
    markdown = cli("plan", "--format", "markdown").out
    assert markdown.index("> [!WARNING]\n> the state file") < markdown.index("to create")

    sandbox()
    applied = cli("apply", "--yes")
    assert applied.code == 0, applied.err
    assert applied.out.startswith("Warning: the state file .statusync/state.json does not exist")
    # Once there is a state, the plan has nothing to warn about...
    assert "Warning" not in cli("plan").out
    assert json.loads(cli("plan", "--format", "json").out)["warnings"] == []
    # ...and a mistyped --state is named.
    typo = cli("plan", "--state", ".statusync/stat.json")
    assert typo.out.startswith("Warning: the state file .statusync/stat.json does not exist")


def test_no_warning_without_mapping_files(project: Project, cli: Cli) -> None:
    result = cli("plan")
    assert result.code == 0 and "Warning" not in result.out


# -- 2. a create shows what it replaces -------------------------------------------------------------


def test_apply_shows_the_live_mapping_a_create_replaces(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    server = sandbox()
    set_live(server, 1, OTHER_MAPPING)
    # plan stays offline: no "before" for a create.
    offline = cli("plan").out
    assert '      READY_TO_SEND  "1"\n' in offline and "->" not in offline

    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "replaces the live mapping shown on the left" in result.out
    assert '      READY_TO_SEND  "3" -> "1"\n' in result.out
    assert '      DELIVERED      "3" -> "3"\n' in result.out
    assert requests(server, "GET") == [1] and requests(server, "POST") == [1]
    assert live(server, 1) == FILE_MAPPING
    assert load_state(project.state_file).entries[1].mapping == FILE_MAPPING


def test_a_create_that_overwrites_live_counts_toward_the_safety_threshold(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    """A lost state makes every file a create: they are held to the threshold like updates."""
    for i in range(1, 11):
        project.mapping(i)
    server = sandbox()
    for i in range(1, 11):
        set_live(
            server, i, OTHER_MAPPING if i <= 4 else FILE_MAPPING if i <= 6 else dict.fromkeys(FILE_MAPPING)
        )
    project.write("statusync.yaml", "safety: {min_managed: 2}\n")
    # 1-4 overwrite a different live mapping; 5-6 are live already; 7-10 replace all-unmapped.
    result = cli("apply", "--yes")
    assert result.code == 1
    # The base: the integrations in the state (none) and those the creates take over (1-4).
    assert (
        "refusing to apply: the plan updates, resets, forgets or overwrites 4 of 4 managed "
        "integrations (100%)"
    ) in result.err
    assert requests(server, "POST") == []
    assert sorted(requests(server, "GET")) == list(range(1, 11))
    # Those already live were recorded without a request, even though the rest was refused.
    assert sorted(load_state(project.state_file).entries) == [5, 6]

    result = cli("apply", "--yes", "--force")
    assert result.code == 0, result.err
    assert sorted(requests(server, "POST")) == [1, 2, 3, 4, 7, 8, 9, 10]
    assert all(live(server, i) == FILE_MAPPING for i in range(1, 11))
    assert sorted(load_state(project.state_file).entries) == list(range(1, 11))


def test_a_create_already_live_is_recorded_without_a_request(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1)
    server = sandbox()
    set_live(server, 1, FILE_MAPPING)
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "No changes." in result.out
    assert (
        "Recorded 1 integration whose live mapping already equals the file in the state, without a request."
    ) in result.err
    assert requests(server, "POST") == []
    assert load_state(project.state_file).entries[1].mapping == FILE_MAPPING
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_create_of_an_integration_sendcloud_lacks_says_so_and_fails(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1)
    server = sandbox()
    project.mapping(77)  # not in Sendcloud
    result = cli("apply", "--yes")
    assert result.code == 1
    assert "note: integration 77 was not found in Sendcloud (404)" in result.err
    assert "create 77 (mappings/shop-77.yaml) failed" in result.err
    assert sorted(load_state(project.state_file).entries) == [1]
    assert requests(server, "POST").count(1) == 1


# -- 3. what could make recording fail is found before the first request ---------------------------


def test_a_state_directory_that_cannot_be_created_is_refused_before_any_request(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1)
    server = sandbox()
    project.write(".statusync", "a file where the directory should be\n")
    result = cli("apply", "--yes")
    assert result.code == 1
    assert "cannot record this run in the state" in result.err
    assert "cannot be created or written" in result.err and "nothing was sent" in result.err
    assert "Traceback" not in result.err
    assert server.store.requests() == []


def test_a_read_only_state_directory_is_refused_before_any_request(
    project: Project, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.mapping(1)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    before = project.state_file.read_bytes()
    project.mapping(1, rts='"2"')
    server.store.clear_requests()
    with read_only(project.state_file.parent, monkeypatch):
        result = cli("apply", "--yes")
    assert result.code == 1
    assert (
        f"the directory {project.state_file.parent} cannot be created or written "
        "(Permission denied); nothing was sent"
    ) in result.err
    assert server.store.requests() == []
    assert project.state_file.read_bytes() == before


@pytest.mark.parametrize("signals", [1, 2])
def test_ctrl_c_while_the_state_is_written_at_the_end_lets_the_write_finish_once(
    project: Project, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch, signals: int
) -> None:
    # Cut short, the write would leave what went live in the journal only, which a CI job does
    # not commit: a first signal waits for it, a second one stops at once (an escape hatch).
    from statusync import cli as cli_module
    from statusync.runner import recorder

    project.mapping(1)
    project.mapping(2)
    sandbox()
    save_state = recorder.save_state

    def interrupted_while_saving(path: Path, state: object, made: object = None) -> object:
        for _ in range(signals):
            cli_module._interrupt(signal.SIGINT, None)  # as the signal would, right now
        return save_state(path, state, made)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:  # undo() would undo the project's chdir too
        patched.setattr(recorder, "save_state", interrupted_while_saving)
        result = cli("apply", "--yes")
    assert result.code == 1 and "Aborted." in result.err
    written = sorted(load_state(project.state_file).entries)
    if signals == 1:
        assert written == [1, 2] and not journal_path(project.state_file).exists()
    else:  # in the state, or in the journal that the next run folds in: nothing is lost
        assert written == [1, 2] or journal_path(project.state_file).exists()


def test_a_run_that_cannot_write_the_state_at_its_end_says_what_went_live(
    project: Project, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.mapping(1)
    project.mapping(2)
    server = sandbox()

    def disk_full(path: Path, state: object, made: object = None) -> object:
        raise StatusyncError(f"cannot write {path}: No space left on device")

    with monkeypatch.context() as patched:  # undo() would undo the project's chdir too
        patched.setattr("statusync.runner.recorder.save_state", disk_full)
        result = cli("apply", "--yes")
    assert result.code == 1
    assert "Apply complete: 2 created, 0 updated" in result.out
    assert (
        "No space left on device; the state was not written, though the API accepted 2 "
        "change(s): create 1 (mappings/shop-1.yaml), create 2 (mappings/shop-2.yaml)" in result.err
    )
    assert ".statusync/state.json.journal, which every command reads with the state" in result.err
    assert sorted(requests(server, "POST")) == [1, 2]
    assert not project.state_file.exists()
    # Nothing is lost: the journal tells every command, and the next write run records it.
    assert cli("plan", "--detailed-exitcode").code == 0
    assert cli("apply", "--yes").code == 0
    assert sorted(load_state(project.state_file).entries) == [1, 2]
    assert sorted(requests(server, "POST")) == [1, 2]


# -- 4. exclude, and warnings on import ------------------------------------------------------------


def add_shop(
    server: SandboxServer, integration_id: int, mapping: tuple[str | None, ...] = ("2", "4", "5", None)
) -> None:
    server.store.add_integration(
        StoredIntegration(
            id=integration_id,
            shop_name=f"Shop {integration_id}",
            type="prestashop_v2",
            statuses=(shop_status("2", "Paid"), shop_status("4", "Shipped"), shop_status("5", "Delivered")),
            mapping=mapping,
        )
    )


def test_import_all_skips_excluded_shops(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    for i in (1, 2, 3):
        add_shop(server, i)
    project.write("statusync.yaml", "exclude: [2, 9]\n")
    result = cli("import", "--all")
    assert result.code == 0, result.err
    assert result.out == "mappings/shop-1-1.yaml\nmappings/shop-3-3.yaml\n"
    assert "note: skipped integration 2: excluded in statusync.yaml (exclude)" in result.err
    assert result.err.endswith("Import complete: 2 imported, 1 skipped.\n")
    assert 2 not in requests(server, "GET")  # not even read
    assert sorted(load_state(project.state_file).entries) == [1, 3]


def test_import_of_an_excluded_shop_needs_force(project: Project, cli: Cli, sandbox: Start) -> None:
    server = sandbox()
    add_shop(server, 2)
    project.write("statusync.yaml", "exclude: [2]\n")
    result = cli("import", "--integration", "2")
    assert result.code == 1
    assert (
        "not importing 1 integration excluded in statusync.yaml (exclude): 2; nothing was "
        "read or written. Remove it from exclude, or pass --force"
    ) in result.err
    assert server.store.requests() == [] and not project.state_file.exists()
    result = cli("import", "--integration", "2", "--force")
    assert result.code == 0, result.err
    assert result.out == "mappings/shop-2-2.yaml\n"


@pytest.mark.parametrize(
    "value, message",
    [
        ("3", "1:10: exclude: must be a list of integration ids, such as [23452345]"),
        ("[1, 0]", "1:14: exclude.1: expected a positive integer"),
        ('["7"]', '1:11: exclude.0: expected a number, got the string "7"'),
    ],
)
def test_exclude_must_be_a_list_of_ids(project: Project, cli: Cli, value: str, message: str) -> None:
    project.write("statusync.yaml", f"exclude: {value}\n")
    result = cli("plan")
    assert result.code == 1
    assert f"statusync.yaml:{message}" in result.err


def test_import_warns_for_every_entry_pointing_at_a_deleted_status(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    server = sandbox()
    add_shop(server, 4, mapping=("2", "4", "5", None))
    server.store.delete_status(4, "4")
    server.store.delete_status(4, "5")
    result = cli("import", "--integration", "4")
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: integration 4 (Shop 4), mappings/shop-4-4.yaml: {category} maps to external "
        f"id '{external_id}', a status the shop deleted (is_valid: false); the API refuses it, so "
        f"any later change to this file fails until {category} maps to a status the shop has "
        "('statusync validate --remote' lists them)"
        for category, external_id in (("IN_TRANSIT", "4"), ("DELIVERED", "5"))
    ]
    assert sorted(load_state(project.state_file).entries) == [4]


# -- 5. the lock file ------------------------------------------------------------------------------


def test_the_lock_file_stays_and_the_words_say_so(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    sandbox()
    assert cli("apply", "--yes").code == 0
    lock = project.state_file.with_name("state.json.lock")
    assert lock.exists() and lock.read_bytes() == b""  # it stays, empty: only its flock counts
    project.mapping(1, rts='"2"')
    assert cli("apply", "--yes").code == 0  # and it never blocks the next run
    gitignore = (REPOSITORY / ".gitignore").read_text()
    assert ".statusync/*.lock" in gitignore and "exists only while" not in gitignore
    assert "lock file itself stays" in (REPOSITORY / "README.md").read_text()
