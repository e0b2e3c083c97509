"""The one family of expected failures: anything else that escapes is a bug."""

from __future__ import annotations

from dataclasses import dataclass


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
