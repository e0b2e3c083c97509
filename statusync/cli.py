"""Command-line wiring only: parse the options, open the workspace, hand over to the command's
module (imported when that command runs), and turn what comes back into an exit code."""

from __future__ import annotations

import errno
import io
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from statusync import __version__
from statusync.console import Console
from statusync.errors import ERROR, OK, InvalidInput, StatusyncError
from statusync.files.collector import started, thaw
from statusync.options import (
    Seams,
    Seconds,
    current_seams,
    exactly_one_source,
    format_option,
    in_workspace,
    lock_timeout_option,
    only_option,
    parallelism_option,
    push_option,
)
from statusync.text import labelled

if TYPE_CHECKING:  # each command imports what it needs when it runs, so that start-up stays fast
    from statusync.workspace import Workspace

# The sandbox's own default, and the largest integration id the model takes: literals, because
# importing the sandbox or the model (pydantic) to read them would slow every command down, even
# `--help` (tests/unit/test_layout.py checks that they agree).
SANDBOX_PORT = 8765
MAX_INTEGRATION_ID = 2**53 - 1


class _Command(click.Command):
    """A statusync command: once it runs, start-up is over (statusync.files.collector)."""

    def invoke(self, ctx: click.Context) -> Any:
        started()
        return super().invoke(ctx)


class _Group(click.Group):
    command_class = _Command
    group_class = type  # `github`'s commands are _Commands too


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="statusync")
def cli() -> None:
    """GitOps for Sendcloud shop order status mappings.

    Desired mappings live as YAML files under mappings/; plan shows what would change,
    apply sends only the changed integrations to Sendcloud.
    """


@cli.command()
@click.option(
    "--remote",
    is_flag=True,
    help="Also check every external id against the shop's statuses (needs credentials).",
)
@parallelism_option
@only_option
@in_workspace
def validate(ws: Workspace, console: Console, **options: Any) -> int:
    """Check every mapping file and statusync.yaml (offline unless --remote)."""
    from statusync.commands import validate

    return validate.run(ws, console, **options)


@cli.command()
@click.option(
    "--detailed-exitcode", "detailed", is_flag=True, help="Exit 2 when there are changes, 0 when none."
)
@format_option
@click.option(
    "--out",
    "planfile",
    metavar="PLANFILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan for 'statusync apply PLANFILE'.",
)
@only_option
@in_workspace
def plan(ws: Workspace, console: Console, **options: Any) -> int:
    """Show what apply would change (offline, no credentials needed)."""
    from statusync.commands import plan

    return plan.run(ws, console, **options)


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", "-y", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--force", is_flag=True, help="Apply even when the plan exceeds the safety threshold.")
@parallelism_option
@lock_timeout_option
@push_option
@only_option
@in_workspace
def apply(ws: Workspace, console: Console, **options: Any) -> int:
    """Upsert the changed integrations and record each success in the state."""
    from statusync.commands import apply

    return apply.run(ws, console, **options)


@cli.command()
@format_option
@parallelism_option
@only_option
@in_workspace
def drift(ws: Workspace, console: Console, **options: Any) -> int:
    """Compare every managed integration's live mapping with its file."""
    from statusync.commands import drift

    return drift.run(ws, console, **options)


@cli.command()
@click.option("--yes", "-y", is_flag=True, help="Reconcile without asking for confirmation.")
@click.option("--force", is_flag=True, help="Go on even when it exceeds the safety threshold.")
@parallelism_option
@lock_timeout_option
@push_option
@only_option
@in_workspace
def reconcile(ws: Workspace, console: Console, **options: Any) -> int:
    """Find drift, then upsert the desired mapping of each drifted integration."""
    from statusync.commands import reconcile

    return reconcile.run(ws, console, **options)


@cli.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a name a line; json: a list of names (for a CI matrix).",
)
@in_workspace
def accounts(ws: Workspace, console: Console, **options: Any) -> int:
    """List the accounts with managed integrations or pending changes (offline)."""
    from statusync.commands import accounts

    return accounts.run(ws, console, **options)


@cli.command("import")
@click.option(
    "--integration",
    "integration_ids",
    multiple=True,
    type=click.IntRange(min=1, max=MAX_INTEGRATION_ID),
    metavar="ID",
    help="Integration to import (repeatable).",
)
@click.option(
    "--all", "all_", is_flag=True, help="Import every integration of every account (or of --account)."
)
@click.option("--force", is_flag=True, help="Overwrite existing mapping files.")
@click.option(
    "--account",
    default=None,
    help="Credentials profile to read the integrations with (default: 'default'; with --all, every account).",
)
@parallelism_option
@lock_timeout_option
@push_option
@exactly_one_source
@in_workspace
def import_(ws: Workspace, console: Console, **options: Any) -> int:
    """Write mapping files from the live mappings and record them in the state."""
    from statusync.commands import import_

    return import_.run(ws, console, **options)


@cli.command()
@click.option("--remote", is_flag=True, help="Read the statuses live, without recording them.")
@click.option("--refresh", is_flag=True, help="Read the statuses live and record them in the catalog.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts.",
)
@parallelism_option
@only_option
@in_workspace
def statuses(ws: Workspace, console: Console, **options: Any) -> int:
    """List each managed integration's shop statuses (offline, from .statusync/statuses.json).

    --remote reads them from Sendcloud without recording them; --refresh reads them and
    records them, in the language statusync.yaml sets.
    """
    from statusync.commands import statuses

    return statuses.run(ws, console, **options)


@cli.command("merge-state", short_help="git merge driver for the state and status files (see its --help).")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
def merge_state(base: Path, ours: Path, theirs: Path) -> int:
    """git merge driver for the state file and the status catalog: merge BASE OURS THEIRS into OURS.

    Two branches that recorded different integrations then merge without a conflict; an
    integration changed on both sides keeps the newer record, and says so (in the status
    catalog, the newest read). Enable it with:

    \b
      git config merge.statusync.driver 'statusync merge-state %O %A %B'
      echo '.statusync/state.json merge=statusync' >> .gitattributes
      echo '.statusync/statuses.json merge=statusync' >> .gitattributes
    """
    from statusync.commands import merge_state

    return merge_state.run(_console(), base, ours, theirs)


@cli.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 2 when a file is not canonical.")
@in_workspace
def fmt(ws: Workspace, console: Console, **options: Any) -> int:
    """Rewrite mapping files in canonical form, keeping comments."""
    from statusync.commands import fmt

    return fmt.run(ws, console, **options)


@cli.command()
def schema() -> int:
    """Print the JSON Schema of a mapping file (for editors)."""
    from statusync.commands import schema

    return schema.run(_console())


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the shell completion script for SHELL (see the README to load it)."""
    from statusync.commands import completion

    return completion.run(_console(), shell, cli)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to serve on.")
@click.option(
    "--port",
    default=SANDBOX_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to serve on (0: any free port).",
)
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Seed file of integrations (default: those named by the mapping files).",
)
@click.option(
    "--latency", type=Seconds(), default=0.0, metavar="SECONDS", help="Delay added to every API request."
)
@click.option(
    "--post-per-minute", type=click.IntRange(min=1), help="Rate limit for POST (answers 429 beyond it)."
)
@click.option(
    "--get-per-minute", type=click.IntRange(min=1), help="Rate limit for GET (answers 429 beyond it)."
)
@in_workspace
def sandbox(ws: Workspace, console: Console, **options: Any) -> int:
    """Run a local fake Sendcloud API for demos and tests.

    It serves the integrations named by the mapping files of the current directory, or those of
    a seed file. To rehearse import, a pull request, apply and drift without a Sendcloud
    account, start it from the example seed in the statusync repository's examples/ folder,
    whose README walks you through it:

    \b
        statusync sandbox --seed examples/sandbox-seed.yaml
    """
    from statusync.commands import sandbox

    return sandbox.run(ws, console, **options)


@cli.group("github")
def github_group() -> None:
    """Report to GitHub: the pull request's plan comment and the drift issue.

    Used by the statusync action's workflows; needs GITHUB_TOKEN and GITHUB_REPOSITORY.
    """


class _ExitCode(click.ParamType[int]):
    """An exit code a step reported; empty (the step did not run) counts as a failure."""

    name = "code"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        if not str(value).strip():
            return ERROR
        try:
            return int(value)
        except ValueError:
            self.fail(
                f"{value!r} is not an exit code (a number, or empty when the step did not run)", param, ctx
            )


# Its variable is read from the seams' environment by the command (commands/github.py), not by
# click, which would read os.environ.
_bot_login_option = click.option(
    "--bot-login",
    metavar="LOGIN",
    help="Who a GitHub App installation token writes as, e.g. my-app[bot] (env "
    "STATUSYNC_BOT_LOGIN; default github-actions[bot], the workflow's GITHUB_TOKEN). A "
    "personal token names its user itself.",
)


def _console() -> Console:
    return Console.of_process(current_seams().env)


def _github_seams() -> dict[str, Any]:
    """What the github commands take from the seams: the runner's environment, the retry sleep."""
    given = current_seams()
    return {"env": given.env, "sleep": given.retry_sleep}


@github_group.command("plan-comment")
@click.option(
    "--body",
    "body",
    required=True,
    metavar="FILE",
    help="The plan in markdown (statusync plan --format markdown); may be empty when "
    "the plan failed or did not run.",
)
@click.option(
    "--pr",
    "pull_request",
    type=click.IntRange(min=1),
    metavar="N",
    help="Pull request number (default: the one of the pull_request event).",
)
@click.option(
    "--plan-exit-code",
    type=_ExitCode(),
    metavar="CODE",
    help="What plan --detailed-exitcode exited with: 0 (no changes) creates no "
    "comment; 1, or empty when the plan step did not run, makes the comment say "
    "that there is no plan and why; without it the plan counts as having changes.",
)
@_bot_login_option
def plan_comment(**options: Any) -> int:
    """Show the plan in the pull request's one plan comment, updated in place."""
    from statusync.commands import github

    return github.run_plan_comment(_console(), **_github_seams(), **options)


@github_group.command("drift-issue")
@click.option(
    "--report",
    required=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The drift report in markdown (statusync drift --format markdown).",
)
@click.option(
    "--drift-exit-code",
    required=True,
    type=int,
    metavar="CODE",
    help="What drift exited with: 2 opens or updates the issue, 0 closes it, anything else leaves it alone.",
)
@_bot_login_option
def drift_issue(**options: Any) -> int:
    """Open, update or close the one issue labelled statusync-drift."""
    from statusync.commands import github

    return github.run_drift_issue(_console(), **_github_seams(), **options)


# The commands that record what the API accepted in the state as they go.
_RECORDING = frozenset({"apply", "reconcile", "import"})


def _interrupt(signum: int, frame: object) -> None:
    # Ctrl-C and SIGTERM (CI cancelling a job, `timeout`, Kubernetes) alike: a run of requests
    # stops at a safe point, after the requests under way finished and were recorded in the
    # state; anywhere else (or when asked twice) the command is interrupted at once. Requests
    # are sent by a bounded run only: until one is loaded (a plan never loads one) there is no
    # run to stop, nor a need to load the rules for stopping one.
    if "statusync.runner.bounded" in sys.modules:
        from statusync.runner.stopping import stop_requested

        if stop_requested():  # a second one during the wind-down exits at once
            return
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None, seams: Seams | None = None) -> int:
    """Run `statusync ARGV`. Without `seams`, the process's: its environment, read here once,
    and real sleeps."""
    logging.basicConfig(level=logging.WARNING, format="statusync: %(message)s", stream=sys.stderr)
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(argv, seams or Seams())
    finally:
        thaw()  # what loading froze is this run's: the next command in this process collects it
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run() -> NoReturn:
    """The statusync process (the `statusync` script, `python -m statusync`): main(), then an
    exit that skips the interpreter's teardown.

    Tearing down a process that loaded 10,000 files frees every object it made and collects
    them all once more (what loading froze is thawed by then): a tenth of a plan's time, spent
    after its last word. Nothing is left to finish by then: every file statusync writes is
    written whole and closed (atomically) inside main(), locks go with the process, and the
    streams are flushed here. Tests call main(), which returns."""
    if not _standard_streams():
        click.echo(
            "error: the standard output is closed (>&-), so nothing statusync prints could be "
            "read; redirect it to a file, or to /dev/null to discard it",
            err=True,
        )
        os._exit(ERROR)
    _escaping_streams()
    try:
        code = main()
    except SystemExit as exc:  # click's exit when stdout was closed under it (`| head`)
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else ERROR
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that stopped early, or a stream closed already
            code = code or ERROR
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)  # a profiler or coverage writes what it measured as the process ends
    os._exit(code)


def _escaping_streams() -> None:
    """Text that stdout's or stderr's encoding cannot hold (PYTHONIOENCODING=ascii, a shop
    named Café) is written as its escape (Caf\\xe9) rather than ending the command: names come
    from files and from the API, and a plan that could not be shown would be an internal error."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _standard_streams() -> bool:
    """Give /dev/null to each standard stream the process was started without (`<&-`, `2>&-`):
    Python leaves those None, and the lowest free descriptor would go to the next file opened
    (the state being written), where git's output for --push would then land. A closed stdin
    reads as no terminal, a closed stderr discards what goes there, as `2>/dev/null` does.
    False when stdout is closed: the plan or report is what a command is run for."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: `fd` itself
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            closed.append(fd)
    if 0 in closed:
        sys.stdin = open(0, closefd=False)  # noqa: SIM115  # the process's own, as Python's is
    if 2 in closed:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    return 1 not in closed


def _aborted(args: Sequence[str]) -> int:
    # Only the commands that write the state have recorded anything to speak of.
    command = next((arg for arg in args if not arg.startswith("-")), None)
    click.echo(
        "Aborted. Whatever the API accepted before is recorded in the state; run the command again to finish."
        if command in _RECORDING
        else "Aborted.",
        err=True,
    )
    return ERROR


def _run(argv: Sequence[str] | None, seams: Seams) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = cli.main(args=args, prog_name="statusync", standalone_mode=False, obj=seams)
    except click.exceptions.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort)
        return _aborted(args)
    except click.ClickException as exc:
        # Usage errors exit 1 like every other error (click's own default would be 2,
        # which the contract reserves for "changes pending").
        exc.show()
        return ERROR
    except StatusyncError as exc:
        # Every line labelled (the problems of several files are several errors), and made
        # printable: messages carry file names and the API's own words.
        click.echo(labelled("error: ", str(exc)), err=True)
        if isinstance(exc, InvalidInput):
            from statusync.github.annotations import annotate

            # On GitHub Actions, also as annotations on the files' lines (nothing elsewhere).
            annotate(exc.problems, sys.stderr, seams.env, Path.cwd())
        return ERROR
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            return report_crash()
        # Output to a full disk (`> file`), which a command does not check at each write.
        click.echo(labelled("error: ", f"cannot write: {exc.strerror}; free some space"), err=True)
        return ERROR
    except Exception as exc:
        if _interrupted(exc):
            return _aborted(args)
        return report_crash()  # a bug: keep the details, show a short message
    return code if isinstance(code, int) else OK


def _interrupted(exc: BaseException) -> bool:
    """Whether `exc` is Ctrl-C or SIGTERM in disguise: Python wraps a KeyboardInterrupt raised
    in some places (a class body of a module being imported calls __set_name__) in a
    RuntimeError, which is no bug of statusync."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


# A disk or a quota that is full, a file grown past its limit.
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def report_crash() -> int:
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="statusync-crash-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        log.write(f"statusync {__version__}\n")
        traceback.print_exc(file=log)
    kind = type(sys.exc_info()[1]).__name__
    click.echo(f"statusync: internal error ({kind}); this is a bug. Details were written to {path}", err=True)
    return ERROR
