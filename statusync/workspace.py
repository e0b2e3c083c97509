"""The repository a command works on: settings, paths, mapping files and API clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from statusync.core.model import LoadedSpec
from statusync.core.state import State, ValidatedSpecs
from statusync.environment import env_value
from statusync.errors import StatusyncError
from statusync.files.collector import held_off
from statusync.files.settings import Settings, load_settings, mappings_path_problem, state_path_problem
from statusync.files.state_file import load_state
from statusync.sendcloud.credentials import ClientCredentials, Credentials
from statusync.text import printable

if TYPE_CHECKING:  # httpx is imported only by commands that talk to the API; a saved plan's
    # rules only by the commands that save or read one
    from statusync.files.planfile import Fingerprints
    from statusync.sendcloud.client import SendcloudClient


@dataclass(frozen=True)
class Workspace:
    root: Path
    env: Mapping[str, str]
    settings: Settings
    mappings_dir: Path
    state_path: Path
    # How the API clients wait before a retry (backoff, Retry-After): tests pass a fake.
    retry_sleep: Callable[[float], None] = time.sleep

    @classmethod
    def open(
        cls,
        mappings: str | None,
        state: str | None,
        *,
        env: Mapping[str, str],
        root: Path | None = None,
        retry_sleep: Callable[[float], None] = time.sleep,
    ) -> Workspace:
        """The workspace at `root` (default: the current directory); `env` is the environment
        its settings and credentials are read from (the CLI's seam: options.Seams)."""
        root = Path.cwd() if root is None else root
        settings = load_settings(root, env)
        state_path = root / (state or settings.state)
        if state_path.is_dir() or not state_path.name:
            raise StatusyncError(
                f"the state must be a file, not the directory {state_path}; "
                "give a file path such as .statusync/state.json"
            )
        mappings_dir = root / (mappings or settings.mappings)
        # statusync.yaml's own paths were checked where they are written; an option's are here.
        if mappings and (problem := mappings_path_problem(mappings, root)) is not None:
            raise StatusyncError(f"--mappings: {problem}")
        problem = state_path_problem(state or settings.state, mappings or settings.mappings, root)
        if problem is not None:
            given = "--state" if state else "state: in statusync.yaml"
            raise StatusyncError(f"{given}: {problem}" + (" (--mappings)" if mappings else ""))
        return cls(root, env, settings, mappings_dir, state_path, retry_sleep)

    def state(self) -> State:
        with held_off():
            return load_state(self.state_path)

    def specs(self, trust: State | None = None) -> list[LoadedSpec]:
        """Every mapping file, validated.

        With `trust`, a file whose bytes are those the state recorded is not parsed: its spec is
        taken from the state. `plan` does that (10,000 files on every pull request) and `apply`,
        so that it sends what the plan showed; `validate` parses every file and fails on a state
        edited by hand to say otherwise than a file (statusync.core.state_check), and `drift`
        and `reconcile` parse every file, so that such a state cannot hide one from them.
        """
        from statusync.files.mappings import load_mappings

        index = trust.spec_index() if trust is not None else {}
        validated: ValidatedSpecs = {}  # most shops share a few mappings: each is validated once

        def cached(file: str, sha256: str) -> LoadedSpec | None:
            hit = index.get((file, sha256))
            return hit[1].as_loaded(hit[0], sha256, validated) if hit else None

        with held_off():
            return load_mappings(
                self.mappings_dir, self.root, self.settings.accounts.keys(), cached if index else None
            )

    def state_warnings(self, state: State, specs: Sequence[LoadedSpec]) -> list[str]:
        """What `plan` and `apply` say at the top of the plan: a missing state file while
        mapping files exist (a state never committed, or a typo in `state:` / `--state`) makes
        every file a create, which overwrites the live mapping."""
        if state.entries or state.uncertain or not specs or self.state_path.exists():
            return []
        return [
            f"the state file {printable(self._shown(self.state_path))} does not exist, so "
            "every mapping file is planned as a create, which replaces whatever is live "
            "(expected before the first apply). If the state was not committed or its path "
            "is mistyped (state: in statusync.yaml, --state), fix that first; to adopt shops "
            "as they are live, use 'statusync import'"
        ]

    def _shown(self, path: Path) -> str:
        """`path` relative to the repository when it is inside it, as users write it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def fingerprints(self, state: State, specs: Iterable[LoadedSpec]) -> Fingerprints:
        from statusync.files.planfile import Fingerprints

        return Fingerprints(state.fingerprint, self.settings.source_sha256, {s.file: s.sha256 for s in specs})

    @property
    def api_url(self) -> str:
        return self.settings.api_url  # STATUSYNC_API_URL is applied by load_settings

    def clients(self, accounts: Iterable[str], stack: ExitStack) -> dict[str, SendcloudClient]:
        """One client per account, each with its own rate limits; credentials checked first."""
        from statusync.sendcloud.auth import ClientCredentialsAuth
        from statusync.sendcloud.client import SendcloudClient
        from statusync.sendcloud.ratelimit import TokenBucket, client_burst, client_per_minute

        wanted = sorted(set(accounts))
        creds = {}
        problems = []
        for account in wanted:
            try:
                creds[account] = credentials_for(self.settings, account, self.env)
            except StatusyncError as exc:
                problems.append(str(exc))
        if problems:
            raise StatusyncError("\n".join(problems))
        limits = {a: self.settings.accounts[a].rate_limit or self.settings.rate_limit for a in wanted}
        sources = {account: _key_source(account, self.settings) for account in wanted}
        # One OAuth2 auth per account and run: its token is fetched once and shared by all workers.
        auth = {
            account: ClientCredentialsAuth(c, source=sources[account])
            if isinstance(c, ClientCredentials)
            else c
            for account, c in creds.items()
        }
        return {
            account: stack.enter_context(
                SendcloudClient(
                    self.api_url,
                    auth[account],
                    post_limiter=TokenBucket(
                        client_per_minute(limits[account].unsafe_per_minute),
                        client_burst(limits[account].unsafe_per_minute),
                    ),
                    get_limiter=TokenBucket(
                        client_per_minute(limits[account].safe_per_minute),
                        client_burst(limits[account].safe_per_minute),
                    ),
                    key_source=sources[account],
                    sleep=self.retry_sleep,
                    partner_id=self.settings.partner_id,
                )
            )
            for account in wanted
        }


def _key_source(account: str, settings: Settings) -> str:
    names = " / ".join(name for name, _ in settings.accounts[account].credential_envs())
    return f"{names} (account {account!r})"


def credentials_for(
    settings: Settings, account: str, env: Mapping[str, str]
) -> Credentials | ClientCredentials:
    """The key pair or OAuth2 client credentials of `account`, or an error naming the variables
    to set (never their values)."""
    names = settings.accounts.get(account)
    if names is None:
        raise StatusyncError(f"account {account!r} is not defined under 'accounts' in statusync.yaml")
    envs = names.credential_envs()
    # A blank value is a variable set by mistake (an empty CI secret), not a key.
    for name, role in envs:
        env_value(env, name, f"set it to the Sendcloud {role} of account {account!r}")
    missing = [f"{name} (the Sendcloud {role})" for name, role in envs if name not in env]
    if missing:
        raise StatusyncError(f"missing credentials for account {account!r}: set {' and '.join(missing)}")
    (user, _), (secret, _) = envs
    if names.auth == "oauth2":
        return ClientCredentials(env[user], env[secret], names.token_url)
    return Credentials(env[user], env[secret])
