"""statusync.yaml (all keys optional) plus environment overrides -> Settings."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from statusync.core.model import ACCOUNT_NAME_PATTERN
from statusync.environment import env_value
from statusync.errors import InvalidInput, Problem
from statusync.files import CATALOG_NAME, yamldoc
from statusync.files import SETTINGS_FILE as SETTINGS_FILE  # importers of the settings take it here
from statusync.files.reading import read_regular
from statusync.files.validation import validate
from statusync.sendcloud.credentials import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    DEFAULT_TOKEN_URL,
    PUBLIC_KEY_ENV,
    SECRET_KEY_ENV,
)
from statusync.sendcloud.languages import DEFAULT_LANGUAGE, Language
from statusync.sendcloud.urls import API_URL_ENV, api_url_problem, url_problem
from statusync.text import quote

DEFAULT_API_URL = "https://panel.sendcloud.sc/api/v3"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


EnvName = Annotated[str, Field(strict=True, min_length=1)]
# The keys each kind of account uses; one set with the other auth is an error, not silently unused.
BASIC_KEYS = ("public_key_env", "secret_key_env")
OAUTH2_KEYS = ("client_id_env", "client_secret_env", "token_url")
# What may travel in an HTTP header: visible ASCII, no spaces.
_HEADER_VALUE = re.compile(r"[!-~]+")
# An environment variable's name as shells and GitHub Actions allow it.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# Far above any API's limit, and within what the pacing's floats carry (past 1e308 they overflow).
MAX_PER_MINUTE = 1_000_000_000


class RateLimitSettings(_Strict):
    unsafe_per_minute: Annotated[int, Field(strict=True, gt=0, le=MAX_PER_MINUTE)] = 100
    safe_per_minute: Annotated[int, Field(strict=True, gt=0, le=MAX_PER_MINUTE)] = 1000


class AccountSettings(_Strict):
    auth: Literal["basic", "oauth2"] = "basic"
    public_key_env: EnvName = PUBLIC_KEY_ENV
    secret_key_env: EnvName = SECRET_KEY_ENV
    client_id_env: EnvName = CLIENT_ID_ENV
    client_secret_env: EnvName = CLIENT_SECRET_ENV
    token_url: Annotated[str, Field(strict=True, min_length=1)] = DEFAULT_TOKEN_URL
    # The account's own limits (Sendcloud's are per account); None: the top-level rate_limit.
    rate_limit: RateLimitSettings | None = None

    def credential_envs(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """The two env variables holding this account's credentials, each with what it holds."""
        if self.auth == "oauth2":
            return (
                (self.client_id_env, "OAuth2 client id"),
                (self.client_secret_env, "OAuth2 client secret"),
            )
        return (self.public_key_env, "API public key"), (self.secret_key_env, "API secret key")


class SafetySettings(_Strict):
    max_change_percent: Annotated[float, Field(strict=True, ge=0, le=100)] = 30
    min_managed: Annotated[int, Field(strict=True, ge=0)] = 10


class Settings(_Strict):
    api_url: Annotated[str, Field(strict=True, min_length=1)] = DEFAULT_API_URL
    mappings: Annotated[str, Field(strict=True, min_length=1)] = "mappings"
    state: Annotated[str, Field(strict=True, min_length=1)] = ".statusync/state.json"
    on_removed: Literal["forget", "reset"] = "forget"
    safety: SafetySettings = SafetySettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    # "default" always exists (with the standard env names) unless the file redefines it.
    accounts: dict[str, AccountSettings] = Field(default_factory=lambda: {"default": AccountSettings()})
    # Integration ids that `import --all` skips (and `import --integration` refuses without
    # --force): shops deliberately left unmanaged, forgotten or reset, which a rerun of
    # --all would otherwise adopt again. Ids as the mapping files allow them (exact in JSON).
    exclude: tuple[Annotated[int, Field(strict=True, gt=0, le=2**53 - 1)], ...] = ()
    # Sent as the Sendcloud-Partner-Id header on every API request, as Sendcloud asks partners to.
    partner_id: Annotated[str, Field(strict=True, min_length=1)] | None = None
    # The language the shop statuses' names are read in (statusync statuses, the status catalog).
    language: Language = DEFAULT_LANGUAGE
    # sha256 of statusync.yaml's bytes ("" when there is none): part of a saved plan's fingerprint.
    source_sha256: str = ""

    @field_validator("accounts")
    @classmethod
    def _keep_default(cls, accounts: dict[str, AccountSettings]) -> dict[str, AccountSettings]:
        return {"default": AccountSettings(), **accounts}


def load_settings(root: Path, env: Mapping[str, str]) -> Settings:
    """Read `root/statusync.yaml` when present; env STATUSYNC_API_URL wins over api_url."""
    path = root / SETTINGS_FILE
    try:
        data = read_regular(path)
    except FileNotFoundError:
        data = None
    except OSError as exc:
        problem = Problem(SETTINGS_FILE, None, None, f"cannot read the file: {exc.strerror}")
        raise InvalidInput([problem]) from None
    settings = Settings() if data is None else _parse(data, root)
    url = env_value(env, API_URL_ENV, f"set it to the API's URL (such as {DEFAULT_API_URL})")
    if url is not None:
        settings = settings.model_copy(update={"api_url": url})
    return settings


def state_path_problem(state: str, mappings: str, root: Path) -> str | None:
    """Why the state file `state` cannot sit beside the mapping files under `mappings` (both as
    written, relative to `root`), or None.

    The scan of the mapping files would read a state file among them as a mapping file (and fail
    on it after the first apply), and a state written over statusync.yaml would replace the
    settings. The journal and lock beside the state end in .journal and .lock, which the scan
    never reads; the status catalog beside it is statuses.json, which the state must not be."""
    from statusync.files.mappings import read_by_scan  # not needed to read the settings alone

    path = root / state
    if os.path.normpath(path.absolute()) == os.path.normpath((root / SETTINGS_FILE).absolute()):
        return (
            f"{state} is the settings file, which the state would overwrite; give the state "
            "a file of its own, such as .statusync/state.json"
        )
    if path.name == CATALOG_NAME:
        return (
            f"{state} is named as the status catalog that statusync keeps beside the state, "
            "which would then overwrite it; give the state a file of its own, such as "
            ".statusync/state.json"
        )
    if read_by_scan(path, root / mappings):
        return (
            f"{state} is in the mappings directory {mappings}, where it would be read as a "
            "mapping file; keep the state outside it, such as .statusync/state.json"
        )
    return None


def _parse(data: bytes, root: Path) -> Settings:
    doc = yamldoc.parse(
        yamldoc.decode(data, SETTINGS_FILE),
        SETTINGS_FILE,
        "statusync.yaml needs three levels at most (accounts, a name, its keys)",
    )
    sha256 = hashlib.sha256(data).hexdigest()
    if doc is None:  # every key is optional, so an empty file means the defaults
        return Settings(source_sha256=sha256)
    if isinstance(doc.data.get("api_url"), str) and (problem := api_url_problem(doc.data["api_url"])):
        doc.report(("api_url",), problem)
    partner_id = doc.data.get("partner_id")
    if isinstance(partner_id, str) and partner_id and not _HEADER_VALUE.fullmatch(partner_id):
        doc.report(
            ("partner_id",),
            "partner_id: must be printable ASCII without spaces "
            "(it is sent as the Sendcloud-Partner-Id header)",
        )
    if "exclude" in doc.data and not isinstance(doc.data["exclude"], list):
        # Said in the user's words (the model would say "a valid tuple").
        doc.report(("exclude",), "exclude: must be a list of integration ids, such as [23452345]")
    _check_state_path(doc, root)
    accounts = doc.data.get("accounts")
    for name, account in accounts.items() if isinstance(accounts, dict) else ():
        if not re.fullmatch(ACCOUNT_NAME_PATTERN, str(name)):
            doc.report(
                ("accounts", name),
                f"accounts: {quote(str(name))} is not an account name: use letters, digits, '.', '_' "
                "and '-' (at most 64, starting with a letter or digit); it names GitHub environments",
                at_key=True,
            )
        if isinstance(account, dict):
            _check_account(doc, str(name), account)
    settings = validate(Settings, doc, internal={"source_sha256"})
    if settings is None:
        raise InvalidInput(doc.problems)
    return settings.model_copy(update={"source_sha256": sha256})


def mappings_path_problem(mappings: str, root: Path) -> str | None:
    """Why the mapping files cannot be looked for under `mappings` (relative to `root`), or None:
    the scan would read statusync.yaml as a mapping file, and fail on it."""
    from statusync.files.mappings import read_by_scan  # not needed to read the settings alone

    if read_by_scan(root / SETTINGS_FILE, root / mappings):
        return (
            f"{mappings} holds {SETTINGS_FILE}, which would be read as a mapping file; keep the "
            "mapping files in a directory of their own, such as mappings"
        )
    return None


def _check_state_path(doc: yamldoc.Document, root: Path) -> None:
    """A state path that clashes with the mapping files or the settings, and mapping files that
    would include the settings, at the key that sets them."""
    state, mappings = doc.data.get("state", Settings().state), doc.data.get("mappings", Settings().mappings)
    if not (isinstance(state, str) and state and isinstance(mappings, str) and mappings):
        return  # the model reports what is not a path
    if (problem := mappings_path_problem(mappings, root)) is not None:
        doc.report(("mappings",), f"mappings: {problem}")
    elif (problem := state_path_problem(state, mappings, root)) is not None:
        doc.report(("state",), f"state: {problem}")  # the default state is never a .yaml file


def _check_account(doc: yamldoc.Document, name: str, account: dict[str, Any]) -> None:
    """What the model cannot say with a location: a token_url that must not be used, and keys
    of the other kind of auth (set by mistake, they would be silently ignored)."""
    url = account.get("token_url")
    if isinstance(url, str) and (problem := url_problem(url, "token URL", DEFAULT_TOKEN_URL)):
        doc.report(("accounts", name, "token_url"), problem)
    for key in (*BASIC_KEYS, "client_id_env", "client_secret_env"):  # the keys that name a variable
        value = account.get(key)
        if isinstance(value, str) and value and not _ENV_NAME.fullmatch(value):
            # No shell, workflow `env:` or GitHub secret can set such a variable: a typo that
            # would otherwise surface as credentials "not set" at the first request.
            doc.report(
                ("accounts", name, key),
                f"accounts.{name}.{key}: {quote(value)} is not an environment variable name: use "
                "letters, digits and '_', not starting with a digit (such as SENDCLOUD_PUBLIC_KEY)",
            )
    auth = account.get("auth", "basic")
    unused: tuple[str, ...]
    if auth == "oauth2":
        unused, other, uses = BASIC_KEYS, "basic", "auth: oauth2"
    elif auth == "basic":
        unused, other = OAUTH2_KEYS, "oauth2"
        uses = "basic auth" if "auth" in account else "basic auth, the default"
    else:
        return  # an auth that is neither is the model's to report
    for key in (k for k in unused if k in account):
        doc.report(
            ("accounts", name, key),
            f"accounts.{name}.{key}: only used with auth: {other} (this account uses {uses})",
            at_key=True,
        )
