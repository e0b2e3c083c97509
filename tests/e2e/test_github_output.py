"""GitHub-native output of the commands themselves under GITHUB_ACTIONS=true: validation
problems as annotations, plan and drift in the job summary; and the action's step runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync import action
from statusync.sandbox import SandboxServer
from tests.support.project import Project, Result

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]


@pytest.fixture
def summary(project: Project, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run as a step of a GitHub Actions job; the path of the step's summary file."""
    path = tmp_path_factory.mktemp("runner") / "step_summary.md"
    env["GITHUB_ACTIONS"] = "true"
    env["GITHUB_STEP_SUMMARY"] = str(path)
    return path


def invalid_files(project: Project) -> None:
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
    """,
    )


@pytest.mark.parametrize("command", ["validate", "plan", "fmt"])
def test_validation_problems_are_annotations_too(
    project: Project, cli: Cli, summary: Path, command: str
) -> None:
    invalid_files(project)
    result = cli(command)
    assert result.code == 1
    annotations = [line for line in result.err.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=mappings/eu/b.yml,line=5,col=3::unknown status category 'DELIVRED' "
        "(did you mean 'DELIVERED'?)",
        "::error file=mappings/shop-1.yaml,line=5,col=14::"
        + next(
            line for line in result.err.splitlines() if line.startswith("error: mappings/shop-1.yaml:5:14: ")
        )
        .split(": ", 2)[2]
        .replace("%", "%25"),
    ]
    # The plain lines are still there, and stdout stays clean for the report.
    assert "mappings/eu/b.yml:5:3: unknown status category" in result.err
    assert result.out == "" and not summary.exists()


def test_annotations_name_files_from_the_repository_root(
    project: Project, cli: Cli, summary: Path, env: dict[str, str]
) -> None:
    invalid_files(project)
    env["GITHUB_WORKSPACE"] = str(project.root.parent)
    result = cli("validate")
    assert f"::error file={project.root.name}/mappings/eu/b.yml,line=5,col=3::" in result.err


def test_no_annotations_outside_github_actions(project: Project, cli: Cli) -> None:
    invalid_files(project)
    result = cli("validate")
    assert result.code == 1 and "::error" not in result.err


def test_plan_appends_its_markdown_to_the_job_summary_whatever_it_prints(
    project: Project, cli: Cli, summary: Path
) -> None:
    project.mapping(1)
    result = cli("plan", "--format", "json")
    assert result.code == 0 and json.loads(result.out)["summary"]["create"] == 1
    first = summary.read_text()
    assert first.startswith("### statusync plan\n") and "| create | 1 |" in first
    markdown = cli("plan", "--format", "markdown").out
    assert summary.read_text() == first + markdown + "\n"  # appended, never overwritten


def test_no_summary_outside_github_actions(
    project: Project, cli: Cli, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("runner") / "summary.md"
    env["GITHUB_STEP_SUMMARY"] = str(path)
    project.mapping(1)
    assert cli("plan").code == 0 and not path.exists()


def test_a_summary_that_cannot_be_written_is_a_warning(
    project: Project, cli: Cli, env: dict[str, str]
) -> None:
    env["GITHUB_ACTIONS"] = "true"
    env["GITHUB_STEP_SUMMARY"] = str(project.root / "no" / "such" / "dir")
    project.mapping(1)
    result = cli("plan", "--detailed-exitcode")
    assert result.code == 2 and "create" in result.out
    assert "warning: could not append to the job summary" in result.err


def test_drift_appends_its_markdown_to_the_job_summary(
    project: Project, cli: Cli, sandbox: Start, summary: Path
) -> None:
    project.mapping(1)
    project.mapping(2)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    server.store.edit_mapping(2, {"DELIVERED": "1"})
    result = cli("drift")
    assert result.code == 2 and result.out.startswith("1 of 2 integrations differs")
    text = summary.read_text()
    assert text.startswith("## statusync drift: ") and "shop-2.yaml" in text
    assert "shop-1.yaml" not in text


def test_the_action_step_keeps_stdout_and_reports_outputs(
    project: Project,
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    runner = tmp_path_factory.mktemp("runner")
    outputs = runner / "outputs"
    env["GITHUB_OUTPUT"] = str(outputs)
    env["GITHUB_TOKEN"] = "ghs-secret"
    project.mapping(1)
    code = action.run(["plan", "--detailed-exitcode"], action.parse_allowed("0"), env, runner)
    assert code == 2  # not allowed: the step fails with the command's own code
    assert "GITHUB_TOKEN" not in env  # only `statusync github ...` gets the token
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    shown = capsys.readouterr()
    assert values["exit-code"] == "2"
    assert Path(values["output-file"]).read_text() == shown.out and "create" in shown.out
    assert shown.err == "$ statusync plan --detailed-exitcode\n"
