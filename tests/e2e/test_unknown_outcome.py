"""A write one attempt of which may have reached the API (a 5xx other than 503, a connection
dropped after the request was sent) stays uncertain whatever its last attempt met; only a write
that never reached the API, or that every attempt of was refused outright, is recorded as failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from statusync.files.state_file import load_state
from statusync.sandbox import FaultRule, SandboxServer
from tests.support.project import MAPPING_PATH, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]


def posts(server: SandboxServer) -> list[int | None]:
    """Statuses of the mapping POSTs the sandbox saw (None: connection dropped)."""
    return [r.status for r in server.store.requests() if r.method == "POST" and r.path == MAPPING_PATH]


def rule(answer: int | None) -> FaultRule:
    """One POST answered `answer`, or dropped without an answer (None)."""
    if answer is None:
        return FaultRule(method="POST", drop=True, times=1)
    return FaultRule(method="POST", status=answer, times=1)


def applied_then_changed(project: Project, cli: Cli, sandbox: Start) -> SandboxServer:
    """Integration 1 applied with DELIVERED "3", then its file changed to "2"."""
    project.mapping(1, delivered='"3"')
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    project.mapping(1, delivered='"2"')
    server.store.clear_requests()
    return server


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ((500, 404), "HTTP 404"),
        ((None, 401), "Sendcloud rejected the API credentials"),
        ((502, 422), "HTTP 422"),
        ((None, 500, 404), "HTTP 404"),
    ],
    ids=["500-then-404", "dropped-then-401", "502-then-422", "dropped-500-then-404"],
)
def test_a_write_that_may_have_arrived_stays_uncertain_whatever_the_retry_meets(
    project: Project, cli: Cli, sandbox: Start, answers: tuple[int | None, ...], said: str
) -> None:
    server = applied_then_changed(project, cli, sandbox)
    for answer in answers:
        server.store.add_fault(rule(answer))
    result = cli("apply", "--yes")
    assert result.code == 1
    assert posts(server) == list(answers)
    assert said in result.err
    assert "it may have been applied all the same" in result.err
    assert "the next apply sends it again" in result.err
    state = load_state(project.state_file)
    assert state.entries[1].mapping["DELIVERED"] == "3"  # never claimed ...
    assert state.uncertain[1].mapping["DELIVERED"] == "2"  # ... never forgotten either

    project.mapping(1, delivered='"3"')  # the change is reverted: live may still hold "2"
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.out
    assert "No changes" not in plan.out
    assert "? uncertain 1" in plan.out and '"3" (Status 3) or "2" (Status 2) -> "3" (Status 3)' in plan.out
    assert "it failed after it may have reached the API" in plan.out
    data = json.loads(cli("plan", "--format", "json").out)
    assert data["summary"]["uncertain"] == 1 and data["uncertain"] == [1]

    applied = cli("apply", "--yes")  # the faults are spent: the file is sent again
    assert applied.code == 0, applied.err
    assert "1 settled" in applied.out
    assert posts(server)[len(answers) :] == [200]
    assert live(server, 1)["DELIVERED"] == "3"
    assert load_state(project.state_file).uncertain == {}
    assert cli("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ((404,), "HTTP 404"),
        ((503, 404), "HTTP 404"),  # a 503 is the API refusing to start on the request
        ((422,), "HTTP 422"),
        ((503, 503, 401), "Sendcloud rejected the API credentials"),
    ],
    ids=["404", "503-then-404", "422", "503s-then-401"],
)
def test_a_write_refused_at_every_attempt_is_recorded_as_failed(
    project: Project, cli: Cli, sandbox: Start, answers: tuple[int, ...], said: str
) -> None:
    server = applied_then_changed(project, cli, sandbox)
    for answer in answers:
        server.store.add_fault(rule(answer))
    result = cli("apply", "--yes")
    assert result.code == 1
    assert posts(server) == list(answers)
    assert said in result.err
    assert "may have been applied" not in result.err
    assert load_state(project.state_file).uncertain == {}
    project.mapping(1, delivered='"3"')  # reverted: live never held "2"
    assert cli("plan", "--detailed-exitcode").code == 0
