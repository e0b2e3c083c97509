"""Who the token is, and which comments and issues it wrote."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from statusync.errors import StatusyncError
from statusync.github.identity import Identity, bot_login, token_identity
from statusync.github.rest import GitHub, GitHubError

API = "https://api.github.example"


def github(status: int, body: Any, headers: dict[str, str] | None = None) -> GitHub:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/user"
        return httpx.Response(status, json=body, headers=headers or {})

    return GitHub(API, "acme/maps", "ghs-x", transport=httpx.MockTransport(handler), sleep=lambda s: None)


def test_a_personal_token_is_the_user_it_names() -> None:
    assert token_identity(github(200, {"login": "ops-alice", "type": "User"})) == Identity(
        "ops-alice", "User"
    )


@pytest.mark.parametrize("bot", ["github-actions[bot]", "statusync-app[bot]"])
def test_an_installation_token_is_its_apps_bot(bot: str) -> None:
    refused = github(403, {"message": "Resource not accessible by integration"})
    assert token_identity(refused, bot) == Identity(bot, "Bot")


@pytest.mark.parametrize(
    "status, body, headers",
    [
        (401, {"message": "Bad credentials"}, {}),
        (403, {"message": "You have exceeded a secondary rate limit"}, {"retry-after": "0"}),
        (200, {"message": "not a user"}, {}),
    ],
)
def test_a_token_that_cannot_be_told_is_an_error(status: int, body: Any, headers: dict[str, str]) -> None:
    with pytest.raises(GitHubError):
        token_identity(github(status, body, headers))


@pytest.mark.parametrize(
    "user, wrote",
    [
        ({"login": "github-actions[bot]", "type": "Bot"}, True),
        ({"login": "GitHub-Actions[bot]", "type": "Bot"}, True),  # logins ignore case on GitHub
        ({"login": "github-actions[bot]", "type": "User"}, False),
        ({"login": "mallory", "type": "User"}, False),
        ({"login": "other-app[bot]", "type": "Bot"}, False),
        (None, False),
        ("github-actions[bot]", False),
    ],
)
def test_only_what_the_identity_wrote_is_its_own(user: Any, wrote: bool) -> None:
    assert Identity("github-actions[bot]", "Bot").wrote({"body": "x", "user": user}) is wrote


def test_the_bot_login_defaults_to_the_workflow_token_and_must_be_a_bot() -> None:
    assert bot_login(None) == "github-actions[bot]"
    # Set but empty (a secret that does not exist) is a mistake, not the default.
    for empty in ("", "  "):
        with pytest.raises(StatusyncError, match=r"STATUSYNC_BOT_LOGIN\) is empty"):
            bot_login(empty)
    assert bot_login("statusync-app[bot]") == "statusync-app[bot]"
    for wrong in ("mallory", "app[bot] ", "[bot]", "a/b[bot]"):
        with pytest.raises(StatusyncError, match="is not the login of an App's bot user"):
            bot_login(wrong)
