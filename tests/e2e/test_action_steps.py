"""The composite action's steps, run as action.yml writes them (bash, the env they declare), in a
mappings repository that holds Python files named like the modules Python, pip and statusync
import: none of them ever runs, and only `statusync github ...` sees the job's token.

The install step installs from a lock with hashes. Offline, the lock is the real one with each
pin moved to the version installed here and hashed as a wheel packed from that installation
(tests/unit/test_requirements_lock.py checks the real lock against pyproject.toml)."""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from ruamel.yaml import YAML

import statusync
from tests.support.requirements import lock_requirements

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghs_job_token_of_the_test"
SECRET = "sendcloud-secret-of-the-test"
# Where Python, pip, venv or statusync would pick them up if the working directory were on sys.path.
HOSTILE = [
    "click.py",
    "shlex.py",
    "sitecustomize.py",
    "usercustomize.py",
    "statusync/__init__.py",
    "pip/__init__.py",
    "venv/__init__.py",
]
# Packages Python imports to run `-m statusync.action` before that module's code runs.
ENTRY_PACKAGES = {"statusync"}


class Step(NamedTuple):
    code: int
    out: str
    err: str
    outputs: dict[str, str]


def pack_installed(name: str, into: Path) -> tuple[str, str, str]:
    """A wheel of the distribution installed here, as pip installed it: (name, version, sha256)."""
    dist = importlib.metadata.distribution(name)
    tag = next(
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    )
    wheel = into / f"{re.sub(r'[-_.]+', '_', dist.name)}-{dist.version}-{tag}.whl"
    site = Path(str(dist.locate_file("")))
    skip = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    files = [
        str(f)
        for f in dist.files or []
        if not str(f).startswith("..")
        and "__pycache__" not in f.parts
        and not (f.parent.name.endswith(".dist-info") and f.name in skip)
    ]
    info = next(f.split("/")[0] for f in files if f.split("/")[0].endswith(".dist-info"))
    with zipfile.ZipFile(wheel, "w") as archive:
        for relpath in files:
            archive.write(site / relpath, relpath)
        archive.writestr(f"{info}/RECORD", "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return dist.name, dist.version, digest


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The action's checkout (a copy of this one's package files) with a lock of the wheels in
    a local wheelhouse, pinned and hashed as the real lock is."""
    base = tmp_path_factory.mktemp("offline")
    wheelhouse, checkout = base / "wheelhouse", base / "statusync-action"
    wheelhouse.mkdir()
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md", "action.yml"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copytree(ROOT / "statusync", checkout / "statusync", ignore=shutil.ignore_patterns("__pycache__"))
    pins = []
    for requirement in lock_requirements(ROOT / "requirements.lock"):
        if requirement.marker is None or requirement.marker.evaluate():
            name, version, digest = pack_installed(requirement.name, wheelhouse)
            pins.append(f"{name}=={version} --hash=sha256:{digest}\n")
    (checkout / "requirements.lock").write_text("".join(pins))
    return {"wheelhouse": wheelhouse, "checkout": checkout}


def hostile_repository(root: Path, markers: Path) -> Path:
    """A mappings repository whose every Python file records that it ran, and what it saw."""
    repo = root / "shop-mappings"
    for relpath in HOSTILE:
        path = repo / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"import json, os\nwith open({str(markers / relpath.replace('/', '_'))!r}, 'w')"
            " as f:\n    json.dump(dict(os.environ), f)\n"
        )
    (repo / "mappings").mkdir()
    (repo / "mappings" / "shop-1.yaml").write_text(
        'integration_id: 1\nmapping:\n  READY_TO_SEND: "1"\n  IN_TRANSIT: "2"\n'
        '  DELIVERED: "3"\n  CANCEL: null\n'
    )
    return repo


class Runner:
    """The steps of action.yml, run as the Actions runner runs a composite action's steps."""

    def __init__(self, base: Path, offline: dict[str, Path]) -> None:
        self.steps = YAML(typ="safe").load((ROOT / "action.yml").read_text())["runs"]["steps"]
        self.temp = base / "runner-temp"
        self.temp.mkdir()
        self.markers = base / "markers"
        self.markers.mkdir()
        self.repo = hostile_repository(base, self.markers)
        self.checkout = offline["checkout"]
        path = os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != Path(sys.executable).parent
        )
        self.env = {
            "PATH": path,
            "HOME": str(base),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.repo),
            "SENDCLOUD_PUBLIC_KEY": "public",
            "SENDCLOUD_SECRET_KEY": SECRET,
            # Offline: pip finds the locked wheels here, and no configuration of this machine.
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(offline["wheelhouse"]),
        }

    def step(self, name: str, **inputs: str) -> Step:
        step = next(s for s in self.steps if s.get("name", "").startswith(name) and "run" in s)
        values = {
            "steps.python.outputs.python-path": sys.executable,
            "github.action_path": str(self.checkout),
            "inputs.version": "",
            "inputs.allow-exit-codes": "0",
            "inputs.github-token": TOKEN,
            "inputs.working-directory": str(self.repo),
            **{f"inputs.{key.replace('_', '-')}": value for key, value in inputs.items()},
        }

        def expand(text: str) -> str:
            return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values[m.group(1)], text)

        outputs = self.temp / "github_output"
        outputs.write_text("")
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=expand(step.get("working-directory", str(self.repo))),
            capture_output=True,
            text=True,
            timeout=120,
            env={
                **self.env,
                "GITHUB_OUTPUT": str(outputs),
                **{k: expand(v) for k, v in step.get("env", {}).items()},
            },
        )
        written = (line.split("=", 1) for line in outputs.read_text().splitlines())
        return Step(done.returncode, done.stdout, done.stderr, dict(written))

    def watch_imports(self) -> Callable[[], list[tuple[str, bool]]]:
        """From now on, each Python of the action's environment records every module it imports
        from outside the standard library, and whether GITHUB_TOKEN was in its environment then;
        the function returned reads and forgets the records."""
        log = self.temp / "imports.log"
        site = next((self.temp / "statusync-venv" / "lib").glob("python3*/site-packages"))
        # The environment's own sitecustomize (not the repository's): an audit hook.
        (site / "sitecustomize.py").write_text(
            "import os, sys\n"
            "def _hook(event, args):\n"
            "    if event == 'import' and args[0].partition('.')[0] not in sys.stdlib_module_names:\n"
            f"        with open({str(log)!r}, 'a') as f:\n"
            "            f.write(f\"{args[0]} {'GITHUB_TOKEN' in os.environ}\\n\")\n"
            "sys.addaudithook(_hook)\n"
        )

        def records() -> list[tuple[str, bool]]:
            text = log.read_text() if log.exists() else ""
            log.unlink(missing_ok=True)
            return [(name, seen == "True") for name, seen in (line.split() for line in text.splitlines())]

        return records

    def ran(self) -> dict[str, Any]:
        """The hostile files that ran: each with the environment it saw."""
        return {path.name: json.loads(path.read_text()) for path in self.markers.iterdir()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, offline: dict[str, Path]) -> Runner:
    runner = Runner(tmp_path_factory.mktemp("action"), offline)
    install = runner.step("Install statusync")
    assert install.code == 0, install.err
    assert install.out == f"statusync, version {statusync.__version__}\n"
    return runner


def test_nothing_of_the_repository_runs_in_the_install_step(installed: Runner) -> None:
    assert installed.ran() == {}
    # What was installed is the action's checkout and the locked wheels, and no build backend is
    # left to run at every start of the environment.
    venv = installed.temp / "statusync-venv"
    packages = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {p["name"].lower() for p in json.loads(packages.stdout)}
    assert {"statusync", "click", "httpx", "pydantic"} <= names and "setuptools" not in names


def test_a_command_runs_without_the_token_and_without_the_repository_files(installed: Runner) -> None:
    imports = installed.watch_imports()
    step = installed.step("statusync", args="validate")
    assert (step.code, step.outputs["exit-code"]) == (0, "0"), step.err
    assert Path(step.outputs["output-file"]).read_text() == "1 mapping file valid.\n" == step.out
    assert installed.ran() == {}
    records = imports()
    # The token was gone before statusync's command, click, pydantic or httpx was imported.
    assert {"click", "statusync.cli"} <= {name for name, _ in records}
    assert {name for name, seen in records if seen} <= ENTRY_PACKAGES


def test_only_the_github_command_gets_the_token(installed: Runner) -> None:
    imports = installed.watch_imports()
    step = installed.step("statusync", args="github --help")
    assert step.code == 0 and "plan-comment" in step.out, step.err
    assert installed.ran() == {}
    assert ("click", True) in imports()


def test_args_that_cannot_be_split_get_no_token_either(installed: Runner) -> None:
    imports = installed.watch_imports()
    step = installed.step("statusync", args="github 'unclosed")
    assert step.code == 1 and "cannot split the action's args" in step.err
    assert {name for name, seen in imports() if seen} <= ENTRY_PACKAGES


def test_a_version_from_pypi_is_refused(tmp_path: Path, offline: dict[str, Path]) -> None:
    runner = Runner(tmp_path, offline)
    step = runner.step("Install statusync", version="0.1.0")
    assert step.code == 1
    assert "::error title=statusync action::The version input is not supported" in step.out
    assert not (runner.temp / "statusync-venv").exists() and runner.ran() == {}


def test_the_entry_module_and_its_packages_import_only_the_standard_library() -> None:
    """What Python runs of statusync before the entry drops the token."""
    for relpath in ("statusync/__init__.py", "statusync/action.py"):
        tree = ast.parse((ROOT / relpath).read_text())
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.module != "__future__" else []
            else:
                continue
            assert all(name.partition(".")[0] in sys.stdlib_module_names for name in names), relpath
