"""Which of a pull request's changed files are the state or its catalog, as GitHub names them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from statusync.github.rest import GitHub
from statusync.github.state_edits import (
    KeysGoTo,
    StateEdits,
    check_state_edits,
    guarded_files,
    repository_root,
)
from tests.support.fake_github import REPOSITORY, TOKEN, FakeGitHub, FakeGitHubServer

STATE = (".statusync/state.json", ".statusync/statuses.json")


@pytest.fixture
def server() -> Iterator[FakeGitHubServer]:
    served = FakeGitHubServer(FakeGitHub(page_size=100))
    yield served
    served.stop()


def changed(server: FakeGitHubServer, names: list[str]) -> StateEdits:
    pr = server.fake.add_pull_request()
    server.fake.changed_files[pr] = [{"filename": name, "status": "modified"} for name in names]
    with GitHub(server.url, REPOSITORY, TOKEN) as github:
        return check_state_edits(github, pr, STATE)


def test_a_listing_cut_at_githubs_3000_files_is_unchecked_unless_the_state_is_in_it(
    server: FakeGitHubServer,
) -> None:
    many = [f"mappings/shop-{i}.yaml" for i in range(3000)]
    cut = changed(server, many)
    assert cut.edited == () and cut.unchecked is not None and "3,000" in cut.unchecked
    assert changed(server, many[:2999]) == StateEdits()
    assert changed(server, [*many[:2999], STATE[1]]) == StateEdits(edited=(STATE[1],))


def test_the_guarded_files_are_the_state_its_journal_and_catalog_as_given_and_as_resolved(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "example.json").write_text("{}")
    folder = repo / "ops" / ".statusync"
    assert guarded_files(folder / "state.json", repo) == (
        "ops/.statusync/state.json",
        "ops/.statusync/state.json.journal",
        "ops/.statusync/statuses.json",
    )
    # A link swapped in for the state: both its name and the file it leads to are guarded.
    folder.mkdir(parents=True)
    (folder / "state.json").symlink_to("../../docs/example.json")
    assert guarded_files(folder / "state.json", repo) == (
        "ops/.statusync/state.json",
        "docs/example.json",
        "ops/.statusync/state.json.journal",
        "ops/.statusync/statuses.json",
    )
    # Neither a state outside the repository nor a link loop can be told: unchecked.
    assert guarded_files(tmp_path / "elsewhere/state.json", repo) is None
    (folder / "statuses.json").symlink_to("statuses.json")
    assert guarded_files(folder / "state.json", repo) is None
    with GitHub("http://127.0.0.1:9", REPOSITORY, TOKEN) as github:
        assert check_state_edits(github, 1, None).unchecked is not None


def test_the_repository_root_is_the_git_checkout_else_the_runners_workspace(tmp_path: Path) -> None:
    inner = tmp_path / "checkout" / "ops"
    inner.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(tmp_path / "checkout")], check=True)
    # actions/checkout may put the checkout in a folder of the workspace (`path:`).
    env = {"GITHUB_WORKSPACE": str(tmp_path), "PATH": os.environ["PATH"]}
    assert repository_root(env, inner).resolve() == (tmp_path / "checkout").resolve()
    outside = tmp_path / "plain"
    outside.mkdir()
    assert repository_root({**env, "GIT_CEILING_DIRECTORIES": str(tmp_path)}, outside) == tmp_path


@pytest.mark.parametrize(
    ("url", "foreign"),
    [
        ("https://panel.sendcloud.sc/api/v3", False),
        ("https://PANEL.Sendcloud.sc/api/v3/", False),  # the same host, however spelled
        ("https://panel.sendcloud.sc:443/api/v2", False),
        ("HTTPS://panel.sendcloud.sc/api/v3", False),
        ("http://panel.sendcloud.sc/api/v3", True),  # the keys in the clear
        ("https://panel.sendcloud.sc.evil.example/api/v3", True),
        ("https://panel.sendcloud.sc@evil.example/api/v3", True),
        ("https://sendcloud.sc/api/v3", True),
        ("http://127.0.0.1:8765/api/v3", True),  # the sandbox: not Sendcloud's either
    ],
)
def test_a_url_is_sendclouds_only_on_sendclouds_host_over_https(url: str, foreign: bool) -> None:
    assert KeysGoTo("the API", url, "https://panel.sendcloud.sc/api/v3").foreign is foreign
