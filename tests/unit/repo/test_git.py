"""What statusync shows of git's output: never the credentials of a remote URL, never git's hints."""

from __future__ import annotations

import pytest

from statusync.repo.git import explain, redact


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "fatal: unable to access 'https://x-access-token:ghs_S3CRET@github.com/o/r.git/'",
            "fatal: unable to access 'https://***@github.com/o/r.git/'",
        ),
        ("To https://oauth2:glpat-S3CRET@gitlab.com/o/r.git", "To https://***@gitlab.com/o/r.git"),
        ("ssh://git@host:22/r.git and http://u:p@h/x", "ssh://***@host:22/r.git and http://***@h/x"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),  # scp-like: a user, no secret
        ("nothing to hide here", "nothing to hide here"),
    ],
)
def test_credentials_in_urls_are_cut_out(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_explain_keeps_git_s_words_without_its_hints() -> None:
    stderr = (
        "error: Your local changes would be overwritten by merge:\n\tmappings/a.yaml\n"
        "hint: Please commit your changes or stash them.\nAborting\n"
    )
    assert explain(stderr) == (
        "error: Your local changes would be overwritten by merge:\n  mappings/a.yaml\n  Aborting"
    )
    assert explain("\n".join(f"line {i}" for i in range(20)), limit=2) == "line 0\n  line 1\n  ..."
