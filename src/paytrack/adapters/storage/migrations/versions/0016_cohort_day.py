"""analytics: the cohorts rollup keyed by the day of the customer's first capture (not its
month), so new and returning customers split exactly in day and week buckets too; the
rollups are rebuilt from history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
MEASURES = ("captured", "failed", "gross", "discount", "platform_discount", "tax", "shipping",
            "platform_revenue", "seller_earnings", "fees", "refunded", "refunds", "disputed",
            "disputes", "dispute_losses")


def upgrade() -> None:
    for grain in ("day", "month"):
        table = f"revenue_cohorts_{grain}"
        op.drop_table(table)
        op.create_table(
            table,
            sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column(grain, sa.Date(), nullable=False),
            sa.Column("cohort_day", sa.Date(), nullable=False),
            sa.Column("part", sa.SmallInteger(), nullable=False),
            *(sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES),
            sa.PrimaryKeyConstraint("currency", grain, "cohort_day", "part",
                                    name=op.f(f"pk_{table}")),
        )
    # The cohorts are gone: with history, the background job (or `paytrack analytics
    # rebuild`) rebuilds every rollup; until then analytics answer 503.
    op.execute(
        "UPDATE analytics_state SET rebuild_required = "
        "EXISTS (SELECT 1 FROM journal_entries WHERE payment_id IS NOT NULL) "
        "OR EXISTS (SELECT 1 FROM payments WHERE status IN ('failed', 'canceled'))")


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
