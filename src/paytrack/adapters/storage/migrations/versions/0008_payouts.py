"""payouts and encrypted payout accounts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
METHODS = "method IN ('bank_transfer', 'paypal', 'stripe_connect')"
STATUSES = "status IN ('requested', 'approved', 'paid', 'failed', 'canceled')"


def upgrade() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)
    op.create_table(
        "payout_accounts",
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("details_encrypted", sa.Text(), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.CheckConstraint(METHODS, name=op.f("ck_payout_accounts_method_known")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"],
                                name=op.f("fk_payout_accounts_seller_id_sellers")),
        sa.PrimaryKeyConstraint("seller_id", "method", name=op.f("pk_payout_accounts")),
    )
    op.create_table(
        "payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("destination", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=True),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("cancellation_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("approved_at", utc, nullable=True),
        sa.Column("paid_at", utc, nullable=True),
        sa.Column("failed_at", utc, nullable=True),
        sa.Column("canceled_at", utc, nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_amount_positive")),
        sa.CheckConstraint(METHODS, name=op.f("ck_payouts_method_known")),
        sa.CheckConstraint(STATUSES, name=op.f("ck_payouts_status_known")),
        sa.CheckConstraint(
            "status <> 'paid' OR (reference IS NOT NULL AND paid_at IS NOT NULL)",
            name=op.f("ck_payouts_paid_has_reference")),
        sa.CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL",
                           name=op.f("ck_payouts_failed_has_reason")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"],
                                name=op.f("fk_payouts_seller_id_sellers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
    )
    op.create_index(op.f("ix_payouts_seller_id_id"), "payouts", ["seller_id", "id"])
    op.create_index(op.f("ix_payouts_status_id"), "payouts", ["status", "id"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
