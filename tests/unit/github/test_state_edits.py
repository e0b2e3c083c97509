"""Which of a pull request's changed files are the state or its catalog, as GitHub names them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from statusync.github.rest import GitHub
from statusync.github.state_edits import StateEdits, check_state_edits, guarded_files, repository_root
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


def test_the_guarded_files_are_relative_to_the_repository_and_only_inside_it(tmp_path: Path) -> None:
    folder = tmp_path / "repo" / "ops"
    assert guarded_files(folder / ".statusync/state.json", tmp_path / "repo") == (
        "ops/.statusync/state.json",
        "ops/.statusync/statuses.json",
    )
    assert guarded_files(tmp_path / "elsewhere/state.json", tmp_path / "repo") == ()


def test_the_repository_root_is_the_runners_workspace_else_the_git_checkout(tmp_path: Path) -> None:
    inner = tmp_path / "checkout" / "ops"
    inner.mkdir(parents=True)
    (tmp_path / "checkout" / ".git").mkdir()
    assert repository_root({"GITHUB_WORKSPACE": str(tmp_path)}, inner) == tmp_path
    assert repository_root({}, inner) == tmp_path / "checkout"
