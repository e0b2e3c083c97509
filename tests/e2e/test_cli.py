"""The contract's offline rules, through the command line: validate, plan, fmt, schema, apply refusals."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from statusync.core.state import Entry, State
from statusync.files.state_file import load_state, save_state
from tests.support.project import Project, Result

Cli = Callable[..., Result]


def test_validate_reports_every_error_of_every_file_in_one_run(project: Project, cli: Cli) -> None:
    project.mapping(1, delivered="012")
    project.write(
        "mappings/eu/b.yml",
        """
        integration_id: 2
        mapping:
          READY_TO_SEND: "1"
          IN_TRANSIT: "2"
          DELIVRED: "3"
          CANCEL: null
        colour: red
    """,
    )
    project.mapping(3)
    project.mapping(3, file="mappings/dup.yaml")
    result = cli("validate")
    assert result.code == 1 and result.out == ""
    assert "mappings/shop-1.yaml:5:14: DELIVERED: 012 is read as a number" in result.err
    assert (
        "mappings/eu/b.yml:5:3: unknown status category 'DELIVRED' (did you mean 'DELIVERED'?)"
    ) in result.err
    assert "mappings/eu/b.yml:7:1: unknown key 'colour'" in result.err
    assert "mappings/shop-3.yaml:1:17: integration_id 3 is also used by mappings/dup.yaml:1" in result.err
    assert "Traceback" not in result.err


def test_validate_ok(project: Project, cli: Cli) -> None:
    project.mapping(1, delivered="12")
    assert cli("validate") == Result(0, "1 mapping file valid.\n", "")


def test_validate_checks_settings_with_location(project: Project, cli: Cli) -> None:
    project.mapping(1)
    project.write("statusync.yaml", "on_removed: rest\napi_url: http://example.com/api\n")
    result = cli("validate")
    assert result.code == 1
    assert "statusync.yaml:1:13: on_removed" in result.err and "did you mean 'reset'" in result.err
    assert "statusync.yaml:2:10:" in result.err and "only https" in result.err


def test_plan_needs_no_credentials_and_no_network(
    project: Project, cli: Cli, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project.mapping(1)
    # Any attempt to open a connection fails the test.
    import socket

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("network used"))
    env["STATUSYNC_API_URL"] = "http://insecure.example.com"
    result = cli("plan", "--detailed-exitcode")
    assert result.code == 2 and "+ create 1  mappings/shop-1.yaml" in result.out


def test_plan_exit_codes(project: Project, cli: Cli) -> None:
    assert cli("plan", "--detailed-exitcode").code == 0  # nothing at all
    project.mapping(1)
    assert cli("plan").code == 0
    assert cli("plan", "--detailed-exitcode").code == 2


def test_plan_json_matches_the_contract(project: Project, cli: Cli) -> None:
    project.mapping(5, rts="7")
    data = json.loads(cli("plan", "--format", "json").out)
    # No state file yet: the plan warns that every file is a create (test_hardening_writes).
    assert "does not exist" in data.pop("warnings")[0]
    assert data == {
        "format_version": 1,
        "only": None,
        "changes": [
            {
                "integration_id": 5,
                "action": "create",
                "file": "mappings/shop-5.yaml",
                "before": None,
                "after": {"READY_TO_SEND": "7", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None},
                "status_names": {},  # always there; no statuses read yet
            }
        ],
        "summary": {"create": 1, "update": 0, "forget": 0, "reset": 0, "uncertain": 0, "unchanged": 0},
        "uncertain": [],
    }


@pytest.mark.parametrize("shared", [False, True], ids=["alone", "beside-a-valid-twin"])
def test_a_file_is_read_again_when_what_the_state_recorded_of_it_breaks_todays_rules(
    project: Project, cli: Cli, shared: bool
) -> None:
    # Unchanged files are taken from the state, unparsed; not when the state records for them
    # what today's rules refuse (a blank external id, from a hand edit or an older statusync).
    # Then the file's own mapping is planned, whatever other entries recorded validly.
    files = {i: project.mapping(i) for i in (1, 2)}
    valid = {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": "3", "CANCEL": None}
    recorded = {1: {**valid, "DELIVERED": " "}, 2: valid if shared else {**valid, "DELIVERED": " "}}
    save_state(
        project.state_file,
        State(
            entries={
                i: Entry(
                    f"mappings/shop-{i}.yaml",
                    hashlib.sha256(path.read_bytes()).hexdigest(),
                    "default",
                    None,
                    recorded[i],
                    "2026-01-01T00:00:00Z",
                )
                for i, path in files.items()
            }
        ),
    )
    data = json.loads(cli("plan", "--format", "json").out)
    updated = [
        (c["integration_id"], c["before"]["DELIVERED"], c["after"]["DELIVERED"]) for c in data["changes"]
    ]
    assert updated == ([(1, " ", "3")] if shared else [(1, " ", "3"), (2, " ", "3")])
    assert data["summary"]["unchanged"] == (1 if shared else 0)


def test_plan_markdown(project: Project, cli: Cli) -> None:
    project.mapping(5)
    out = cli("plan", "--format", "markdown").out
    assert out.startswith("### statusync plan") and "| create | 5 | `mappings/shop-5.yaml` |" in out


def test_no_colour_off_a_terminal(project: Project, cli: Cli) -> None:
    project.mapping(5)
    assert "\x1b[" not in cli("plan").out


def test_options_after_the_command_override_settings(project: Project, cli: Cli) -> None:
    project.write(
        "elsewhere/x.yaml",
        'integration_id: 9\nmapping: {READY_TO_SEND: "1", IN_TRANSIT: null, DELIVERED: null, CANCEL: null}\n',
    )
    result = cli("plan", "--mappings", "elsewhere", "--state", "s/state.json", "--format", "json")
    assert json.loads(result.out)["changes"][0]["file"] == "elsewhere/x.yaml"


def test_settings_choose_the_mappings_directory(project: Project, cli: Cli) -> None:
    project.write("statusync.yaml", "mappings: desired\n")
    project.write(
        "desired/x.yaml",
        'integration_id: 9\nmapping: {READY_TO_SEND: "1", IN_TRANSIT: null, DELIVERED: null, CANCEL: null}\n',
    )
    assert "+ create 9  desired/x.yaml" in cli("plan").out


def test_missing_mappings_directory_is_a_clear_error(project: Project, cli: Cli) -> None:
    result = cli("plan", "--mappings", "nowhere")
    assert result.code == 1 and "nowhere does not exist" in result.err


@pytest.mark.parametrize("settings", [True, False])
def test_run_from_a_subdirectory_the_error_says_where_to_run_it(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch, settings: bool
) -> None:
    # `cd mappings/eu && statusync plan`: the fix is the repository's directory, not creating
    # mappings/eu/mappings (which would then plan nothing at all).
    project.mapping(1, file="mappings/eu/a.yaml")
    if settings:
        project.write("statusync.yaml", "on_removed: forget\n")
    monkeypatch.chdir(project.root / "mappings" / "eu")
    result = cli("plan")
    assert result.code == 1 and result.out == ""
    assert result.err == (
        f"error: mappings directory {project.root}/mappings/eu/mappings does not exist; "
        f"statusync works on the current directory: cd {project.root} (which holds "
        f"{'statusync.yaml' if settings else 'mappings'}) and run it there\n"
    )
    assert not (project.root / "mappings" / "eu" / "mappings").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["bogus"],
        ["plan", "--nope"],
        ["plan", "--format", "yaml"],
        ["apply", "--parallelism", "many"],
        ["apply", "--parallelism", "0"],
        ["drift", "--lock-timeout", "1"],
    ],
)
def test_usage_errors_exit_1_not_2(project: Project, cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == 1 and "Error" in result.err


def test_parallelism_auto_is_the_default_by_name(project: Project, cli: Cli) -> None:
    project.mapping(1)
    assert cli("validate", "--parallelism", "auto").code == 0
    assert "N|auto" in cli("apply", "--help").out


def test_corrupt_state_is_an_error(project: Project, cli: Cli) -> None:
    project.mapping(1)
    project.write(".statusync/state.json", "{oops")
    result = cli("plan")
    assert result.code == 1 and "corrupt" in result.err and result.out == ""


def test_saved_plan_and_stale_plan(project: Project, cli: Cli) -> None:
    project.mapping(1)
    assert cli("plan", "--out", "plan.json").code == 0
    saved = json.loads(Path("plan.json").read_text())
    assert saved["fingerprints"]["files"].keys() == {"mappings/shop-1.yaml"}
    project.mapping(1, rts='"8"')
    result = cli("apply", "plan.json", "--yes")
    assert result.code == 1 and "stale" in result.err and "mappings/shop-1.yaml changed" in result.err


def test_apply_refuses_without_yes_when_stdin_is_not_a_terminal(
    project: Project, cli: Cli, env: dict[str, str]
) -> None:
    env["SENDCLOUD_PUBLIC_KEY"] = "pk"
    env["SENDCLOUD_SECRET_KEY"] = "sk"
    project.mapping(1)
    result = cli("apply")
    assert result.code == 1 and "--yes" in result.err
    assert not project.state_file.exists()


def test_apply_names_missing_credentials_before_any_request(project: Project, cli: Cli) -> None:
    project.mapping(1)
    result = cli("apply", "--yes")
    assert result.code == 1
    assert "set SENDCLOUD_PUBLIC_KEY (the Sendcloud API public key) and SENDCLOUD_SECRET_KEY" in result.err
    assert not project.state_file.exists()


def test_commands_read_the_environment_they_are_given_not_the_processs(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """main() takes the environment once; a command given another never looks at os.environ:
    not for credentials, the API's URL, the GitHub runner's variables or the token."""
    for name, value in {
        "SENDCLOUD_PUBLIC_KEY": "pk",
        "SENDCLOUD_SECRET_KEY": "sk",
        "STATUSYNC_API_URL": "",
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": "ghs-process",
        "GITHUB_REPOSITORY": "acme/mappings",
    }.items():
        monkeypatch.setenv(name, value)
    project.mapping(1)
    applied = cli("apply", "--yes")
    assert applied.code == 1
    assert "set SENDCLOUD_PUBLIC_KEY (the Sendcloud API public key) and SENDCLOUD_SECRET_KEY" in applied.err
    project.mapping(2, delivered="012")
    validated = cli("validate")
    assert validated.code == 1 and "mappings/shop-2.yaml" in validated.err
    assert "::error" not in validated.err  # not on GitHub Actions
    body = tmp_path / "plan.md"
    body.write_text("plan")
    commented = cli("github", "plan-comment", "--pr", "1", "--body", str(body))
    assert commented.code == 1 and "GITHUB_TOKEN is not set" in commented.err


def test_apply_with_nothing_to_do_needs_no_credentials(project: Project, cli: Cli) -> None:
    assert cli("apply", "--yes").code == 0


def test_apply_refuses_plain_http_to_a_remote_host(project: Project, cli: Cli, env: dict[str, str]) -> None:
    project.mapping(1)
    env["SENDCLOUD_PUBLIC_KEY"] = "pk"
    env["SENDCLOUD_SECRET_KEY"] = "sk-very-secret"
    env["STATUSYNC_API_URL"] = "http://api.example.com/v3"
    result = cli("apply", "--yes")
    assert result.code == 1 and "only https" in result.err and "sk-very-secret" not in result.err


def test_forget_only_plan_needs_no_credentials(project: Project, cli: Cli) -> None:
    project.write(
        ".statusync/state.json",
        json.dumps(
            {
                "version": 1,
                "serial": 4,
                "lineage": "L",
                "integrations": {
                    "7": {
                        "file": "mappings/gone.yaml",
                        "sha256": "x",
                        "account": "default",
                        "name": None,
                        "mapping": {
                            "READY_TO_SEND": "1",
                            "IN_TRANSIT": None,
                            "DELIVERED": None,
                            "CANCEL": None,
                        },
                        "applied_at": "2026-01-01T00:00:00Z",
                    }
                },
            }
        ),
    )
    assert "- forget 7" in cli("plan").out
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "0 failed" in result.out
    assert load_state(project.state_file).entries == {}
    assert load_state(project.state_file).serial == 5


def test_safety_threshold_refuses_before_any_request(project: Project, cli: Cli) -> None:
    entries = {
        str(i): {
            "file": f"mappings/{i}.yaml",
            "sha256": "x",
            "account": "default",
            "name": None,
            "mapping": {"READY_TO_SEND": "1", "IN_TRANSIT": None, "DELIVERED": None, "CANCEL": None},
            "applied_at": "2026-01-01T00:00:00Z",
        }
        for i in range(1, 11)
    }
    project.write(
        ".statusync/state.json",
        json.dumps({"version": 1, "serial": 1, "lineage": "L", "integrations": entries}),
    )
    project.mapping(1)  # the other nine files are gone: nine forgets of ten managed
    plan = cli("plan")
    assert "Warning: the plan updates, resets or forgets 10 of 10" in plan.out
    result = cli("apply", "--yes")
    assert result.code == 1 and "refusing to apply" in result.err and "--force" in result.err
    assert load_state(project.state_file).serial == 1
    assert cli("apply", "--yes", "--force").code == 1  # now it goes on, and fails for lack of keys
    # Forgets went through before the credential check? No: credentials come first.
    assert load_state(project.state_file).serial == 1


def test_fmt_check_lists_files_and_changes_nothing(project: Project, cli: Cli) -> None:
    path = project.write(
        "mappings/a.yaml",
        """
        # shop A
        mapping:
          CANCEL: null   # not used
          DELIVERED: 3
          IN_TRANSIT: '2'
          READY_TO_SEND: "1"
        integration_id: 4
    """,
    )
    before = path.read_text()
    result = cli("fmt", "--check")
    assert result.code == 2 and "mappings/a.yaml" in result.out
    assert path.read_text() == before
    assert cli("fmt").code == 0
    assert path.read_text() == (
        '# shop A\nintegration_id: 4\nmapping:\n  READY_TO_SEND: "1"\n'
        '  IN_TRANSIT: "2"\n  DELIVERED: "3"\n  CANCEL: null   # not used\n'
    )
    assert cli("fmt", "--check") == Result(0, "", "")


def test_fmt_refuses_invalid_files(project: Project, cli: Cli) -> None:
    path = project.mapping(1, delivered="1.5")
    before = path.read_text()
    result = cli("fmt")
    assert result.code == 1 and "mappings/shop-1.yaml:5" in result.err
    assert path.read_text() == before


def test_schema_validates_the_example_files(project: Project, cli: Cli) -> None:
    result = cli("schema")
    schema = json.loads(result.out)
    import ruamel.yaml

    yaml = ruamel.yaml.YAML(typ="safe")
    for path in (Path(__file__).parents[2] / "mappings").rglob("*.yaml"):
        jsonschema.validate(yaml.load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"integration_id": 1, "mapping": {"READY_TO_SEND": "1"}}, schema)


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == 0 and "statusync" in result.out


def test_unexpected_errors_give_a_short_message_and_a_log(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statusync.commands import validate

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(validate, "run", boom)
    result = cli("validate")
    assert result.code == 1 and "Traceback" not in result.err
    log = result.err.rsplit(" ", 1)[-1].strip()
    assert "internal error (RuntimeError)" in result.err
    assert "kaboom" in Path(log).read_text()
    Path(log).unlink()


def test_colour_on_a_terminal_unless_no_color(
    project: Project, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    from statusync.console import Console

    def color_enabled() -> bool:
        return Console.of_process(env).color

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert color_enabled()
    env["NO_COLOR"] = "1"
    assert not color_enabled()
    env["NO_COLOR"] = ""  # no-color.org: an empty value does not count
    assert color_enabled()


def test_settings_choose_the_state_file(project: Project, cli: Cli) -> None:
    project.write("statusync.yaml", "state: ops/applied.json\n")
    project.write(
        "ops/applied.json",
        json.dumps(
            {
                "version": 1,
                "serial": 1,
                "lineage": "L",
                "integrations": {
                    "7": {
                        "file": "mappings/gone.yaml",
                        "sha256": "x",
                        "account": "default",
                        "name": None,
                        "mapping": {
                            "READY_TO_SEND": "1",
                            "IN_TRANSIT": None,
                            "DELIVERED": None,
                            "CANCEL": None,
                        },
                        "applied_at": "2026-01-01T00:00:00Z",
                    }
                },
            }
        ),
    )
    assert "- forget 7" in cli("plan").out
    assert "No changes" in cli("plan", "--state", "elsewhere.json").out


def test_plan_markdown_shows_the_safety_breach_too(project: Project, cli: Cli) -> None:
    entries = {
        str(i): {
            "file": f"mappings/{i}.yaml",
            "sha256": "x",
            "account": "default",
            "name": None,
            "mapping": {"READY_TO_SEND": "1", "IN_TRANSIT": None, "DELIVERED": None, "CANCEL": None},
            "applied_at": "2026-01-01T00:00:00Z",
        }
        for i in range(1, 11)
    }
    project.write(
        ".statusync/state.json",
        json.dumps({"version": 1, "serial": 1, "lineage": "L", "integrations": entries}),
    )
    markdown = cli("plan", "--format", "markdown").out
    assert "[!WARNING]" in markdown
    # Once merged, apply on main stops at the threshold: the pull request says how to go on.
    assert (
        "> Once merged, apply on main stops at this threshold. To apply it all the same, run "
        "the **statusync apply** workflow by hand with **force** ticked (Actions → statusync "
        "apply → Run workflow, on the default branch), or run `statusync apply --force` from "
        "a clone with the Sendcloud keys."
    ) in markdown
    assert "Run workflow" not in cli("plan").out  # a terminal's plan has its own way: --force
