"""An account's API key pair; never printed (the workspace reads it from the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field

# The environment variables that hold the key pair unless statusync.yaml names others for an
# account; the sandbox reads the same ones, so one export serves both.
PUBLIC_KEY_ENV = "SENDCLOUD_PUBLIC_KEY"
SECRET_KEY_ENV = "SENDCLOUD_SECRET_KEY"


@dataclass(frozen=True)
class Credentials:
    public_key: str
    # repr=False: a credentials object that ends up in a log or traceback shows no secret.
    secret_key: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(public_key=***, secret_key=***)"
