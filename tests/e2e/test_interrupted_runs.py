"""What the commands after a killed apply say about it: a saved plan made before the kill is
refused, naming the interrupted apply rather than a hand edit, and a new plan goes through."""

from __future__ import annotations

from collections.abc import Callable

from statusync.files.journal import journal_path
from statusync.sandbox import SandboxServer
from tests.support.gate import Gate, mapping_writes
from tests.support.processes import statusync, wait_until
from tests.support.project import MAPPING_PATH, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]


def posts(server: SandboxServer) -> int:
    return sum(1 for r in server.store.requests() if r.method == "POST" and r.path == MAPPING_PATH)


def test_a_saved_plan_applied_after_a_killed_apply_is_refused_naming_the_interrupted_apply(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.mapping(1, delivered='"3"')
    project.mapping(2, delivered='"3"')
    gate = Gate(holds=mapping_writes)
    server = sandbox(gate=gate)
    assert cli("apply", "--yes").code == 0
    project.mapping(1, delivered='"2"')
    project.mapping(2, delivered='"2"')
    assert cli("plan", "--out", "plan.json").code == 0

    gate.close()
    proc = statusync("apply", "plan.json", "--yes", "--parallelism", "1", env=env)
    gate.wait_held(1)  # the first POST is on the wire, its intent in the journal
    proc.kill()
    proc.communicate()
    assert journal_path(project.state_file).exists()
    gate.open()
    sent = 3  # two by the first apply, and the one on the wire when it was killed
    wait_until(lambda: posts(server) == sent)  # the sandbox finished it anyway

    result = cli("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "by hand" not in result.err
    assert "the saved plan plan.json no longer matches the state: an interrupted apply (begun " in result.err
    assert "0 writes accepted, 1 of unknown outcome) changed the state since this plan was made" in result.err
    assert "Run 'statusync plan' again (with --out FILE to save it) and apply the new plan" in result.err
    assert posts(server) == sent  # refused: nothing was sent

    # What to do: plan again. The new plan settles the write of unknown outcome.
    plan = cli("plan", "--out", "plan.json")
    assert "1 to update, 0 to reset, 0 to forget, 1 uncertain to settle" in plan.out
    applied = cli("apply", "plan.json", "--yes")
    assert applied.code == 0, applied.err
    assert "1 updated" in applied.out and "1 settled" in applied.out
    assert live(server, 1)["DELIVERED"] == "2" and live(server, 2)["DELIVERED"] == "2"
    assert cli("plan", "--detailed-exitcode").code == 0
