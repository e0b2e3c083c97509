"""Who the token in use is: the plan comment and the drift issue are statusync's own only when
that identity wrote them.

Anyone who may comment on a pull request can post a comment that starts with the plan marker, or
open an issue with the drift label. Trusting such a comment would let them decide what reviewers
see as the plan ("already shows this plan" for a look-alike, or an edit of their comment that
they edit again later), so only what the token's own identity wrote is statusync's.

Finding that identity:
- A personal access token (classic or fine-grained) answers `GET /user` with its user: that
  login, of type `User`.
- A workflow's GITHUB_TOKEN or a GitHub App installation token cannot: `GET /user` answers 403
  "Resource not accessible by integration", and `GET /app` needs the app's own JWT. Such a token
  writes as its app's bot user, `<app-slug>[bot]` of type `Bot`: `github-actions[bot]` for a
  workflow's GITHUB_TOKEN (the default), or the login named by `--bot-login` (environment
  STATUSYNC_BOT_LOGIN) for a token made with an App of your own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statusync.errors import StatusyncError
from statusync.github.rest import GitHub, GitHubError
from statusync.text import printable

ACTIONS_BOT = "github-actions[bot]"
BOT_LOGIN_ENV = "STATUSYNC_BOT_LOGIN"
# An App's bot user is its slug (letters, digits, hyphens) and `[bot]`: nothing a person's login
# can be, since a person's login has no brackets.
_BOT_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*\[bot\]")


@dataclass(frozen=True)
class Identity:
    """A GitHub user as comments and issues name their author (`user.login`, `user.type`)."""

    login: str
    type: str

    def wrote(self, item: Mapping[str, Any]) -> bool:
        """Whether `item` (a comment or an issue as the API lists it) was written by this user.
        Logins compare without regard to case, as GitHub treats them."""
        user = item.get("user")
        if not isinstance(user, dict):
            return False
        login, kind = user.get("login"), user.get("type")
        return isinstance(login, str) and login.casefold() == self.login.casefold() and kind == self.type

    def check_wrote(self, created: Mapping[str, Any], what: str) -> None:
        """Raise when `created`, just written with the token, names another author than this
        identity: statusync would not know it as its own next time and post another each run."""
        user = created.get("user")
        if isinstance(user, dict) and not self.wrote(created):
            login = printable(str(user.get("login")))
            raise StatusyncError(
                f"GitHub wrote the {what} as {login}, not as {self.login}, whom statusync looks for: "
                f"it would not find it again and post another on every run. Give --bot-login {login} "
                f"(or set {BOT_LOGIN_ENV}) for a token made with an App of your own"
            )

    def __str__(self) -> str:
        return self.login


def bot_login(value: str | None) -> str:
    """The bot login given by option or environment, checked; `github-actions[bot]` when none."""
    if value is None:
        return ACTIONS_BOT
    if not value.strip():
        raise StatusyncError(
            f"--bot-login ({BOT_LOGIN_ENV}) is empty: give the App's bot login, e.g. "
            "my-statusync-app[bot], or leave it out for the workflow's GITHUB_TOKEN"
        )
    if not _BOT_LOGIN.fullmatch(value):
        raise StatusyncError(
            f"--bot-login {value!r} is not the login of an App's bot user: it "
            "is the App's slug followed by [bot], e.g. my-statusync-app[bot]"
        )
    return value


def token_identity(github: GitHub, bot: str = ACTIONS_BOT) -> Identity:
    """Who the token of `github` writes as (see the module's docstring)."""
    try:
        user = github.get("/user")
    except GitHubError as exc:
        if exc.status == 403 and not exc.rate_limited:
            return Identity(bot, "Bot")  # an installation token: it writes as its app's bot
        raise
    login = user.get("login") if isinstance(user, dict) else None
    kind = user.get("type") if isinstance(user, dict) else None
    if not isinstance(login, str) or not login or not isinstance(kind, str):
        raise GitHubError("GitHub API: GET /user did not answer a user with a login", status=None)
    return Identity(login, kind)


def authors(items: list[dict[str, Any]]) -> list[str]:
    """The logins of `items`, for saying whose look-alikes were ignored."""
    return sorted(
        {
            str(item.get("user", {}).get("login", "?")) if isinstance(item.get("user"), dict) else "?"
            for item in items
        }
    )
