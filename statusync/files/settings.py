"""statusync.yaml (all keys optional) plus environment overrides -> Settings."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from statusync.files import yamldoc
from statusync.errors import InvalidInput, Problem
from statusync.sendcloud.credentials import PUBLIC_KEY_ENV, SECRET_KEY_ENV
from statusync.sendcloud.urls import API_URL_ENV, api_url_problem
from statusync.files.validation import validate

SETTINGS_FILE = "statusync.yaml"
DEFAULT_API_URL = "https://panel.sendcloud.sc/api/v3"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountSettings(_Strict):
    public_key_env: Annotated[str, Field(strict=True, min_length=1)] = PUBLIC_KEY_ENV
    secret_key_env: Annotated[str, Field(strict=True, min_length=1)] = SECRET_KEY_ENV


class SafetySettings(_Strict):
    max_change_percent: Annotated[float, Field(strict=True, ge=0, le=100)] = 30
    min_managed: Annotated[int, Field(strict=True, ge=0)] = 10


class RateLimitSettings(_Strict):
    unsafe_per_minute: Annotated[int, Field(strict=True, gt=0)] = 100
    safe_per_minute: Annotated[int, Field(strict=True, gt=0)] = 1000


class Settings(_Strict):
    api_url: Annotated[str, Field(strict=True, min_length=1)] = DEFAULT_API_URL
    mappings: Annotated[str, Field(strict=True, min_length=1)] = "mappings"
    state: Annotated[str, Field(strict=True, min_length=1)] = ".statusync/state.json"
    on_removed: Literal["forget", "reset"] = "forget"
    safety: SafetySettings = SafetySettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    # "default" always exists (with the standard env names) unless the file redefines it.
    accounts: dict[str, AccountSettings] = Field(default_factory=lambda: {"default": AccountSettings()})
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
        data = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        raise InvalidInput([Problem(SETTINGS_FILE, None, None, f"cannot read the file: {exc.strerror}")]) from None
    settings = Settings() if data is None else _parse(data)
    if env.get(API_URL_ENV):
        settings = settings.model_copy(update={"api_url": env[API_URL_ENV]})
    return settings


def _parse(data: bytes) -> Settings:
    doc = yamldoc.parse(yamldoc.decode(data, SETTINGS_FILE), SETTINGS_FILE,
                         "statusync.yaml needs three levels at most (accounts, a name, its keys)")
    sha256 = hashlib.sha256(data).hexdigest()
    if doc is None:  # every key is optional, so an empty file means the defaults
        return Settings(source_sha256=sha256)
    if isinstance(doc.data.get("api_url"), str) and (problem := api_url_problem(doc.data["api_url"])):
        doc.report(("api_url",), problem)
    settings = validate(Settings, doc, internal={"source_sha256"})
    if settings is None:
        raise InvalidInput(doc.problems)
    return settings.model_copy(update={"source_sha256": sha256})
