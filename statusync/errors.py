"""The one family of expected failures, and the exit codes: anything else that escapes is a bug.

    Exception
     └── StatusyncError          expected: its message is shown as is, the command exits ERROR
          ├── InvalidInput       problems in the user's files (Problem values), reported together
          ├── StopRun            every further request of the run would fail alike: stop at once
          │    ├── CredentialsRejected     (also an ApiError) HTTP 401
          │    ├── TokenRequestFailed      (also an ApiError) no OAuth2 token to be had
          │    ├── HostUnreachable         (also an ApiError) the API's host takes no connection
          │    └── JournalUnwritable       the run's journal cannot be written (a full disk)
          ├── NotFound           the API has no such integration
          │    └── IntegrationNotFound     (also an ApiError) HTTP 404
          ├── ApiError           a request the Sendcloud API refused, or that got no answer
          │    └── AccountRefused          a 401 or token failure that stopped its account only
          └── NotSent            the run is stopping (Ctrl-C, SIGTERM): a request was not sent
               └── AccountSkipped          not sent: its account was stopped

`Problem` is not an exception: it is one located problem that InvalidInput carries.

This module imports nothing but the standard library and statusync.text, the leaf below it (the
sendcloud client raises the ApiError family, but importing this module must not import httpx:
`plan` needs these errors without it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from statusync.text import cut, plural, printable

# The process exit codes, in one place. CHANGES (pending changes from `plan --detailed-exitcode`,
# drift from `drift`/`reconcile`, files `fmt --check` would rewrite) is apart from ERROR so that CI
# can tell "differs" from "failed"; a usage error is ERROR too, never click's default 2.
OK, ERROR, CHANGES = 0, 1, 2


class StatusyncError(Exception):
    """An expected failure: its message is shown to the user as is and the command exits 1."""


class StopRun(StatusyncError):
    """An error every further request of the run would meet too (the API rejected the
    credentials): the run stops at once instead of repeating it for each integration."""


class JournalUnwritable(StopRun):
    """The run's journal cannot be written (a full disk, a file system gone read-only): a write
    whose intent cannot be recorded first is not sent, and neither is any after it."""


class NotFound(StatusyncError):
    """The API has no such integration (HTTP 404)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file, located as precisely as we can."""

    file: str
    line: int | None
    col: int | None
    message: str

    def __str__(self) -> str:
        # One line, whatever the file's name or the value quoted in the message holds.
        file, message = printable(self.file), printable(self.message)
        if self.line is None:
            return f"{file}: {message}"
        return f"{file}:{self.line}:{self.col or 1}: {message}"


class InvalidInput(StatusyncError):
    """One or more problems in the user's files, all reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.col or 0))
        count = len(self.problems)
        super().__init__("\n".join(str(p) for p in self.problems) + f"\n{plural(count, 'problem')} found")


class ApiError(StatusyncError):
    """A request the Sendcloud API did not accept, or that never got an answer.

    `status` is the HTTP status (None when no response came), `detail` the API's own explanation
    (or what happened on the wire), without the request label the message starts with.
    `maybe_applied`: an attempt may have reached the API all the same (it timed out waiting for
    the answer, the connection dropped, a 5xx), so a write's outcome is unknown, not failed,
    whatever the last attempt met (a 404, a 401, a 422): only a write that never reached the API,
    or that every attempt of was refused outright, is known not to be live.
    """

    def __init__(self, message: str, *, status: int | None, detail: str, maybe_applied: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.maybe_applied = maybe_applied


class CredentialsRejected(ApiError, StopRun):
    """HTTP 401: every request with these keys will fail alike."""


class TokenRequestFailed(ApiError, StopRun):
    """The OAuth2 token endpoint refused the client credentials or gave no usable token: no
    request of the account can be authenticated."""


class HostUnreachable(ApiError, StopRun):
    """The API's host has taken no connection for a while (refused, unknown name, no route):
    every further request of the account would only wait out its retries, so none is sent.
    `maybe_applied`: an earlier attempt of the request that met this may have arrived."""

    def __init__(self, message: str, *, maybe_applied: bool = False) -> None:
        super().__init__(message, status=None, detail=message, maybe_applied=maybe_applied)


class IntegrationNotFound(ApiError, NotFound):
    """HTTP 404 for a request about one integration."""


class NotSent(StatusyncError):
    """The run is stopping (Ctrl-C, SIGTERM): a request was not sent, or not sent again.

    `maybe_applied`: an earlier attempt of the same request may have reached the API (see
    ApiError), so the write's outcome is unknown rather than "not done".
    """

    def __init__(
        self, message: str = "not sent: the run is stopping", *, maybe_applied: bool = False
    ) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied


class AccountRefused(ApiError):
    """A refusal that concerns one account (CredentialsRejected, TokenRequestFailed), met by one
    of its requests: that account is stopped, and the run goes on with the others. Not a
    StopRun: nothing about another account's keys follows from it."""

    def __init__(self, account: str, cause: ApiError) -> None:
        super().__init__(
            str(cause), status=cause.status, detail=cause.detail, maybe_applied=cause.maybe_applied
        )
        self.account = account


class AccountSkipped(NotSent):
    """A request not sent because its account was stopped earlier in the run: the API was never
    asked, so nothing of it can be live."""

    def __init__(self, account: str, integration_id: int | None) -> None:
        what = "" if integration_id is None else f"integration {integration_id}: "
        super().__init__(f"{what}not sent: account {printable(account)!r} was stopped")
        self.account = account


_Uncertain = TypeVar("_Uncertain", bound=ApiError | NotSent)


# A key of a JSON file edited by hand may be any length (an id of 5,000 digits): an error names
# where it is, not all of it.
_LONGEST_KEY_SHOWN = 40


def where_in(location: tuple[int | str, ...]) -> str:
    """A validation error's location as users read it ("integrations.7.mapping.CANCEL"), each
    part made printable and shortened; "top level" for the document itself."""
    parts = (printable(str(part)) for part in location)
    return ".".join(cut(part, _LONGEST_KEY_SHOWN) for part in parts) or "top level"


def with_maybe_applied(error: _Uncertain) -> _Uncertain:
    """`error`, saying that an earlier attempt of its request may have reached the API.

    A copy, never the object itself: an error may be raised to several workers at once (the
    token endpoint's refusal), and only this request's attempts are in question."""
    if error.maybe_applied:
        return error
    copy = type(error).__new__(type(error), *error.args)
    copy.__dict__.update(vars(error))
    copy.maybe_applied = True
    return copy
