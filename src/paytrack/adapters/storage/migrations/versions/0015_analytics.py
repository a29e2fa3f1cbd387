"""analytics: revenue deltas appended with every entry about a payment, their rollups per
day and per month, customers' first captures, and the state of the rollups

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
MEASURES = ("captured", "failed", "gross", "discount", "platform_discount", "tax", "shipping",
            "platform_revenue", "seller_earnings", "fees", "refunded", "refunds", "disputed",
            "disputes", "dispute_losses")
ROLLUPS = {"totals": (), "sellers": ("seller_id",),
           "items": ("seller_id", "item_type", "item_id"), "methods": ("method", "gateway"),
           "coupons": ("coupon_id", "discount_funded_by"), "cohorts": ("cohort_month",)}
DIMENSION_TYPES: dict[str, Any] = {"seller_id": sa.String(length=100), "item_type": sa.String(length=40),
                   "item_id": sa.String(length=100), "method": sa.String(length=20),
                   "gateway": sa.String(length=20), "coupon_id": sa.String(length=40),
                   "discount_funded_by": sa.String(length=10), "cohort_month": sa.Date()}


def _measures() -> list[sa.Column]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES]


def upgrade() -> None:
    op.create_table(
        "revenue_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("coupon_id", sa.String(length=40), nullable=True),
        sa.Column("discount_funded_by", sa.String(length=10), nullable=True),
        *_measures(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_deltas")),
    )
    for name, dimensions in ROLLUPS.items():
        for grain in ("day", "month"):
            table = f"revenue_{name}_{grain}"
            op.create_table(
                table,
                sa.Column("currency", sa.String(length=3), nullable=False),
                sa.Column(grain, sa.Date(), nullable=False),
                *(sa.Column(d, DIMENSION_TYPES[d], nullable=False) for d in dimensions),
                sa.Column("part", sa.SmallInteger(), nullable=False),
                *_measures(),
                sa.PrimaryKeyConstraint("currency", grain, *dimensions, "part",
                                        name=op.f(f"pk_{table}")),
            )
            if "seller_id" in dimensions:
                op.create_index(op.f(f"ix_{table}_seller_id_currency_{grain}"), table,
                                ["seller_id", "currency", grain])
    op.create_table(
        "customer_firsts",
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "currency", name=op.f("pk_customer_firsts")),
    )
    op.create_index(op.f("ix_customer_firsts_currency_first_day"), "customer_firsts",
                    ["currency", "first_day"])
    op.create_table(
        "analytics_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("rebuild_required", sa.Boolean(), nullable=False),
        sa.Column("built_at", paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
                  nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_analytics_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_state")),
    )
    # An install with history: the background job (or `paytrack analytics rebuild`) builds
    # the rollups from it; until then analytics answer 503 and verify leaves them out.
    op.execute(
        "INSERT INTO analytics_state (id, tz, rebuild_required) SELECT 1, NULL, "
        "EXISTS (SELECT 1 FROM journal_entries WHERE payment_id IS NOT NULL) "
        "OR EXISTS (SELECT 1 FROM payments WHERE status IN ('failed', 'canceled'))")


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
