"""The README's path from an empty repository, walked as a newcomer would: its shell blocks, word
for word and in order, typed into one bash session (what a block exports or `cd`s into stays for
the next), with real git and the installed `statusync` command, against the sandbox started from
the example seed. examples/README.md says what stands in for GitHub and for Sendcloud's panel;
its blocks are run word for word too. The only words changed are the ones that must be: the
GitHub remote (by the line examples/README.md gives for it) and the sandbox's port."""

from __future__ import annotations

import os
import re
import subprocess
import sysconfig
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statusync.sandbox import SandboxServer, load_seed_file
from statusync.sandbox.seed import DEMO_CREDENTIALS
from tests.support.gitrepo import git
from tests.support.processes import read_until
from tests.support.project import Result, live

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples" / "README.md"
SECTION = "### From an empty repository to GitHub-managed mappings"
# A runnable block: an HTML comment naming it, then a fenced `sh` block (indented in a list item).
RUNNABLE = re.compile(r"^[ \t]*<!-- (\w+):run ([\w-]+) -->\n([ \t]*)```sh\n(.*?)^\3```", re.M | re.S)
DONE = re.compile(r"@@exit (\d+)@@")
SANDBOX_PORT = "127.0.0.1:8765"  # the port the docs name; the test's sandbox has a free one
EDITED = "mappings/maison-lavande-310002.yaml"


def section(text: str, heading: str) -> str:
    """The text under `heading`, up to the next heading of the same or a higher level."""
    start = text.index(heading)
    level = heading.split(" ")[0]
    rest = re.search(rf"^#{{1,{len(level)}}} ", text[start + len(heading) :], re.M)
    return text[start : start + len(heading) + rest.start()] if rest else text[start:]


def runnable_blocks(text: str, kind: str) -> dict[str, str]:
    """The blocks marked `<!-- KIND:run NAME -->`, by name in document order, dedented."""
    return {m[2]: textwrap.dedent(m[4]) for m in RUNNABLE.finditer(text) if m[1] == kind}


class Terminal:
    """One bash session that the blocks are pasted into, one after another."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        # Everything the session prints goes to one pipe, read as it comes.
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            cwd=cwd,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.type("exec 1>&2")

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def paste(self, block: str, *, expect: int = 0) -> Result:
        """Run `block`; a command that fails in a block expected to succeed ends the session
        (`set -e`), and the test with what it printed."""
        self.type("set -e" if expect == 0 else "set +e")
        self.type(block)
        self.type("printf '\\n@@exit %s@@\\n' \"$?\"")
        said = read_until(self.proc, "@@\n")
        found = DONE.search(said)
        assert found, said
        output = said[: found.start()]
        assert int(found[1]) == expect, f"the block exited {found[1]}, expected {expect}:\n{block}\n{output}"
        return Result(int(found[1]), output, "")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def newcomer_env(home: Path, scripts: Path) -> dict[str, str]:
    """A fresh terminal of someone who installed statusync and set up git: `statusync` on PATH,
    a git identity, and nothing of this machine's git configuration."""
    kept = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
    return {
        **kept,
        "PATH": f"{scripts}{os.pathsep}{kept.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Newcomer",
        "GIT_AUTHOR_EMAIL": "newcomer@example.com",
        "GIT_COMMITTER_NAME": "Newcomer",
        "GIT_COMMITTER_EMAIL": "newcomer@example.com",
    }


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    scripts = Path(sysconfig.get_path("scripts"))
    assert (scripts / "statusync").is_file(), f"the statusync command is not installed in {scripts}"
    home = tmp_path / "home"
    home.mkdir()
    session = Terminal(home, newcomer_env(home, scripts))
    yield session
    session.close()


def test_the_readme_path_from_an_empty_repository_walks_word_for_word(
    terminal: Terminal, tmp_path: Path, start_sandbox: Callable[..., SandboxServer]
) -> None:
    steps = runnable_blocks(section(README.read_text(), SECTION), "newcomer")
    # Every shell block of the section runs here, but the install one (this test's environment
    # has statusync installed already).
    assert section(README.read_text(), SECTION).count("```sh\n") == len(steps) + 1
    assert list(steps) == ["create", "merge-driver", "push", "branch", "pull-request", "after-merge", "drift"]
    examples = EXAMPLES.read_text()
    rehearsal = runnable_blocks(examples, "rehearsal")
    assert list(rehearsal) == ["sandbox", "setup", "merge-and-apply", "hand-edit", "reconcile"]
    # The sandbox as examples/README.md starts it, here in this process on a free port.
    assert rehearsal["sandbox"] == "statusync sandbox --seed examples/sandbox-seed.yaml\n"
    server = start_sandbox(load_seed_file(ROOT / "examples" / "sandbox-seed.yaml"), DEMO_CREDENTIALS)
    here = server.base_url.removeprefix("http://")

    def local(block: str) -> str:
        assert SANDBOX_PORT in block
        return block.replace(SANDBOX_PORT, here)

    # The GitHub remote, replaced by the line examples/README.md gives for it.
    github = re.search(r"^git remote add origin \S+$", steps["push"], re.M)
    stand_in = re.search(r"^git remote add origin \S+$", examples, re.M)
    assert github and stand_in and "github.com" not in stand_in[0]
    push = steps["push"].replace(github[0], stand_in[0])
    origin = tmp_path / "home" / "rehearsal" / "shop-mappings.git"

    terminal.paste(local(rehearsal["setup"]))
    created = terminal.paste(steps["create"])
    for name in (
        "velo-utrecht-310001",
        "maison-lavande-310002",
        "kaffeerosterei-berg-310003",
        "tienda-olivo-310004",
    ):
        assert f"mappings/{name}.yaml\n" in created.out
    assert "skipped integration 310005" in created.out  # the Shopify store
    assert "No changes." in created.out

    terminal.paste(steps["merge-driver"])
    terminal.paste(push)
    # The first commit holds what the README says, and nothing statusync leaves behind.
    committed = git(origin, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert sorted(committed) == [
        ".gitattributes",
        ".gitignore",
        ".statusync/state.json",
        ".statusync/statuses.json",
        "mappings/kaffeerosterei-berg-310003.yaml",
        "mappings/maison-lavande-310002.yaml",
        "mappings/tienda-olivo-310004.yaml",
        "mappings/velo-utrecht-310001.yaml",
    ]

    terminal.paste(steps["branch"])
    repo = tmp_path / "home" / "rehearsal" / "shop-mappings"
    edited = repo / EDITED
    assert f"`{EDITED}`" in examples and "CANCEL: null" in edited.read_text()
    edited.write_text(edited.read_text().replace("CANCEL: null", 'CANCEL: "6"'))  # the editor
    proposed = terminal.paste(steps["pull-request"])
    assert re.search(r'update 310002 .*\n +CANCEL +null -> "6" \(Canceled\)\n', proposed.out), proposed.out
    assert "first-change" in git(origin, "branch", "--list", "first-change")

    applied = terminal.paste(rehearsal["merge-and-apply"])
    assert live(server, 310002)["CANCEL"] == "6", applied.out
    assert git(origin, "log", "-1", "--format=%s", "main") == "statusync: record applied state"

    assert "No changes." in terminal.paste(steps["after-merge"]).out
    assert "No drift." in terminal.paste(steps["drift"]).out

    terminal.paste(local(rehearsal["hand-edit"]))
    drift = terminal.paste(steps["drift"], expect=2)
    assert "310001" in drift.out and '"7"' in drift.out

    healed = terminal.paste(rehearsal["reconcile"])
    assert "No drift." in healed.out
    assert live(server, 310001)["DELIVERED"] == "5"
    # Nothing left to commit: the .gitignore covers what the runs left beside the state.
    assert git(repo, "status", "--porcelain", "--ignored=no") == ""
    assert git(repo, "rev-parse", "HEAD") == git(origin, "rev-parse", "main")


def test_sandbox_help_points_at_the_example_seed(cli: Callable[..., Result]) -> None:
    shown = cli("sandbox", "--help")
    assert shown.code == 0
    command = re.search(r"statusync sandbox --seed (\S+)", shown.out)
    assert command and "examples/" in shown.out
    assert (ROOT / command[1]).is_file()
    load_seed_file(ROOT / command[1])  # a seed the sandbox accepts
