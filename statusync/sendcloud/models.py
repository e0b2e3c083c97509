"""What the Sendcloud API answers, parsed leniently: unknown fields are ignored, so additions to the
API do not break statusync; the fields statusync relies on are checked."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from statusync.core.model import CATEGORIES, MappingDict

T = TypeVar("T")


class _Lenient(BaseModel):
    # coerce_numbers_to_str: an external_id the API sends as a number still compares as the string
    # the mapping files hold.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)


class Envelope(_Lenient, Generic[T]):
    """Every successful answer statusync reads wraps its payload in `data`."""

    data: T


class LiveMappingEntry(_Lenient):
    """One category of a live mapping."""

    category: str = Field(alias="status_category")
    external_id: str | None
    # False when external_id points at a shop status that was deleted since it was mapped.
    is_valid: bool = True


class LiveMapping(_Lenient):
    """An integration's mapping as the API has it now."""

    integration_id: int
    entries: tuple[LiveMappingEntry, ...] = Field(alias="mapping")

    def as_mapping(self) -> MappingDict:
        """Category -> external id in CATEGORIES order; a category the API leaves out is
        unmapped."""
        live = {e.category: e.external_id for e in self.entries}
        return {c: live.get(c) for c in CATEGORIES}

    def invalid_entries(self) -> tuple[LiveMappingEntry, ...]:
        return tuple(e for e in self.entries if not e.is_valid)


class ShopStatus(_Lenient):
    """One order status of the shop: what a mapping's external_id refers to."""

    external_id: str
    status: str = ""  # the name, in the account's language
    deleted_at: datetime | None = None


class Integration(_Lenient):
    """One of the account's shop integrations (any type; only PrestaShop V2 has a mapping)."""

    id: int
    shop_name: str | None = None
    type: str | None = None
