"""Customers, sellers and items: the parties a payment names, by the platform's own ids.

Each is created on first reference and editable later. An item belongs to one seller: its
payments are that seller's, so an item with payments cannot move to another seller. A
seller's ``commission_rate`` (a decimal fraction, see ``splits.parse_rate``) overrides the
platform's default; None means the default applies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypedDict

PartyKind = Literal["customer", "seller"]


class Customer(TypedDict):
    id: str
    name: str | None
    email: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class Seller(TypedDict):
    id: str
    name: str | None
    email: str | None
    commission_rate: str | None  # "0.15"; None: the platform default
    hold_days: int | None  # days earnings stay pending; None: the platform default
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


Party = Customer | Seller


class Item(TypedDict):
    """What is sold (``item_type``: course, event, product, service, booking …); ``id`` is
    unique within its type."""

    item_type: str
    id: str
    seller_id: str
    title: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
