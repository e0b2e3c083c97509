"""API key pairs, read from the environment variables an account names; never printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from statusync.errors import StatusyncError
from statusync.files.settings import Settings


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
    roles = {names.public_key_env: "public key", names.secret_key_env: "secret key"}
    # A blank value is a variable set by mistake (an empty CI secret), not a key.
    missing = [f"{name} (the Sendcloud API {role})" for name, role in roles.items()
               if not env.get(name, "").strip()]
    if missing:
        raise StatusyncError(
            f"missing credentials for account {account!r}: set {' and '.join(missing)}")
    return Credentials(env[names.public_key_env], env[names.secret_key_env])
