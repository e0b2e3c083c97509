"""The edge cases a real repository hits, from the user's side: the command, its exit
code, what it printed, what the sandbox received and what the state holds.

- nothing under mappings/ is silently left out (a file left out would read as deleted);
- text from outside (API errors, names, ids, file names) is escaped the same way everywhere;
- values that cannot be right are refused with a location or a usage message;
- errors say where the problem is and what to do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from statusync.files.state_file import load_state
from statusync.sandbox import FaultRule, SandboxOptions, SandboxServer, seed_from_specs
from statusync.sendcloud.credentials import Credentials
from tests.support.project import MAPPING_PATH, PUBLIC_KEY, SECRET_KEY, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]

MAPPING = 'mapping:\n  READY_TO_SEND: "1"\n  IN_TRANSIT: "2"\n  DELIVERED: "3"\n  CANCEL: null\n'


def posts(server: SandboxServer) -> list[int | None]:
    return [
        r.integration_id for r in server.store.requests() if r.method == "POST" and r.path == MAPPING_PATH
    ]


def lines(text: str) -> list[str]:
    return text.splitlines()


@contextmanager
def unreadable(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`path` as the user running statusync cannot read it: by its permissions, or, for root
    (who reads everything, as in CI), by the system calls failing the way they would."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    denied = PermissionError(13, "Permission denied")
    if path.is_dir():
        real_scandir = os.scandir

        def scandir(target: Any = ".") -> Any:
            if Path(target) == path:
                raise denied
            return real_scandir(target)

        monkeypatch.setattr(os, "scandir", scandir)
    else:
        real_read, real_open = Path.read_bytes, os.open

        def read_bytes(self: Path) -> bytes:
            if self == path:
                raise denied
            return real_read(self)

        def os_open(target: Any, *args: Any, **kwargs: Any) -> int:
            if Path(target) == path:
                raise denied
            return real_open(target, *args, **kwargs)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
        monkeypatch.setattr(os, "open", os_open)
    yield
    monkeypatch.undo()


# -- 1. nothing under mappings/ is silently left out ----------------------------------------


def test_a_symlinked_directory_is_read_like_any_other(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    project.mapping(2, file="shared/eu/acme-de.yaml")  # kept outside mappings/, linked in
    (project.root / "mappings" / "eu").symlink_to(project.root / "shared" / "eu")
    result = cli("validate")
    assert (result.code, result.out) == (0, "2 mapping files valid.\n")

    server = sandbox()
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert sorted(posts(server)) == [1, 2]  # type: ignore[type-var]
    state = load_state(project.state_file)
    assert {i: e.file for i, e in state.entries.items()} == {
        1: "mappings/shop-1.yaml",
        2: "mappings/eu/acme-de.yaml",
    }


def test_a_link_to_a_file_is_a_mapping_file_only_with_a_yaml_name_as_any_file(
    project: Project, cli: Cli
) -> None:
    # mappings/README.md linked to the repository's README is documentation, as a copy would be.
    project.mapping(1)
    project.write("README.md", "# Our shops\n")
    project.mapping(2, file="shared/acme-de.yaml")
    (project.root / "mappings" / "README.md").symlink_to(project.root / "README.md")
    (project.root / "mappings" / "acme-de").symlink_to(project.root / "shared" / "acme-de.yaml")
    (project.root / "mappings" / "acme-de.yml").symlink_to(project.root / "shared" / "acme-de.yaml")
    assert cli("validate") == Result(0, "2 mapping files valid.\n", "")
    out = cli("plan").out
    assert "mappings/acme-de.yml" in out and "mappings/acme-de\n" not in out and "README" not in out


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (
            ".",
            "a symbolic link to a directory it is in (a loop); remove the link or point it at a "
            "directory outside mappings/",
        ),
        ("nowhere", "a symbolic link to nowhere, which does not exist; fix the link or remove it"),
        ("eu", "cannot read it (Too many levels of symbolic links); fix or remove it"),  # itself
    ],
)
def test_a_link_that_loops_or_leads_nowhere_is_an_error(
    project: Project, cli: Cli, target: str, problem: str
) -> None:
    project.mapping(1)
    (project.root / "mappings" / "eu").symlink_to(target)
    for command in ("validate", "plan", "fmt"):
        result = cli(command)
        assert (result.code, result.out) == (1, "")
        assert lines(result.err) == [f"error: mappings/eu: {problem}", "error: 1 problem found"]


_LOOPS = "(Too many levels of symbolic links)"
_FIX_STATE = "fix the symbolic link, or point 'state' in statusync.yaml (or --state) at the state file"


@pytest.mark.parametrize(
    ("link", "settings", "error"),
    [
        (
            "mappings",
            "",
            f"error: cannot read the mappings directory {{root}}/mappings {_LOOPS}; fix it, or point "
            "'mappings' in statusync.yaml (or --mappings) at another directory",
        ),
        (
            ".statusync/state.json",
            "",
            f"error: {{root}}/.statusync/state.json: cannot read the state file {_LOOPS}; {_FIX_STATE}",
        ),
        (
            "ops",
            "state: ops/state.json\n",
            f"error: {{root}}/ops/state.json: cannot read the state file {_LOOPS}; {_FIX_STATE}",
        ),
    ],
)
def test_a_mappings_directory_or_state_linked_to_itself_is_an_error_not_a_bug(
    project: Project, cli: Cli, link: str, settings: str, error: str
) -> None:
    project.mapping(1)
    project.write("statusync.yaml", settings)
    if link == "mappings":
        (project.root / "mappings").rename(project.root / "kept")
    (project.root / link).parent.mkdir(exist_ok=True)
    (project.root / link).symlink_to(Path(link).name)
    for command in ("validate", "plan"):
        result = cli(command)
        assert (result.code, result.out) == (1, ""), result.err
        assert result.err == error.format(root=project.root) + "\n"
    result = cli("apply", "--yes")  # whichever check meets the loop first
    assert (result.code, result.out) == (1, "") and "internal error" not in result.err
    assert f"{project.root}/{Path(link).parts[0]}" in result.err


@pytest.mark.parametrize(("target", "what"), [("gone", "does not exist"), ("file.txt", "is not a directory")])
def test_a_mappings_directory_linked_to_nothing_names_the_link_not_mkdir(
    project: Project, cli: Cli, target: str, what: str
) -> None:
    # "create it" would fail on the link (File exists): the link is what to fix.
    project.write("file.txt", "")
    (project.root / "mappings").rmdir()
    (project.root / "mappings").symlink_to(target)
    result = cli("plan")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: mappings directory {project.root}/mappings is a symbolic link to {target}, which "
        f"{what}; fix the link, or point 'mappings' in statusync.yaml (or --mappings) at a directory\n"
    )


def test_a_directory_that_cannot_be_listed_is_an_error_not_a_deletion(
    project: Project, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.mapping(1)
    project.mapping(2, file="mappings/eu/shop-2.yaml")
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    project.write("statusync.yaml", "on_removed: reset\n")  # a deletion would unmap the shop
    server.store.clear_requests()
    before = load_state(project.state_file)

    with unreadable(project.root / "mappings" / "eu", monkeypatch):
        plan = cli("plan")
        apply = cli("apply", "--yes")
    for result in (plan, apply):
        assert (result.code, result.out) == (1, "")
        assert lines(result.err) == [
            "error: mappings/eu: cannot read the directory (Permission denied); its mapping files "
            "would count as deleted: give the user running statusync read and search permission "
            "on it (chmod u+rx)",
            "error: 1 problem found",
        ]
    assert server.store.requests() == []
    assert live(server, 2) == {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
    assert load_state(project.state_file) == before


def test_a_file_that_cannot_be_read_is_an_error_not_a_deletion(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.mapping(1)
    secret = project.mapping(2)
    with unreadable(secret, monkeypatch):
        result = cli("plan")
    assert (result.code, result.out) == (1, "")
    assert lines(result.err) == [
        "error: mappings/shop-2.yaml: cannot read the file (Permission denied); it would count "
        "as deleted: check its permissions",
        "error: 1 problem found",
    ]


def test_a_name_that_is_not_utf8_is_refused_before_anything_is_sent(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1)
    good = project.mapping(7)
    server = sandbox()  # knows integration 7: a POST for it would be accepted
    os.rename(good, os.fsencode(project.root / "mappings") + b"/caf\xe9.yaml")  # Latin-1 name
    expected = [
        "error: mappings/caf\\xe9.yaml: the file name is not valid UTF-8 (its stray bytes "
        "are shown as \\xNN), so the state cannot record it: rename it to a UTF-8 name",
        "error: 1 problem found",
    ]
    for args in (["validate"], ["plan", "--out", "plan.json"], ["apply", "--yes"]):
        result = cli(*args)
        assert (result.code, lines(result.err)) == (1, expected), args
    assert posts(server) == [] and not project.state_file.exists()
    assert not (project.root / "plan.json").exists()


def test_a_directory_name_that_is_not_utf8_is_refused(project: Project, cli: Cli) -> None:
    project.mapping(1)
    os.makedirs(os.fsencode(project.root / "mappings") + b"/\xffeu")
    result = cli("validate")
    assert result.code == 1
    assert lines(result.err)[0] == (
        "error: mappings/\\xffeu: the directory name is not valid UTF-8 (its stray bytes are shown "
        "as \\xNN), so the state cannot record the names of its files: rename it to a UTF-8 name"
    )


def test_a_pipe_named_like_a_mapping_file_is_an_error_not_a_hang(project: Project, cli: Cli) -> None:
    os.mkfifo(project.root / "mappings" / "shop.yaml")
    result = cli("validate")
    assert (result.code, lines(result.err)[0]) == (
        1,
        (
            "error: mappings/shop.yaml: not a regular file (a pipe, socket or device); a mapping "
            "file must be a regular file"
        ),
    )


# -- 2. text from outside is escaped, the same way everywhere --------------------------------


def test_an_api_error_detail_cannot_forge_lines_or_send_escape_sequences(
    project: Project, cli: Cli, sandbox: Start
) -> None:
    project.mapping(1)
    server = sandbox(
        faults=(FaultRule(method="POST", status=422, detail="bad id\x1b[2J\nerror: forged line\u202e"),)
    )
    result = cli("apply", "--yes")
    assert result.code == 1 and posts(server) == [1]
    shown = "bad id\\u001b[2J\\nerror: forged line\\u202e"
    assert "\x1b" not in result.err and "\u202e" not in result.err
    assert not any(line.startswith("error: forged") for line in lines(result.err))
    failed = [line for line in lines(result.err) if "FAILED" in line or line.startswith("error:")]
    assert failed[0].endswith(
        f"create 1 (mappings/shop-1.yaml): FAILED: POST "
        f"/shop-order-statuses/mapping (integration 1): HTTP 422: {shown}"
    )
    assert failed[1] == (
        f"error: create 1 (mappings/shop-1.yaml) failed: POST "
        f"/shop-order-statuses/mapping (integration 1): HTTP 422: {shown}"
    )
    assert 1 not in load_state(project.state_file).entries


def test_every_line_of_a_multi_line_error_says_error(project: Project, cli: Cli) -> None:
    project.write("mappings/a.yaml", "integration_id: 1\nmapping: {}\n")
    project.write("mappings/b.yaml", "integration_id: [\n")
    result = cli("validate")
    assert result.code == 1 and len(lines(result.err)) == 6
    assert all(line.startswith("error: ") for line in lines(result.err)), result.err
    assert lines(result.err)[-1] == "error: 5 problems found"


def test_a_file_name_with_control_characters_is_shown_escaped_on_one_line(project: Project, cli: Cli) -> None:
    project.write("mappings/evil\x1b[31m\nerror: forged.yaml", "integration_id: 0\n" + MAPPING)
    result = cli("validate")
    assert result.code == 1 and "\x1b" not in result.err
    assert lines(result.err) == [
        "error: mappings/evil\\u001b[31m\\nerror: forged.yaml:1:17: integration_id: expected a "
        "positive integer, got the number 0",
        "error: 1 problem found",
    ]


BIDI_FILE = """\
mapping:
  CANCEL: null
  DELIVERED: "3"
  IN_TRANSIT: "\\u202e2"
  READY_TO_SEND: '1'
name: "ACME \\u202eLN"
integration_id: 1
"""


def test_fmt_keeps_a_bidi_override_escaped_and_every_output_shows_the_escape(
    project: Project, cli: Cli
) -> None:
    path = project.write("mappings/shop-1.yaml", BIDI_FILE)
    result = cli("fmt")
    assert (result.code, result.out) == (0, "reformatted mappings/shop-1.yaml\n")
    assert path.read_text() == (
        'integration_id: 1\nname: "ACME \\u202eLN"\nmapping:\n'
        '  READY_TO_SEND: "1"\n  IN_TRANSIT: "\\u202e2"\n'
        '  DELIVERED: "3"\n  CANCEL: null\n'
    )
    assert cli("fmt", "--check").code == 0
    for output_format in ("text", "json", "markdown"):
        shown = cli("plan", "--format", output_format).out
        assert "\u202e" not in shown and "\\u202e2" in shown, output_format
    assert (
        json.loads(cli("plan", "--format", "json").out)["changes"][0]["after"]["IN_TRANSIT"] == "\u202e2"
    )  # escaped in the text, the same value for scripts


def test_the_markdown_plan_shows_backticks_in_ids_as_they_are(project: Project, cli: Cli) -> None:
    project.mapping(1, rts="'a`b'", transit="'``'")
    out = cli("plan", "--format", "markdown").out
    assert '| READY_TO_SEND |  | ``"a`b"`` |' in out
    assert '| IN_TRANSIT |  | ```"``"``` |' in out


# -- 3. values that cannot be right -----------------------------------------------------------


def test_an_integration_id_beyond_what_json_carries_exactly_is_refused(project: Project, cli: Cli) -> None:
    project.write("mappings/big.yaml", "integration_id: 99999999999999999999999999\n" + MAPPING)
    project.write("mappings/edge.yaml", "integration_id: 9007199254740991\n" + MAPPING)  # 2^53 - 1
    result = cli("validate")
    assert result.code == 1
    assert lines(result.err) == [
        "error: mappings/big.yaml:1:17: integration_id: 99999999999999999999999999 is too large "
        "for an integration id: JSON carries integers exactly only up to 9007199254740991 "
        "(2^53 - 1), so a larger one could reach Sendcloud as another id; check the id in "
        "Sendcloud's panel",
        "error: 1 problem found",
    ]
    result = cli("import", "--integration", "9007199254740992")
    assert (
        result.code == 1
        and "Invalid value for '--integration': 9007199254740992 is not in the range 1<=x<=9007199254740991"
        in result.err
    )


def test_blank_and_control_character_external_ids_are_refused_where_they_are(
    project: Project, cli: Cli
) -> None:
    project.write(
        "mappings/a.yaml",
        'integration_id: 1\nmapping:\n  READY_TO_SEND: " "\n'
        '  IN_TRANSIT: "\\0"\n  DELIVERED: "1\\n"\n  CANCEL: "\\t"\n',
    )
    result = cli("validate")
    fix = 'write the shop\'s status id (such as "12"), or null for unmapped'
    assert (result.code, lines(result.err)) == (
        1,
        [
            f'error: mappings/a.yaml:3:18: READY_TO_SEND: the external id " " is blank; {fix}',
            f'error: mappings/a.yaml:4:15: IN_TRANSIT: the external id "\\u0000" holds the control '
            f"character \\u0000; {fix}",
            f'error: mappings/a.yaml:5:14: DELIVERED: the external id "1\\n" holds the control '
            f"character \\n; {fix}",
            f'error: mappings/a.yaml:6:11: CANCEL: the external id "\\t" is blank; {fix}',
            "error: 4 problems found",
        ],
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e400"])
def test_a_lock_timeout_that_is_not_a_finite_number_of_seconds_is_a_usage_error(
    project: Project, cli: Cli, value: str
) -> None:
    project.mapping(1)
    result = cli("apply", "--yes", "--lock-timeout", value)
    assert result.code == 1 and result.out == ""
    assert "Invalid value for '--lock-timeout'" in result.err
    assert not project.state_file.parent.exists()  # not even the lock was taken


@pytest.mark.parametrize("option", ["--state", "--mappings"])
def test_an_empty_path_is_a_usage_error_not_the_default(project: Project, cli: Cli, option: str) -> None:
    project.mapping(1)
    result = cli("plan", option, "")
    assert (result.code, result.out) == (1, "")
    assert (
        f"Invalid value for '{option}': must not be empty: give a path, or leave the option "
        "out to use the one in statusync.yaml" in result.err
    )


def test_a_deleted_working_directory_is_a_clear_error(project: Project) -> None:
    # A real process: the directory goes away between the shell's cd and statusync's start.
    proc = subprocess.run(
        ["sh", "-c", f"mkdir gone && cd gone && rmdir ../gone && exec {sys.executable} -m statusync plan"],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (
        "error: the current directory no longer exists (it was deleted or "
        "moved away); cd into the repository again and rerun the command\n"
    )


# -- 4. wording -------------------------------------------------------------------------------

# Where an alias is written, and what the file looks like around it.
ALIASES = {
    "category value": (
        'integration_id: 1\nmapping:\n  READY_TO_SEND: &x "1"\n  IN_TRANSIT: *x\n'
        "  DELIVERED: null\n  CANCEL: null\n",
        4,
        15,
    ),
    "in a flow mapping": (
        'integration_id: 1\nmapping: {READY_TO_SEND: &x "1", IN_TRANSIT: *x, '
        "DELIVERED: null, CANCEL: null}\n",
        2,
        46,
    ),
    "the whole mapping": (
        "integration_id: 1\n" + MAPPING.replace("mapping:", "mapping: &m") + "other: *m\n",
        7,
        8,
    ),
    "integration_id": ("name: &n 5\nintegration_id: *n\n" + MAPPING, 2, 17),
    "name": ("integration_id: 1\naccount: &a default\nname: *a\n" + MAPPING, 3, 7),
    "account": ("integration_id: 1\nname: &a default\naccount: *a\n" + MAPPING, 3, 10),
    "a key": (
        'integration_id: 1\nmapping:\n  &k READY_TO_SEND: "1"\n  *k : "2"\n'
        "  IN_TRANSIT: null\n  DELIVERED: null\n  CANCEL: null\n",
        4,
        3,
    ),
    "a list item": ("integration_id: 1\nname: [&i x, *i]\n" + MAPPING, 2, 14),
    "an anchor in a duplicate key": (
        "integration_id: 1\nname: a\nname: &d b\naccount: *d\n" + MAPPING,
        4,
        10,
    ),
    "an anchor under a tag": (
        'integration_id: 1\nname: !!map {a: &t "1"}\n' + MAPPING.replace('"1"', "*t"),
        4,
        18,
    ),
}


@pytest.mark.parametrize(("text", "line", "col"), ALIASES.values(), ids=ALIASES.keys())
def test_an_alias_is_reported_where_it_is_written_not_at_its_anchor(
    project: Project, cli: Cli, text: str, line: int, col: int
) -> None:
    project.write("mappings/a.yaml", text)
    result = cli("validate")
    assert result.code == 1
    alias = [problem for problem in lines(result.err) if "aliases (*name)" in problem]
    assert len(alias) == 1 and alias[0].startswith(f"error: mappings/a.yaml:{line}:{col}: "), alias


@pytest.mark.parametrize(("version", "shown"), [('"1"', '"1"'), ("true", "true"), ("1.0", "1.0")])
def test_a_state_version_that_is_not_a_whole_number_says_so(
    project: Project, cli: Cli, version: str, shown: str
) -> None:
    project.mapping(1)
    project.write(".statusync/state.json", f'{{"version": {version}, "integrations": {{}}}}\n')
    result = cli("plan")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f'error: {project.state_file}: the state file is corrupt ("version" is '
        f'{shown}, not a whole number such as 1); write "version": 1 if it '
        "was edited by hand, or restore it from git history\n"
    )


@pytest.mark.parametrize("out", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/dev/null"])
def test_plan_out_to_a_stream_says_it_needs_a_file(project: Project, cli: Cli, out: str) -> None:
    project.mapping(1)
    result = cli("plan", "--out", out)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: refusing to write {out}: it is a device or a stream (a "
        "terminal, a pipe), not a file; give the path of a file to write\n"
    )


def test_plan_out_into_a_missing_directory_names_it(project: Project, cli: Cli) -> None:
    project.mapping(1)
    result = cli("plan", "--out", "plans/today.json")
    assert result.code == 1
    assert result.err == (
        f"error: cannot write plans/today.json: the directory "
        f"{project.root / 'plans'} does not exist; create it first, or write "
        "somewhere else\n"
    )


@pytest.fixture
def interrupting_sandbox(project: Project, env: dict[str, str]) -> Iterator[Callable[[], SandboxServer]]:
    """A sandbox that sends this process a SIGINT (Ctrl-C) while it answers the first request,
    as a user pressing Ctrl-C while a command waits for the API."""
    from statusync.files.mappings import load_mappings

    servers: list[SandboxServer] = []
    interrupted: list[bool] = []

    def sleep(seconds: float) -> None:
        if not interrupted:
            interrupted.append(True)
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the request is still under way when the signal is handled

    def start() -> SandboxServer:
        specs = load_mappings(project.root / "mappings", project.root, ["default"])
        server = SandboxServer(
            seed_from_specs(s.spec for s in specs),
            Credentials(PUBLIC_KEY, SECRET_KEY),
            SandboxOptions(latency=0.01),
            port=0,
            sleep=sleep,
        ).start()
        servers.append(server)
        env["STATUSYNC_API_URL"] = server.url
        env["SENDCLOUD_PUBLIC_KEY"] = PUBLIC_KEY
        env["SENDCLOUD_SECRET_KEY"] = SECRET_KEY
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["drift"], "Aborted."),
        (["validate", "--remote"], "Aborted."),
        (
            ["apply", "--yes"],
            "Aborted. Whatever the API accepted before is recorded in the state; "
            "run the command again to finish.",
        ),
    ],
)
def test_the_abort_message_speaks_of_the_state_only_for_commands_that_write_it(
    project: Project,
    cli: Cli,
    interrupting_sandbox: Callable[[], SandboxServer],
    args: list[str],
    message: str,
) -> None:
    project.mapping(1)
    interrupting_sandbox()
    result = cli(*args)
    assert result.code == 1
    assert lines(result.err)[-1] == message


@pytest.mark.parametrize(("command", "message"), [("plan", "Aborted."), ("apply", "Aborted. Whatever")])
def test_ctrl_c_while_a_module_is_imported_aborts_rather_than_reports_a_bug(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch, command: str, message: str
) -> None:
    # Python wraps a KeyboardInterrupt raised while a class body's fields are set up (a module
    # imported on the way to the first request) in a RuntimeError.
    def interrupted_import(*args: object, **kwargs: object) -> int:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Error calling __set_name__ on 'Field' instance 'secret_key'") from exc

    monkeypatch.setattr(f"statusync.commands.{command}.run", interrupted_import)
    project.mapping(1)
    result = cli(command, *(["--yes"] if command == "apply" else []))
    assert result.code == 1
    assert "internal error" not in result.err and lines(result.err)[-1].startswith(message)


def test_ctrl_c_while_the_process_starts_aborts_without_a_traceback(tmp_path: Path) -> None:
    # Before statusync's own handling of Ctrl-C is in place (its modules still being imported),
    # Python raises KeyboardInterrupt wherever the import is: the process ends as an aborted run.
    code = (
        "import builtins\n"
        "real = builtins.__import__\n"
        "def importing(name, *args, **kwargs):\n"
        "    if name == 'statusync.cli':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = importing\n"
        "from statusync.__main__ import main\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "plan"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (run.returncode, run.stdout, run.stderr) == (1, "", "Aborted.\n")


def test_the_skipped_spec_comparison_says_what_it_compares_and_why() -> None:
    from tests.unit.sendcloud import test_client_spec as test_api_spec

    [mark] = [
        m for m in test_api_spec.test_vendored_spec_is_the_shared_reference.pytestmark if m.name == "skipif"
    ]
    reason = mark.kwargs["reason"]
    assert str(test_api_spec.SHARED_SPEC) in reason
    assert "sendcloud-integrations-openapi.yaml" in reason and "reference copy" in reason
