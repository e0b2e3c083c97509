"""A command leaves the process's garbage collector as it found it: loading holds it off and
freezes what it loaded, for speed, and the end of the command gives that back."""

import gc
from collections.abc import Callable, Iterator

import pytest

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
