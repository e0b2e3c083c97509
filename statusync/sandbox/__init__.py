"""A local fake of Sendcloud's Integrations API v3 for demos and end-to-end tests."""

from statusync.sandbox.api import SandboxOptions
from statusync.sandbox.faults import FaultRule
from statusync.sandbox.seed import (
    DEMO_CREDENTIALS, IntegrationSeed, demo_credentials, load_seed_file, seed_from_specs,
)
from statusync.sandbox.server import DEFAULT_PORT, SandboxServer, serve
from statusync.sandbox.store import (
    PRESTASHOP_V2, Integration, LoggedRequest, SandboxStore, ShopStatus,
)

__all__ = [
    "DEFAULT_PORT", "DEMO_CREDENTIALS", "PRESTASHOP_V2", "FaultRule", "Integration",
    "IntegrationSeed", "LoggedRequest", "SandboxOptions", "SandboxServer", "SandboxStore",
    "ShopStatus", "demo_credentials", "load_seed_file", "seed_from_specs", "serve",
]
