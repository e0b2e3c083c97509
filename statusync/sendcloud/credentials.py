"""An account's API credentials, a key pair (HTTP Basic) or OAuth2 client credentials; never
printed (the workspace reads them from the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field

# The environment variables that hold the key pair unless statusync.yaml names others for an
# account; the sandbox reads the same ones, so one export serves both.
PUBLIC_KEY_ENV = "SENDCLOUD_PUBLIC_KEY"
SECRET_KEY_ENV = "SENDCLOUD_SECRET_KEY"
# The same for an account with `auth: oauth2`.
CLIENT_ID_ENV = "SENDCLOUD_CLIENT_ID"
CLIENT_SECRET_ENV = "SENDCLOUD_CLIENT_SECRET"
# Sendcloud's token endpoint for the client credentials grant (the published OpenAPI document's
# tokenUrl); statusync.yaml's `token_url` replaces it, e.g. with the sandbox's.
DEFAULT_TOKEN_URL = "https://account.sendcloud.com/oauth2/token/"
# Not a credential, but who is calling too: Sendcloud asks partners to send their partner id in
# this header (statusync.yaml's partner_id). Here, so that the sandbox can read it without httpx.
PARTNER_HEADER = "Sendcloud-Partner-Id"


@dataclass(frozen=True)
class Credentials:
    public_key: str
    # repr=False: a credentials object that ends up in a log or traceback shows no secret.
    secret_key: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(public_key=***, secret_key=***)"


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth2 client credentials, exchanged at `token_url` for the Bearer tokens requests carry."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    token_url: str = DEFAULT_TOKEN_URL

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id=***, client_secret=***, token_url={self.token_url!r})"
