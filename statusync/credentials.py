"""API key pairs, read from the environment variables an account names; never printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from statusync.errors import StatusyncError
from statusync.settings import Settings


@dataclass(frozen=True)
class Credentials:
    public_key: str
    # repr=False: a credentials object that ends up in a log or traceback shows no secret.
    secret_key: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(public_key=***, secret_key=***)"


def credentials_for(settings: Settings, account: str, env: Mapping[str, str]) -> Credentials:
    """The key pair of `account`, or an error naming the variables to set (never their values)."""
    names = settings.accounts.get(account)
    if names is None:
        raise StatusyncError(f"account {account!r} is not defined under 'accounts' in statusync.yaml")
    missing = [n for n in (names.public_key_env, names.secret_key_env) if not env.get(n)]
    if missing:
        raise StatusyncError(
            f"missing credentials for account {account!r}: set {' and '.join(missing)} "
            "to the Sendcloud API public and secret key"
        )
    return Credentials(env[names.public_key_env], env[names.secret_key_env])
