"""Command-line wiring: parse options, build the workspace, dispatch, map errors to exit codes."""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import click

from statusync import __version__

from statusync.commands import basic as commands
from statusync.errors import StatusyncError
from statusync.files.lock import DEFAULT_LOCK_TIMEOUT
from statusync.runner.bounded import stop_running
from statusync.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


def workspace_options(func: F) -> F:
    func = click.option("--state", "state", metavar="FILE",
                        help="State file (default: from statusync.yaml, .statusync/state.json).")(func)
    func = click.option("--mappings", "mappings", metavar="DIR",
                        help="Directory of mapping files (default: from statusync.yaml, mappings).")(func)
    return func


format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
    show_default=True, help="text for people, json for scripts, markdown for GitHub.")
parallelism_option = click.option(
    "--parallelism", type=click.IntRange(min=1), default=4, show_default=True,
    help="How many API requests may be in flight at once.")
lock_timeout_option = click.option(
    "--lock-timeout", type=click.FloatRange(min=0), default=DEFAULT_LOCK_TIMEOUT,
    show_default=True, metavar="SECONDS",
    help="How long to wait for another run to release the state.")


def progress_bar_enabled() -> bool:
    # CI logs want one line per item; a bar redrawing itself would be noise there.
    return sys.stderr.isatty() and not os.environ.get("CI")


def color_enabled() -> bool:
    # https://no-color.org: any non-empty NO_COLOR disables colour; so does a non-terminal.
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="statusync")
def cli() -> None:
    """GitOps for Sendcloud shop order status mappings.

    Desired mappings live as YAML files under mappings/; plan shows what would change,
    apply sends only the changed integrations to Sendcloud.
    """


@cli.command()
@workspace_options
@click.option("--remote", is_flag=True,
              help="Also check every external id against the shop's statuses (needs credentials).")
@parallelism_option
def validate(mappings: str | None, state: str | None, remote: bool, parallelism: int) -> int:
    """Check every mapping file and statusync.yaml (offline unless --remote)."""
    ws = Workspace.open(mappings, state)
    if not remote:
        return commands.validate(ws, sys.stdout)
    from statusync.commands import import_ as import_cmd

    return import_cmd.validate_remote(ws, sys.stdout, sys.stderr, parallelism=parallelism,
                                      progress_bar=progress_bar_enabled())


@cli.command()
@workspace_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@format_option
@click.option("--out", "out", metavar="PLANFILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the plan for 'statusync apply PLANFILE'.")
def plan(mappings: str | None, state: str | None, detailed_exitcode: bool, fmt: str,
         out: Path | None) -> int:
    """Show what apply would change (offline, no credentials needed)."""
    return commands.plan(Workspace.open(mappings, state), sys.stdout, fmt=fmt,
                         color=color_enabled(), detailed=detailed_exitcode, planfile=out)


@cli.command()
@workspace_options
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", "-y", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--force", is_flag=True, help="Apply even when the plan exceeds the safety threshold.")
@parallelism_option
@lock_timeout_option
def apply(mappings: str | None, state: str | None, planfile: Path | None, yes: bool, force: bool,
          parallelism: int, lock_timeout: float) -> int:
    """Upsert the changed integrations and record each success in the state."""
    return commands.apply(
        Workspace.open(mappings, state), sys.stdout, sys.stderr, planfile=planfile, yes=yes,
        force=force, parallelism=parallelism, color=color_enabled(), lock_timeout=lock_timeout,
        interactive=sys.stdin.isatty(), progress_bar=progress_bar_enabled(),
    )


@cli.command()
@workspace_options
@format_option
@parallelism_option
def drift(mappings: str | None, state: str | None, fmt: str, parallelism: int) -> int:
    """Compare every managed integration's live mapping with its file."""
    from statusync.commands import drift as drift_cmd

    return drift_cmd.drift(Workspace.open(mappings, state), sys.stdout, sys.stderr, fmt=fmt,
                           color=color_enabled(), parallelism=parallelism,
                           progress_bar=progress_bar_enabled())


@cli.command()
@workspace_options
@click.option("--yes", "-y", is_flag=True, help="Reconcile without asking for confirmation.")
@click.option("--force", is_flag=True, help="Go on even when it exceeds the safety threshold.")
@parallelism_option
@lock_timeout_option
def reconcile(mappings: str | None, state: str | None, yes: bool, force: bool, parallelism: int,
              lock_timeout: float) -> int:
    """Find drift, then upsert the desired mapping of each drifted integration."""
    from statusync.commands import drift as drift_cmd

    return drift_cmd.reconcile(
        Workspace.open(mappings, state), sys.stdout, sys.stderr, yes=yes, force=force,
        parallelism=parallelism, color=color_enabled(), lock_timeout=lock_timeout,
        interactive=sys.stdin.isatty(), progress_bar=progress_bar_enabled())


@cli.command("import")
@workspace_options
@click.option("--integration", "integration_ids", type=click.IntRange(min=1), multiple=True,
              metavar="ID", help="Integration to import (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Import every integration of the account.")
@click.option("--force", is_flag=True, help="Overwrite existing mapping files.")
@click.option("--account", default="default", show_default=True,
              help="Credentials profile to read the integrations with.")
@parallelism_option
@lock_timeout_option
def import_(mappings: str | None, state: str | None, integration_ids: tuple[int, ...], all_: bool,
            force: bool, account: str, parallelism: int, lock_timeout: float) -> int:
    """Write mapping files from the live mappings and record them in the state."""
    if bool(integration_ids) == all_:
        raise click.UsageError("give either --integration ID (one or more) or --all")
    from statusync.commands import import_ as import_cmd

    return import_cmd.import_(
        Workspace.open(mappings, state), sys.stdout, sys.stderr, integration_ids=integration_ids,
        all_=all_, force=force, account=account, parallelism=parallelism,
        lock_timeout=lock_timeout, progress_bar=progress_bar_enabled())


@cli.command()
@workspace_options
@click.option("--check", is_flag=True, help="Change nothing; exit 2 when a file is not canonical.")
def fmt(mappings: str | None, state: str | None, check: bool) -> int:
    """Rewrite mapping files in canonical form, keeping comments."""
    return commands.fmt(Workspace.open(mappings, state), sys.stdout, check=check)


@cli.command()
def schema() -> int:
    """Print the JSON Schema of a mapping file (for editors)."""
    return commands.schema(sys.stdout)


@cli.command()
@workspace_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to serve on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to serve on (0: any free port).")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Seed file of integrations (default: those named by the mapping files).")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="Delay added to every API request.")
@click.option("--post-per-minute", type=click.IntRange(min=1),
              help="Rate limit for POST (answers 429 beyond it).")
@click.option("--get-per-minute", type=click.IntRange(min=1),
              help="Rate limit for GET (answers 429 beyond it).")
def sandbox(mappings: str | None, state: str | None, host: str, port: int, seed: Path | None,
            latency: float, post_per_minute: int | None, get_per_minute: int | None) -> int:
    """Run a local fake Sendcloud API for demos and tests."""
    from statusync.commands.sandbox import run_sandbox

    return run_sandbox(Workspace.open(mappings, state), sys.stdout, host=host, port=port,
                       seed=seed, latency=latency, post_per_minute=post_per_minute,
                       get_per_minute=get_per_minute)


def _interrupt(signum: int, frame: object) -> None:
    # Ctrl-C and SIGTERM (CI cancelling a job, `timeout`, Kubernetes) alike: a run of requests
    # stops at a safe point, after the requests under way finished and were recorded in the
    # state; anywhere else (or when asked twice) the command is interrupted at once.
    if not stop_running():
        raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="statusync: %(message)s", stream=sys.stderr)
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(argv)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(argv: Sequence[str] | None) -> int:
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="statusync",
                        standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort)
        click.echo("Aborted. Whatever the API accepted before is recorded in the state; run the "
                   "command again to finish.", err=True)
        return 1
    except click.ClickException as exc:
        # Usage errors exit 1 like every other error (click's own default would be 2,
        # which the contract reserves for "changes pending").
        exc.show()
        return 1
    except StatusyncError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except Exception:  # a bug: keep the details, show a short message
        return report_crash()
    return code if isinstance(code, int) else 0


def report_crash() -> int:
    fd, path = tempfile.mkstemp(prefix="statusync-crash-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        log.write(f"statusync {__version__}\n")
        traceback.print_exc(file=log)
    kind = type(sys.exc_info()[1]).__name__
    click.echo(f"statusync: internal error ({kind}); this is a bug. Details were written to {path}",
               err=True)
    return 1
