"""analytics: rollups per year beside those per day and month, so that a range of whole
years (a top list for 2025) reads one row per group instead of twelve; the rollups are
rebuilt from history

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
MEASURES = ("captured", "failed", "gross", "discount", "platform_discount", "tax", "shipping",
            "platform_revenue", "seller_earnings", "fees", "refunded", "refunds", "disputed",
            "disputes", "dispute_losses")
ROLLUPS = {"totals": (), "sellers": ("seller_id",),
           "items": ("seller_id", "item_type", "item_id"), "methods": ("method", "gateway"),
           "coupons": ("coupon_id", "discount_funded_by"), "cohorts": ("cohort_day",)}
DIMENSION_TYPES: dict[str, Any] = {
    "seller_id": sa.String(length=100), "item_type": sa.String(length=40),
    "item_id": sa.String(length=100), "method": sa.String(length=20),
    "gateway": sa.String(length=20), "coupon_id": sa.String(length=40),
    "discount_funded_by": sa.String(length=10), "cohort_day": sa.Date()}


def upgrade() -> None:
    for name, dimensions in ROLLUPS.items():
        table = f"revenue_{name}_year"
        op.create_table(
            table,
            sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column("year", sa.Date(), nullable=False),
            *(sa.Column(d, DIMENSION_TYPES[d], nullable=False) for d in dimensions),
            sa.Column("part", sa.SmallInteger(), nullable=False),
            *(sa.Column(m, sa.BigInteger(), nullable=False) for m in MEASURES),
            sa.PrimaryKeyConstraint("currency", "year", *dimensions, "part",
                                    name=op.f(f"pk_{table}")),
        )
        if "seller_id" in dimensions:
            op.create_index(op.f(f"ix_{table}_seller_id_currency_year"), table,
                            ["seller_id", "currency", "year"])
    # The year rows are empty: with history, the background job (or `paytrack analytics
    # rebuild`) rebuilds every rollup; until then analytics answer 503.
    op.execute(
        "UPDATE analytics_state SET rebuild_required = "
        "EXISTS (SELECT 1 FROM journal_entries WHERE payment_id IS NOT NULL) "
        "OR EXISTS (SELECT 1 FROM payments WHERE status IN ('failed', 'canceled'))")


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
