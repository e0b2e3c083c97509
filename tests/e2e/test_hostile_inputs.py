"""Inputs no one writes on purpose, from the user's side: each is refused with where it is and
what to do, never a traceback, a hang or a silent default."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import pytest

from statusync.sandbox import SandboxServer
from tests.support.project import Project, Result

Cli = Callable[..., Result]

# More decimal digits than Python converts to an int (sys.get_int_max_str_digits()).
HUGE = "9" * (sys.get_int_max_str_digits() + 1)
LIMIT = sys.get_int_max_str_digits()


def too_long(where: str, name: str) -> str:
    return (
        f"error: {where}: {name}: a number of {len(HUGE)} digits is longer than statusync reads "
        f"(at most {LIMIT}); check the value (quote it if it is meant as text)"
    )


@pytest.mark.parametrize("command", ["validate", "plan", "fmt"])
def test_a_number_too_long_to_read_in_a_mapping_file_is_located(
    project: Project, cli: Cli, command: str
) -> None:
    project.mapping(1, file="mappings/id.yaml").write_text(
        project.mapping(1).read_text().replace("integration_id: 1", f"integration_id: {HUGE}")
    )
    project.mapping(2, delivered=HUGE)
    result = cli(command)
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        too_long("mappings/id.yaml:1:17", "integration_id"),
        too_long("mappings/shop-2.yaml:5:14", "mapping.DELIVERED"),
        "error: 2 problems found",
    ]


def test_a_number_too_long_to_read_in_statusync_yaml_is_located(project: Project, cli: Cli) -> None:
    project.mapping(1)
    project.write("statusync.yaml", f"safety:\n  min_managed: {HUGE}\n")
    for command in ("validate", "plan"):
        result = cli(command)
        assert (result.code, result.err.splitlines()) == (
            1,
            [too_long("statusync.yaml:2:16", "safety.min_managed"), "error: 1 problem found"],
        )


def test_a_line_break_in_the_mappings_path_is_shown_escaped_in_one_error(project: Project, cli: Cli) -> None:
    # Each line of an error is labelled "error:": a path's own line break would split it in two.
    project.write("statusync.yaml", 'mappings: "map\\npings"\n')
    result = cli("plan")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"error: mappings directory {project.root.as_posix()}/map\\npings does not exist; create it, "
        "or point 'mappings' in statusync.yaml (or --mappings) at it"
    ]


def test_a_number_too_long_to_read_in_the_state_says_the_state_is_corrupt(project: Project, cli: Cli) -> None:
    project.mapping(1)
    project.write(".statusync/state.json", f'{{"version": {HUGE}, "integrations": {{}}}}\n')
    result = cli("plan")
    assert result.code == 1
    assert result.err.startswith(
        f"error: {project.state_file}: the state file is corrupt (Exceeds the "
        f"limit ({LIMIT} digits) for integer string conversion"
    )
    assert "internal error" not in result.err


@pytest.mark.parametrize("command", [["apply", "--yes"], ["drift"], ["plan"]])
def test_an_empty_api_url_variable_is_an_error_not_production(
    project: Project, cli: Cli, env: dict[str, str], command: list[str]
) -> None:
    project.mapping(1)
    env["SENDCLOUD_PUBLIC_KEY"] = "pk"
    env["SENDCLOUD_SECRET_KEY"] = "sk"
    env["STATUSYNC_API_URL"] = ""
    result = cli(*command)
    assert (result.code, result.out, result.err) == (
        1,
        "",
        (
            "error: the environment variable STATUSYNC_API_URL is set but empty; set it to the API's URL "
            "(such as https://panel.sendcloud.sc/api/v3), or unset it\n"
        ),
    )
    assert not project.state_file.exists()


def test_an_empty_key_variable_is_named_as_empty(project: Project, cli: Cli, env: dict[str, str]) -> None:
    project.mapping(1)
    env["SENDCLOUD_PUBLIC_KEY"] = "pk"
    env["SENDCLOUD_SECRET_KEY"] = ""
    result = cli("apply", "--yes")
    assert (result.code, result.err) == (
        1,
        (
            "error: the environment variable SENDCLOUD_SECRET_KEY is set but empty; set it to the "
            "Sendcloud API secret key of account 'default', or unset it\n"
        ),
    )


IN_MAPPINGS = (
    "is in the mappings directory mappings, where it would be read as a mapping file; keep "
    "the state outside it, such as .statusync/state.json"
)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("state: mappings/state.yaml\n", f"statusync.yaml:1:8: state: mappings/state.yaml {IN_MAPPINGS}"),
        ("state: mappings/eu/State.YML\n", f"statusync.yaml:1:8: state: mappings/eu/State.YML {IN_MAPPINGS}"),
        (
            "state: statusync.yaml\n",
            "statusync.yaml:1:8: state: statusync.yaml is the settings file, "
            "which the state would overwrite; give the state a file of its own, "
            "such as .statusync/state.json",
        ),
        (
            "mappings: mappings/eu\nstate: mappings/eu/s.yaml\n",
            "statusync.yaml:2:8: state: mappings/eu/s.yaml is in the mappings directory "
            "mappings/eu, where it "
            "would be read as a mapping file; keep the state outside it, such as .statusync/state.json",
        ),
        (
            "state: .statusync/statuses.json\n",
            "statusync.yaml:1:8: state: .statusync/statuses.json is named as the status catalog "
            "that statusync keeps beside the state, which would then overwrite it; give the state "
            "a file of its own, such as .statusync/state.json",
        ),
        (
            "mappings: .\n",
            "statusync.yaml:1:11: mappings: . holds statusync.yaml, which would be read as a mapping "
            "file; keep the mapping files in a directory of their own, such as mappings",
        ),
    ],
)
def test_a_state_path_among_the_mapping_files_is_refused_before_anything_runs(
    project: Project, cli: Cli, sandbox: Callable[..., SandboxServer], settings: str, expected: str
) -> None:
    project.mapping(1, file="mappings/eu/shop-1.yaml")
    server = sandbox()
    project.write("statusync.yaml", settings)
    for command in (["validate"], ["plan"], ["apply", "--yes"]):
        result = cli(*command)
        assert (result.code, result.err) == (1, f"error: {expected}\nerror: 1 problem found\n"), command
    assert server.store.requests() == []
    assert sorted(p.name for p in project.root.rglob("*") if p.is_file()) == ["shop-1.yaml", "statusync.yaml"]


def test_a_state_option_among_the_mapping_files_is_refused(project: Project, cli: Cli) -> None:
    project.mapping(1)
    result = cli("validate", "--mappings", ".")
    assert (result.code, result.err) == (
        1,
        "error: --mappings: . holds statusync.yaml, which would be read as a mapping file; keep "
        "the mapping files in a directory of their own, such as mappings\n",
    )
    result = cli("apply", "--yes", "--state", "mappings/state.yaml")
    assert (result.code, result.err) == (1, f"error: --state: mappings/state.yaml {IN_MAPPINGS}\n")
    # Hidden, or not YAML, the scan never reads it.
    assert cli("validate", "--state", "mappings/.statusync/state.yaml").code == 0
    assert cli("validate", "--state", "mappings/state.json").code == 0


NOT_REGULAR = "not a regular file (a pipe, socket or device)"


@pytest.mark.parametrize("target", ["/dev/null", "fifo"])
def test_a_mapping_file_linked_to_a_device_or_pipe_is_not_called_missing(
    project: Project, cli: Cli, target: str
) -> None:
    os.mkfifo(project.root / "fifo")
    project.mapping(1)
    (project.root / "mappings" / "eu.yaml").symlink_to(target if target.startswith("/") else "../fifo")
    shown = target if target.startswith("/") else "../fifo"
    for command in ("validate", "plan", "fmt"):
        result = cli(command)
        assert (result.code, result.err) == (
            1,
            (
                f"error: mappings/eu.yaml: a symbolic link to {shown}, which is {NOT_REGULAR}; fix the "
                "link or remove it\nerror: 1 problem found\n"
            ),
        ), command


@pytest.mark.parametrize("target", ["/dev/null", "fifo"])
def test_statusync_yaml_or_the_state_linked_to_a_device_or_pipe_is_refused_not_read(
    project: Project, cli: Cli, target: str
) -> None:
    # Read, /dev/null would be empty settings (all defaults) and a FIFO would never end.
    os.mkfifo(project.root / "fifo")
    project.mapping(1)
    (project.root / "statusync.yaml").symlink_to(target)
    result = cli("plan")
    assert (result.code, result.err) == (
        1,
        (
            f"error: statusync.yaml: cannot read the file: {NOT_REGULAR}; it must be a regular file\n"
            "error: 1 problem found\n"
        ),
    )
    (project.root / "statusync.yaml").unlink()
    project.state_file.parent.mkdir()
    project.state_file.symlink_to(project.root / target)
    result = cli("plan")
    assert (result.code, result.err) == (
        1,
        (
            f"error: {project.state_file}: cannot read the state file: {NOT_REGULAR}; it must be a "
            "regular file\n"
        ),
    )


@pytest.mark.parametrize(
    ("settings", "where"),
    [
        ("rate_limit:\n  safe_per_minute: {huge}\n", "2:20: rate_limit.safe_per_minute"),
        (
            "accounts:\n  default:\n    rate_limit: {{unsafe_per_minute: {huge}}}\n",
            "3:37: accounts.default.rate_limit.unsafe_per_minute",
        ),
    ],
)
def test_a_rate_limit_too_large_to_pace_is_refused_where_it_is_written(
    project: Project, cli: Cli, env: dict[str, str], settings: str, where: str
) -> None:
    # Paced as a float, a limit past 1e308 requests a minute was an internal error (overflow).
    project.mapping(1)
    project.write("statusync.yaml", settings.format(huge="9" * 400))
    env["SENDCLOUD_PUBLIC_KEY"], env["SENDCLOUD_SECRET_KEY"] = "pk", "sk"
    for command in ("validate", "drift"):
        result = cli(command)
        assert result.code == 1 and "internal error" not in result.err
        assert f"error: statusync.yaml:{where}: expected a number at most 1000000000" in result.err
