"""What the GitHub Actions runner tells a step through its environment.

Every function takes the environment as a mapping, so that tests hand in a dict instead of
changing the process's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path


def on_actions(env: Mapping[str, str]) -> bool:
    """Whether this process runs as a step of a GitHub Actions job (the runner sets it so)."""
    return env.get("GITHUB_ACTIONS") == "true"


def step_summary(env: Mapping[str, str]) -> Path | None:
    """The file that holds this step's part of the job summary, if there is one."""
    path = env.get("GITHUB_STEP_SUMMARY")
    return Path(path) if on_actions(env) and path else None


def run_url(env: Mapping[str, str]) -> str | None:
    """The page of the workflow run this step belongs to, for links in comments and issues."""
    parts = [env.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repository, run_id = parts
    return f"{server}/{repository}/actions/runs/{run_id}"


def workspace_path(file: str, env: Mapping[str, str], cwd: Path) -> str:
    """`file` (relative to `cwd`) relative to the checked-out repository, which is what an
    annotation's `file=` must be for GitHub to show it on the pull request's changed lines;
    `file` unchanged when it lies outside the repository or no workspace is known."""
    workspace = env.get("GITHUB_WORKSPACE")
    if not workspace:
        return file
    try:
        relative = (cwd / file).resolve().relative_to(Path(workspace).resolve())
    except (ValueError, OSError):
        return file
    return relative.as_posix()


def event_pull_request(env: Mapping[str, str]) -> int | None:
    """The number of the pull request that triggered the run, read from the event payload
    ($GITHUB_EVENT_PATH); None for any other event or when there is no payload to read."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pull_request = event.get("pull_request") if isinstance(event, dict) else None
    number = pull_request.get("number") if isinstance(pull_request, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None
