"""The layout's promises: the core does no I/O, the client knows nothing of the YAML layer, a plan
never loads the API client, commands/ holds commands only, and the imports between statusync's
modules run one way, down the layers below, with no circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "statusync"

# What a pure module may import: value types of the standard library, pydantic for the mapping
# file's model, the exception tree and the text escapes below it, and the core itself.
CORE_ALLOWED = {
    "__future__",
    "dataclasses",
    "enum",
    "typing",
    "datetime",
    "json",
    "re",
    "hashlib",
    "collections",
    "collections.abc",
    "itertools",
    "functools",
    "math",
    "pydantic",
    "statusync.errors",
    "statusync.text",
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).glob("*.py"))


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.name)
def test_the_core_imports_nothing_that_does_io(path: Path) -> None:
    impure = {
        name
        for name in imports_of(path)
        if name not in CORE_ALLOWED and not name.startswith("statusync.core")
    }
    assert not impure, f"statusync/core/{path.name} imports {sorted(impure)}"


@pytest.mark.parametrize("path", modules("sendcloud"), ids=lambda p: p.name)
def test_the_client_does_not_depend_on_the_yaml_layer_or_the_terminal(path: Path) -> None:
    forbidden = {
        name
        for name in imports_of(path)
        if name.split(".")[0] in ("click", "ruamel")
        or name.startswith(
            (
                "statusync.files",
                "statusync.commands",
                "statusync.render",
                "statusync.console",
                "statusync.workspace",
            )
        )
    }
    assert not forbidden, f"statusync/sendcloud/{path.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", modules("http"), ids=lambda p: p.name)
def test_what_the_http_clients_share_depends_on_none_of_them(path: Path) -> None:
    forbidden = {
        name
        for name in imports_of(path)
        if name.split(".")[0] in ("click", "ruamel")
        or (
            name.startswith("statusync.")
            and not name.startswith(
                ("statusync.http", "statusync.core", "statusync.errors", "statusync.text")
            )
        )
    }
    assert not forbidden, f"statusync/http/{path.name} imports {sorted(forbidden)}"


def test_the_core_and_a_plan_load_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "import statusync.core.drift, statusync.core.plan, statusync.core.safety, "
        "statusync.core.state, statusync.core.status_check\n"
        "print(sorted(m for m in ('httpx', 'click', 'ruamel.yaml') if m in sys.modules))\n"
        "import statusync.commands.plan\n"
        "print('httpx' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "False"


def loaded_by(args: list[str], cwd: Path) -> set[str]:
    """The modules a run of `statusync ARGS` in `cwd` has imported by its end (not the stand-ins
    statusync puts in sys.modules by hand, which have no import spec)."""
    code = (
        "import sys\n"
        "from statusync.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(' '.join(sorted(m for m, module in sys.modules.items() if getattr(module, '__spec__', None))),"
        " file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return set(run.stderr.split("\n")[-2].split())


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["plan", "--help"]], ids=" ".join)
def test_start_up_loads_only_the_command_line(args: list[str], tmp_path: Path) -> None:
    # What a command needs (pydantic, the YAML reader, the workspace, the runner) is imported
    # when it runs: start-up, which every command pays, costs click and statusync's options only.
    heavy = {
        name
        for name in loaded_by(args, tmp_path)
        if name.split(".")[0] in ("pydantic", "ruamel", "httpx", "concurrent")
        or name.startswith(
            ("statusync.workspace", "statusync.core", "statusync.runner", "statusync.sendcloud")
        )
    }
    assert not heavy, sorted(heavy)


def test_statusync_loads_neither_httpx_s_command_line_nor_pydantic_s_plugins() -> None:
    # httpx imports its command-line client (rich, pygments) when they are installed, and
    # pydantic runs every plugin an installed package declares: statusync uses neither.
    # Nor the installed packages' metadata, which only pydantic's plugin loader would read.
    code = (
        "import os, sys\n"
        "import statusync, httpx, pydantic\n"
        "from pydantic.plugin._loader import get_plugins\n"
        "class Model(pydantic.BaseModel):\n"
        "    x: int\n"
        "Model(x=1)\n"
        "print(sys.modules['httpx._main'] is None, os.environ['PYDANTIC_DISABLE_PLUGINS'])\n"
        "print(list(get_plugins()), 'importlib.metadata' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "__all__", "[]", "False"]


def test_a_plan_loads_neither_the_api_client_nor_the_runner_nor_merging_nor_saved_plans(
    tmp_path: Path,
) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "shop.yaml").write_text(
        'integration_id: 1\nmapping:\n  READY_TO_SEND: "1"\n  IN_TRANSIT: null\n'
        "  DELIVERED: null\n  CANCEL: null\n"
    )
    loaded = loaded_by(["plan"], tmp_path)
    assert "statusync.files.mappings" in loaded  # it did plan
    unneeded = {
        name
        for name in loaded
        if name.split(".")[0] in ("httpx", "concurrent")
        or name.startswith(("statusync.runner", "statusync.sendcloud.pacing", "statusync.sendcloud.client"))
        or name in ("statusync.core.state_merge", "statusync.files.planfile", "statusync.core.drift")
    }
    assert not unneeded, sorted(unneeded)


def test_the_cli_knows_the_largest_integration_id_the_model_takes() -> None:
    # The CLI keeps its own copy, so that parsing `--integration` needs no pydantic.
    from statusync.cli import MAX_INTEGRATION_ID
    from statusync.core import model

    assert MAX_INTEGRATION_ID == model.MAX_INTEGRATION_ID


def test_the_cli_shows_the_sandbox_port_the_sandbox_uses() -> None:
    # The CLI keeps its own copy, so that it need not import the sandbox to show a default.
    from statusync.cli import SANDBOX_PORT
    from statusync.sandbox import DEFAULT_PORT

    assert SANDBOX_PORT == DEFAULT_PORT


# statusync's layers, lowest first. A module may import its own package (the entry it falls under)
# and any lower layer, never a higher one nor another entry of its own layer. Every module must
# fall under an entry, so that a new package has to be given its place here.
LAYERS: list[tuple[str, ...]] = [
    ("statusync", "statusync.text"),  # the version; the text escapes, which import nothing
    ("statusync.errors",),
    ("statusync.environment", "statusync.core"),
    ("statusync.http",),  # the retry policy the API clients share
    ("statusync.console", "statusync.sendcloud", "statusync.repo"),
    ("statusync.files", "statusync.render", "statusync.sandbox"),
    ("statusync.github", "statusync.runner", "statusync.workspace"),
    ("statusync.session",),  # what the commands share: write session, --push, --only
    ("statusync.commands",),
    ("statusync.options",),
    ("statusync.cli",),
    ("statusync.__main__", "statusync.action"),  # the entry points
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def statusync_imports(name: str) -> set[str]:
    """The statusync modules (or packages) `name` imports anywhere in it: at the top, inside a
    function (a lazy import only moves the cost, the arrow is still there) and under
    TYPE_CHECKING alike. `from statusync.commands import plan` is the module plan."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name} uses a relative import"
            assert node.module is not None
            found.update(
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                for alias in node.names
            )
    return {module for module in found if module == "statusync" or module.startswith("statusync.")}


GRAPH = {name: statusync_imports(name) for name in MODULES}
COMMANDS = sorted(name for name in MODULES if name.startswith("statusync.commands."))


def entry_of(module: str) -> tuple[int, str]:
    """(layer, entry) of a module: the longest entry it falls under."""
    matches = [
        (len(entry), index, entry)
        for index, layer in enumerate(LAYERS)
        for entry in layer
        if module == entry or (entry != "statusync" and module.startswith(entry + "."))
    ]
    assert matches, f"{module} is in no layer: give it its place in LAYERS"
    _, index, entry = max(matches)
    return index, entry


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        entry_of(name)


def test_imports_run_down_the_layers() -> None:
    upward = []
    for name, imported in GRAPH.items():
        layer, entry = entry_of(name)
        for target in sorted(imported):
            target_layer, target_entry = entry_of(target)
            if target_entry != entry and target_layer >= layer:
                upward.append(f"{name} (layer {layer}) imports {target} (layer {target_layer})")
    assert not upward, "\n".join(upward)


def test_the_import_graph_has_no_circle() -> None:
    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            circles.append(path[path.index(name) :] + [name])
            return
        if name in done:
            return
        for target in sorted(GRAPH.get(name, ())):
            visit(target, path + [name])
        done.add(name)

    for name in MODULES:
        visit(name, [])
    assert not circles, "\n".join(" -> ".join(circle) for circle in circles)


def test_commands_holds_only_commands_the_cli_runs() -> None:
    """Each module of commands/ is a command: its public functions are `run` (or `run_*` for a
    group's commands, as in github.py) and the CLI calls each of them. What commands share
    belongs to statusync.session."""
    cli = ast.parse(MODULES["statusync.cli"].read_text())
    imported = {
        f"statusync.commands.{alias.asname or alias.name}": alias.asname or alias.name
        for node in ast.walk(cli)
        if isinstance(node, ast.ImportFrom) and node.module == "statusync.commands"
        for alias in node.names
    }
    called = {
        (node.func.value.id, node.func.attr)
        for node in ast.walk(cli)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    }
    for name in COMMANDS:
        functions = [
            node.name
            for node in ast.parse(MODULES[name].read_text()).body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
        ]
        assert functions, f"{name} defines no command"
        shared = [f for f in functions if f != "run" and not f.startswith("run_")]
        assert not shared, f"{name} defines {shared}: what commands share goes to statusync.session"
        assert name in imported, f"the CLI does not import {name}"
        for function in functions:
            assert (imported[name], function) in called, f"the CLI does not call {name}.{function}"


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"statusync.cli"}), ids=str)
def test_nothing_but_the_cli_imports_a_command(name: str) -> None:
    commands = {
        target
        for target in GRAPH[name]
        if target == "statusync.commands" or target.startswith("statusync.commands.")
    }
    assert not commands, f"{name} imports {sorted(commands)}"


@pytest.mark.parametrize(
    "name",
    sorted(
        name for name in MODULES if not name.startswith(("statusync.sandbox", "statusync.commands.sandbox"))
    ),
    ids=str,
)
def test_only_the_sandbox_command_imports_the_sandbox(name: str) -> None:
    # The sandbox stands in for the API: no part of statusync may come to depend on it.
    sandbox = {target for target in GRAPH[name] if target.startswith("statusync.sandbox")}
    assert not sandbox, f"{name} imports {sorted(sandbox)}"
