"""A local fake of Sendcloud's Integrations API v3, for demos (`statusync sandbox`) and for
end-to-end tests, over real HTTP on loopback.

    server.py    SandboxServer: the stdlib threaded HTTP server, in the background or foreground
    api.py       SandboxApi: routing, auth and answers as the real API gives them
    limits.py    RateLimits: a POST and a GET bucket per credential, as Sendcloud's are per account
    oauth.py     TokenEndpoint: POST /oauth2/token/, the OAuth2 client credentials grant
    admin.py     the /_sandbox/ control panel: request log, injected faults, hand edits, tokens
    payloads.py  request bodies as the spec defines them, and RequestRejected (JSON:API errors)
    faults.py    FaultRule: make matching requests fail or drop, to test a client's retries
    store.py     SandboxStore: StoredIntegration and StoredStatus values, the request log
    seed.py      what the sandbox starts with: from mapping files, a seed file or demo keys

May import: the standard library's http.server, pydantic, ruamel (seed files only),
statusync.errors, statusync.text and statusync.environment, statusync.core.model (the categories
and specs) and statusync.sendcloud for the rules it shares with the client (TokenBucket, loopback
URLs, the key variables). Nothing from statusync.commands, files or runner: the sandbox stands in
for the API, not for statusync; and only the `sandbox` command imports it.
Its names are its own (RequestRejected, StoredIntegration) so they never pass for the client's.
"""

from statusync.sandbox.api import SandboxOptions
from statusync.sandbox.faults import FaultRule
from statusync.sandbox.limits import CredentialLimit
from statusync.sandbox.seed import (
    DEMO_CREDENTIALS,
    IntegrationSeed,
    Seed,
    demo_credentials,
    load_seed,
    load_seed_file,
    seed_from_specs,
)
from statusync.sandbox.server import DEFAULT_PORT, SandboxServer, serve
from statusync.sandbox.store import (
    PRESTASHOP_V2,
    LoggedRequest,
    SandboxStore,
    StoredIntegration,
    StoredStatus,
)

__all__ = [
    "DEFAULT_PORT",
    "DEMO_CREDENTIALS",
    "PRESTASHOP_V2",
    "FaultRule",
    "IntegrationSeed",
    "Seed",
    "LoggedRequest",
    "SandboxOptions",
    "SandboxServer",
    "SandboxStore",
    "StoredIntegration",
    "StoredStatus",
    "demo_credentials",
    "CredentialLimit",
    "load_seed",
    "load_seed_file",
    "seed_from_specs",
    "serve",
]
