"""A seller's earning from one captured payment, and what happened to it since.

``net`` was credited to the seller's pending balance at capture (its share less any
gateway fee it bears). Refunds and disputes before the release take the seller's part
from ``pending``; once its hold ends (``available_on``: its capture plus the seller's hold
days, its own or the platform's) a release moves what is left to available (after
recovering any debt the seller has), and refunds after it take from available, then debt.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class HeldDifference(TypedDict):
    """A seller's pending balance that is not what its held earnings add up to."""

    seller_id: str
    currency: str
    pending_balance: int  # the ledger's seller:<id>:pending
    held_by_earnings: int  # the sum of its earnings' pending


class Earning(TypedDict):
    """One row of ``seller_earnings``."""

    payment_id: str
    seller_id: str
    currency: str
    gross: int  # the payment's total
    commission: int  # the platform's fee on it
    net: int  # credited to pending at capture
    pending: int  # of it, still held (0 once released)
    released: int  # moved to available (or to the seller's debt) by the release
    refunded: int  # the seller's part of refunds and lost disputes
    captured_at: datetime
    captured_s: int  # captured_at in Unix seconds: the release compares it with integers
    released_at: datetime | None
    created_at: datetime


class EarningView(Earning):
    """An earning as a seller reads it: with the day its hold ends."""

    available_on: datetime
