"""A command leaves the process's garbage collector as it found it: loading holds it off and
freezes what it loaded, for speed, and the end of the command gives that back."""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from statusync import workspace as workspace_module
from statusync.files import collector as collector_module
from statusync.files.collector import hold_off_while_starting
from tests.support.project import Project, Result

Cli = Callable[..., Result]


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_a_plan_leaves_the_collector_as_it_found_it(
    project: Project, cli: Cli, collector: None, enabled: bool
) -> None:
    project.mapping(1)
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()
    assert cli("plan").code == 0
    assert gc.isenabled() is enabled
    assert gc.get_freeze_count() == 0  # nothing this run loaded is kept from the collector


@pytest.mark.parametrize(
    "command",
    [["plan"], ["github", "plan-comment", "--pr", "1", "--body", "plan.md"]],
    ids=["command", "github's command"],
)
def test_a_start_that_held_the_collector_off_gives_it_back_once_the_command_runs(
    project: Project, cli: Cli, collector: None, command: list[str]
) -> None:
    # The statusync process holds the collector off while it imports its modules; a command
    # that left it off would run for as long as it runs (the sandbox: for hours) without it.
    project.mapping(1)
    (project.root / "plan.md").write_text("plan")
    gc.unfreeze()
    gc.enable()
    hold_off_while_starting()
    assert not gc.isenabled()
    on_in_command: list[bool] = []
    with pytest.MonkeyPatch.context() as patch:
        held_off = collector_module.held_off

        @contextmanager
        def watched() -> Iterator[None]:
            on_in_command.append(gc.isenabled())
            with held_off():
                yield

        patch.setattr(workspace_module, "held_off", watched)
        cli(*command)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # what starting froze is given back with the rest
    if command == ["plan"]:
        assert on_in_command and all(on_in_command)  # on already when the command loads its files


def test_a_start_held_off_by_hand_is_not_undone_by_a_command(
    project: Project, cli: Cli, collector: None
) -> None:
    # Someone who turned the collector off before statusync started keeps it off.
    project.mapping(1)
    gc.unfreeze()
    gc.disable()
    hold_off_while_starting()
    assert cli("plan").code == 0
    assert not gc.isenabled()
