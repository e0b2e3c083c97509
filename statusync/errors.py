"""The one family of expected failures, and the exit codes: anything else that escapes is a bug.

    Exception
     └── StatusyncError          expected: its message is shown as is, the command exits ERROR
          ├── InvalidInput       problems in the user's files (Problem values), reported together
          ├── StopRun            every further request of the run would fail alike: stop at once
          │    └── CredentialsRejected     (also an ApiError) HTTP 401
          ├── NotFound           the API has no such integration
          │    └── IntegrationNotFound     (also an ApiError) HTTP 404
          └── ApiError           a request the Sendcloud API refused, or that got no answer

`Problem` is not an exception: it is one located problem that InvalidInput carries.

This module imports nothing but the standard library (the sendcloud client raises the ApiError
family, but importing this module must not import httpx: `plan` needs these errors without it).
"""

from __future__ import annotations

from dataclasses import dataclass

# The process exit codes, in one place. CHANGES (pending changes from `plan --detailed-exitcode`,
# drift from `drift`/`reconcile`, files `fmt --check` would rewrite) is apart from ERROR so that CI
# can tell "differs" from "failed"; a usage error is ERROR too, never click's default 2.
OK, ERROR, CHANGES = 0, 1, 2


class StatusyncError(Exception):
    """An expected failure: its message is shown to the user as is and the command exits 1."""


class StopRun(StatusyncError):
    """An error every further request of the run would meet too (the API rejected the
    credentials): the run stops at once instead of repeating it for each integration."""


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
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.col or 1}: {self.message}"


class InvalidInput(StatusyncError):
    """One or more problems in the user's files, all reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.col or 0))
        count = len(self.problems)
        super().__init__("\n".join(str(p) for p in self.problems)
                         + f"\n{count} problem{'s' if count != 1 else ''} found")


class ApiError(StatusyncError):
    """A request the Sendcloud API did not accept, or that never got an answer.

    `status` is the HTTP status (None when no response came), `detail` the API's own explanation
    (or what happened on the wire), without the request label the message starts with.
    """

    def __init__(self, message: str, *, status: int | None, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class CredentialsRejected(ApiError, StopRun):
    """HTTP 401: every request with these keys will fail alike."""


class IntegrationNotFound(ApiError, NotFound):
    """HTTP 404 for a request about one integration."""
