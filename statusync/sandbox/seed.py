"""What the sandbox starts with: integrations made from mapping files or from a seed file, and the
key pair it accepts.

A seed file is JSON (`.json`) or YAML (any other name), for example::

    integrations:
      - id: 23452345                 # required, positive integer
        shop_name: ACME NL           # optional, default "Shop <id>"
        type: prestashop_v2          # optional, default prestashop_v2; any other type makes the
                                     # status and mapping endpoints answer 400, as Sendcloud does
        shop_url: https://acme.nl/   # optional
        statuses:                    # optional: the shop's order statuses
          - external_id: "11"        # required, a string (quote numbers)
            name:                    # optional: the name in each language the shop has ...
              en-gb: Shipped
              nl-nl: Verzonden
          - external_id: "12"
            name: Delivered          # ... or one name for every language
            deleted: false           # optional, default false; true = deleted in the shop
        mapping:                     # optional, default all null; any subset of the four categories
          READY_TO_SEND: "11"
          CANCEL: null

    credentials:                     # optional: more key pairs (or OAuth2 clients) it accepts,
      - public_key: pk-eu            # one per account, each with rate limits of its own
        secret_key: sk-eu
        post_per_minute: 600         # optional, default --post-per-minute
        get_per_minute: 3000         # optional, default --get-per-minute

`status: Shipped` is the older spelling of `name: Shipped`. Without a name a status is called
"Status <external_id>". The API answers `GET /shop-order-statuses?language=nl-nl` with the nl-nl
names, and a status without one in en-gb, else in its first language alphabetically, as Sendcloud
does. Languages are Sendcloud's: en-us, en-gb, fr-fr, de-de, nl-nl, es-es, it-it.

Unknown keys, duplicate integration ids, external ids and public keys are errors. A mapping may
name an external id the shop does not have (or deleted): the API then reports it with
`is_valid: false`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from statusync.core.model import CATEGORIES, ExternalId, IntegrationSpec
from statusync.environment import env_value
from statusync.errors import StatusyncError
from statusync.sandbox.limits import CredentialLimit
from statusync.sandbox.payloads import location
from statusync.sandbox.store import (
    PRESTASHOP_V2,
    SandboxStore,
    StoredIntegration,
    StoredStatus,
    Translations,
    utc_timestamp,
)
from statusync.sendcloud.credentials import PUBLIC_KEY_ENV, SECRET_KEY_ENV, Credentials
from statusync.sendcloud.languages import LANGUAGES, Language

V = TypeVar("V", int, str)

# Not a secret: printed at start-up so that a demo works without real keys.
DEMO_CREDENTIALS = Credentials("demo-public-key", "demo-secret-key")

_Strict = ConfigDict(frozen=True, extra="forbid", strict=True)


def demo_credentials(env: Mapping[str, str]) -> tuple[Credentials, bool]:
    """The key pair from PUBLIC_KEY_ENV / SECRET_KEY_ENV (the variables statusync reads by
    default) when both are set, else the demo pair; the flag says whether the pair is the demo one
    (to print at start-up)."""
    public = env_value(env, PUBLIC_KEY_ENV, "set it to the API public key the sandbox accepts")
    secret = env_value(env, SECRET_KEY_ENV, "set it to the API secret key the sandbox accepts")
    if public and secret:
        return Credentials(public, secret), False
    return DEMO_CREDENTIALS, True


def shop_status(
    external_id: str, name: str | Mapping[str, str] | None = None, deleted: bool = False
) -> StoredStatus:
    """A shop status named `name` in every language, or per language; "Status <external_id>"
    (en-gb) unless given."""
    return StoredStatus(
        external_id, translations(name or f"Status {external_id}"), utc_timestamp() if deleted else None
    )


def translations(name: str | Mapping[str, str]) -> Translations:
    """A status's names: one name for every language, or a name per language (sorted)."""
    if isinstance(name, str):  # en-gb first, as the shop's default language
        return tuple((language, name) for language in sorted(LANGUAGES, key=lambda lang: lang != "en-gb"))
    return tuple(sorted(name.items()))


StatusName = Annotated[str, Field(min_length=1)]


class StatusSeed(BaseModel):
    model_config = _Strict
    external_id: ExternalId
    name: StatusName | Annotated[dict[Language, StatusName], Field(min_length=1)] | None = None
    status: StatusName | None = None  # the older spelling of a plain `name`
    deleted: bool = False

    @model_validator(mode="after")
    def _one_name(self) -> StatusSeed:
        if self.name is not None and self.status is not None:
            raise ValueError("give the status's name as name or as status, not both")
        return self

    @property
    def names(self) -> str | dict[str, str] | None:
        if self.name is None:
            return self.status
        return self.name if isinstance(self.name, str) else {str(k): v for k, v in self.name.items()}


class IntegrationSeed(BaseModel):
    """One integration of a seed file, or the body of `POST /_sandbox/integrations`."""

    model_config = _Strict
    id: Annotated[int, Field(gt=0)]
    shop_name: Annotated[str, Field(min_length=1, max_length=250)] | None = None
    type: Annotated[str, Field(min_length=1)] = PRESTASHOP_V2
    shop_url: Annotated[str, Field(min_length=1)] | None = None
    statuses: list[StatusSeed] = []
    mapping: dict[str, ExternalId | None] = {}

    @field_validator("statuses")
    @classmethod
    def _unique_statuses(cls, statuses: list[StatusSeed]) -> list[StatusSeed]:
        if twice := _repeated([s.external_id for s in statuses]):
            raise ValueError(f"duplicate external_id {', '.join(map(repr, twice))}")
        return statuses

    @field_validator("mapping")
    @classmethod
    def _known_categories(cls, mapping: dict[str, str | None]) -> dict[str, str | None]:
        unknown = [c for c in mapping if c not in CATEGORIES]
        if unknown:
            raise ValueError(
                f"unknown status category {', '.join(map(repr, unknown))} (expected {', '.join(CATEGORIES)})"
            )
        return mapping

    def integration(self) -> StoredIntegration:
        return StoredIntegration(
            id=self.id,
            shop_name=self.shop_name or f"Shop {self.id}",
            type=self.type,
            shop_url=self.shop_url or "",
            statuses=tuple(shop_status(s.external_id, s.names, s.deleted) for s in self.statuses),
            mapping=tuple(self.mapping.get(c) for c in CATEGORIES),
        )


class CredentialSeed(BaseModel):
    model_config = _Strict
    public_key: Annotated[str, Field(min_length=1)]
    secret_key: Annotated[str, Field(min_length=1)]
    post_per_minute: Annotated[int, Field(gt=0)] | None = None
    get_per_minute: Annotated[int, Field(gt=0)] | None = None


@dataclass(frozen=True)
class Seed:
    """What a seed file holds: the integrations, and the credentials with their limits."""

    store: SandboxStore
    credentials: tuple[Credentials, ...] = ()
    limits: tuple[CredentialLimit, ...] = ()


class SeedFile(BaseModel):
    model_config = _Strict
    integrations: list[IntegrationSeed]
    credentials: list[CredentialSeed] = []

    @field_validator("credentials")
    @classmethod
    def _unique_keys(cls, credentials: list[CredentialSeed]) -> list[CredentialSeed]:
        if twice := _repeated([c.public_key for c in credentials]):
            raise ValueError(f"duplicate public_key {', '.join(map(repr, twice))}")
        return credentials

    @field_validator("integrations")
    @classmethod
    def _unique_ids(cls, integrations: list[IntegrationSeed]) -> list[IntegrationSeed]:
        if twice := _repeated([i.id for i in integrations]):
            raise ValueError(f"duplicate integration id {', '.join(map(str, twice))}")
        return integrations


def _repeated(values: list[V]) -> list[V]:
    """The values that occur more than once, sorted."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


def seed_from_specs(specs: Iterable[IntegrationSpec]) -> SandboxStore:
    """A store with every integration the specs name (PrestaShop V2, named after the spec) and a
    live shop status for every external id they use, so that applying them succeeds; all
    mappings start unmapped."""
    names: dict[int, str] = {}
    used: dict[int, dict[str, None]] = {}  # dict as an ordered set
    for spec in specs:
        names.setdefault(spec.integration_id, spec.name or f"Shop {spec.integration_id}")
        ids = used.setdefault(spec.integration_id, {})
        ids.update(dict.fromkeys(e for e in spec.mapping.as_dict().values() if e is not None))
    return SandboxStore(
        StoredIntegration(id=i, shop_name=names[i], statuses=tuple(shop_status(e) for e in used[i]))
        for i in sorted(names)
    )


def load_seed_file(path: str | Path) -> SandboxStore:
    """A store from a seed file (format in the module docstring); StatusyncError when invalid."""
    return load_seed(path).store


def load_seed(path: str | Path) -> Seed:
    """Everything a seed file holds (format in the module docstring); StatusyncError when invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StatusyncError(f"cannot read seed file {path}: {exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text)
    except (ValueError, YAMLError) as exc:
        raise StatusyncError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from None
    try:
        seed = SeedFile.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {location(e['loc']) or '(top)'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise StatusyncError(f"{path}: invalid seed file\n{problems}") from None
    return Seed(
        SandboxStore(i.integration() for i in seed.integrations),
        tuple(Credentials(c.public_key, c.secret_key) for c in seed.credentials),
        tuple(CredentialLimit(c.public_key, c.post_per_minute, c.get_per_minute) for c in seed.credentials),
    )
