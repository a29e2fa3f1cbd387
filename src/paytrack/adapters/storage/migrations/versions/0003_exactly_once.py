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
    pass


# -- an item belongs to one seller -----------------------------------------------------


def _items_owned_by_one_seller() -> None:
    pass


# -- every part of a refund is >= 0 ----------------------------------------------------


def _refund_parts_non_negative() -> None:
    """refunds: CHECK every stored part >= 0 (the split before 0003 could store a -1)."""
    backwards = op.get_bind().execute(sa.text(
        "SELECT id, payment_id, seller_part, platform_part, tax_part, shipping_part "
        "FROM refunds WHERE seller_part < 0 OR platform_part < 0 OR tax_part < 0 "
        "OR shipping_part < 0 ORDER BY id LIMIT 10")).all()
    if backwards:  # the ledger already holds their postings: a person posts the correction
        listed = "; ".join(f"{r.id} of {r.payment_id} (seller {r.seller_part}, platform "
                           f"{r.platform_part}, tax {r.tax_part}, shipping {r.shipping_part})"
                           for r in backwards)
        raise RuntimeError(
            "refunds were split with a negative part (the largest-remainder split this "
            f"migration replaces), among them: {listed}. Correct them, then migrate again.")
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_refunds_parts_non_negative"),
            "seller_part >= 0 AND platform_part >= 0 AND tax_part >= 0 AND shipping_part >= 0")


# -- no accepted write can overflow a read ---------------------------------------------


def _amounts_overflow_safe() -> None:
    pass


# -- API key prefixes that cannot collide ----------------------------------------------


def _api_key_prefixes() -> None:
    pass


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
