"""What drift says of one integration (statusync.core.drift decides it): a module of its own, so
that a plan, which shares its marks (statusync.render.style), need not load drift's rules."""

from __future__ import annotations

from enum import StrEnum


class DriftStatus(StrEnum):
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
