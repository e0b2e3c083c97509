"""The habits of a command-line user: shell completion (click's own scripts, which call statusync
back for the words), `statusync --version` and `python -m statusync`."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync import __version__
from tests.support.project import Result

Cli = Callable[..., Result]


@pytest.mark.parametrize(
    ("shell", "registers"),
    [
        ("bash", "complete -o nosort -F _statusync_completion statusync"),
        ("zsh", "compdef _statusync_completion statusync"),
        ("fish", "complete --no-files --command statusync"),
    ],
)
def test_completion_prints_the_script_click_generates(cli: Cli, shell: str, registers: str) -> None:
    result = cli("completion", shell)
    assert result.code == 0, result.err
    assert registers in result.out
    assert f"_STATUSYNC_COMPLETE={shell}_complete" in result.out  # how it calls statusync back
    assert result.out.endswith("\n")


def test_the_fish_script_keeps_each_command_on_its_line(cli: Cli) -> None:
    # click 8.4.0 and 8.4.1 broke `string split` across two lines; the dependency excludes them.
    if importlib.metadata.version("click") in ("8.4.0", "8.4.1"):
        pytest.skip("this environment has a click that pyproject.toml excludes; reinstall statusync")
    splits = [line for line in cli("completion", "fish").out.splitlines() if "string split" in line]
    assert splits and all("$completion" in line for line in splits)


def test_the_bash_script_is_valid_bash(cli: Cli, tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("no bash here")
    script = tmp_path / "statusync.bash"
    script.write_text(cli("completion", "bash").out)
    checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_an_unknown_shell_is_a_usage_error(cli: Cli) -> None:
    result = cli("completion", "tcsh")
    assert result.code == 1 and result.out == ""
    assert "tcsh" in result.err and "bash" in result.err and "fish" in result.err


def statusync(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """statusync in a process of its own, as the shell (or the completion script) runs it."""
    return subprocess.run(
        [sys.executable, "-m", "statusync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("statusync ap", 1, ["plain,apply"]),
        ("statusync completion ", 2, ["plain,bash", "plain,zsh", "plain,fish"]),
        ("statusync drift --format m", 3, ["plain,markdown"]),
    ],
)
def test_the_script_gets_the_words_from_statusync(words: str, cword: int, expected: list[str]) -> None:
    answer = statusync(
        env={"_STATUSYNC_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split() == expected


def test_version_and_python_m(tmp_path: Path) -> None:
    # From a directory without a repository: neither needs one.
    shown = statusync("--version", cwd=tmp_path)
    assert (shown.returncode, shown.stdout) == (0, f"statusync, version {__version__}\n")
    helped = statusync("--help", cwd=tmp_path)
    assert helped.returncode == 0 and "Usage: statusync" in helped.stdout
    assert "completion" in helped.stdout
