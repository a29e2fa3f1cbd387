"""disputes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import paytrack.adapters.storage.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
DISPUTE_STATUSES = ("open", "under_review", "won", "lost")
REASON_CODES = ("fraudulent", "product_not_received", "product_unacceptable", "duplicate",
                "subscription_canceled", "unrecognized", "credit_not_processed", "general")
CAPTURED = ("partially_refunded", "succeeded")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("gateway_dispute_id", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("reason_code", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=True),
        sa.Column("due_by", utc, nullable=True),
        sa.Column("evidence", json, nullable=False),
        sa.Column("seller_part", sa.BigInteger(), nullable=False),
        sa.Column("platform_part", sa.BigInteger(), nullable=False),
        sa.Column("tax_part", sa.BigInteger(), nullable=False),
        sa.Column("shipping_part", sa.BigInteger(), nullable=False),
        sa.Column("discount_part", sa.BigInteger(), nullable=False),
        sa.Column("payment_status_before", sa.String(length=20), nullable=False),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("opened_at", utc, nullable=False),
        sa.Column("under_review_at", utc, nullable=True),
        sa.Column("won_at", utc, nullable=True),
        sa.Column("lost_at", utc, nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_disputes_amount_positive")),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_disputes_fee_non_negative")),
        sa.CheckConstraint(_in("status", DISPUTE_STATUSES),
                           name=op.f("ck_disputes_status_known")),
        sa.CheckConstraint(_in("reason_code", REASON_CODES),
                           name=op.f("ck_disputes_reason_code_known")),
        sa.CheckConstraint(_in("payment_status_before", CAPTURED),
                           name=op.f("ck_disputes_payment_status_before_captured")),
        sa.CheckConstraint(
            "seller_part >= 0 AND platform_part >= 0 AND tax_part >= 0 AND shipping_part >= 0 "
            "AND discount_part >= 0", name=op.f("ck_disputes_parts_non_negative")),
        sa.CheckConstraint(
            "seller_part + platform_part + tax_part + shipping_part = amount + discount_part",
            name=op.f("ck_disputes_parts_are_amount")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"],
                                name=op.f("fk_disputes_payment_id_payments")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"],
                                name=op.f("fk_disputes_seller_id_sellers")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_disputes_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("gateway", "gateway_dispute_id",
                            name=op.f("uq_disputes_gateway_gateway_dispute_id")),
    )
    op.create_index(op.f("ix_disputes_payment_id_id"), "disputes", ["payment_id", "id"])
    op.create_index(op.f("ix_disputes_seller_id_id"), "disputes", ["seller_id", "id"])
    op.create_index(op.f("ix_disputes_status_id"), "disputes", ["status", "id"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
