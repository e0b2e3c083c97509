"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit itself on a sample mappings
repository whose `.pre-commit-config.yaml` names them, as a user's would.

pre-commit builds the hooks' environment by pip-installing this project from a git repository:
that needs PyPI (marked `network`) and takes some 10 s, once: both runs share one pre-commit
home, as a user's commits do (`try-repo` would build it anew for every run). The hook repository
is a fresh commit of this project's files, not this checkout itself, so that hooks added and
not yet committed are part of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}

CANONICAL = """\
integration_id: 1
name: Shop one
mapping:
  READY_TO_SEND: "1"
  IN_TRANSIT: "2"
  DELIVERED: "3"
  CANCEL: null
"""
UNTIDY = """\
mapping:   # categories out of order, ids unquoted
    CANCEL: null
    DELIVERED: 3
    READY_TO_SEND: 1
    IN_TRANSIT: '2'
integration_id: 2
"""
TIDIED = """\
integration_id: 2
mapping:   # categories out of order, ids unquoted
  READY_TO_SEND: "1"
  IN_TRANSIT: "2"
  DELIVERED: "3"
  CANCEL: null
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **IDENTITY})


def hook_repository(path: Path) -> tuple[Path, str]:
    """This project's installable files and hooks, committed in a repository of their own; and
    that commit."""
    path.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, path / name)
    shutil.copytree(
        ROOT / "statusync", path / "statusync", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    git(path, "init", "--quiet")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "hooks")
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()
    return path, rev


def pre_commit(sample: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **IDENTITY,
        "PRE_COMMIT_HOME": str(sample.parent / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *args, "--all-files"],
        cwd=sample,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.network
def test_both_hooks_on_a_sample_mappings_repository(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit", reason="pre-commit comes with the test extra")
    hooks, rev = hook_repository(tmp_path / "statusync")
    sample = tmp_path / "mappings-repo"
    (sample / "mappings" / "eu").mkdir(parents=True)
    (sample / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n"
        "      - id: statusync-validate\n      - id: statusync-fmt\n"
    )
    (sample / "mappings" / "one.yaml").write_text(CANONICAL)
    (sample / "mappings" / "eu" / "two.yml").write_text(UNTIDY)
    (sample / "README.md").write_text("not a mapping: the hooks leave it alone\n")
    git(sample, "init", "--quiet")
    git(sample, "add", "--all")

    # fmt rewrites the untidy file (a formatter that changed files fails the commit, as
    # pre-commit's formatters do); validate passes, both files being valid.
    first = pre_commit(sample)
    output = first.stdout + first.stderr
    assert first.returncode == 1, output
    assert "statusync fmt" in output and "files were modified by this hook" in output
    assert "statusync validate" in output and "Passed" in output
    assert (sample / "mappings" / "eu" / "two.yml").read_text() == TIDIED
    assert (sample / "mappings" / "one.yaml").read_text() == CANONICAL

    # A mistake in a file: validate fails the commit, naming the file, line and column.
    git(sample, "add", "--all")
    (sample / "mappings" / "one.yaml").write_text(CANONICAL.replace("DELIVERED", "DELIVRED"))
    second = pre_commit(sample, "statusync-validate")
    output = second.stdout + second.stderr
    assert second.returncode == 1, output
    assert "mappings/one.yaml:6:3: unknown status category 'DELIVRED'" in output
