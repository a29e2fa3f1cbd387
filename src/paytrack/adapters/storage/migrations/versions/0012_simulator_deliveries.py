"""simulator deliveries: the simulator gateway's own side (checkouts paid on its hosted
page, refunds and payouts it was asked for, webhooks queued for paytrack)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
OUTCOMES = ("succeeded", "card_declined", "insufficient_funds", "delayed", "disputed",
            "refund_fails", "expired")
ORDERS = ("in_order", "reversed", "shuffled")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)
    op.create_table(
        "simulator_checkouts",
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=60), nullable=False),
        sa.Column("gateway_order_id", sa.String(length=60), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("delay_s", sa.Integer(), nullable=False),
        sa.Column("delivery_order", sa.String(length=10), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("settles_at", utc, nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_simulator_checkouts_amount_non_negative")),
        sa.CheckConstraint(_in("outcome", OUTCOMES),
                           name=op.f("ck_simulator_checkouts_outcome_known")),
        sa.CheckConstraint("status IN ('succeeded', 'failed', 'canceled')",
                           name=op.f("ck_simulator_checkouts_status_known")),
        sa.CheckConstraint("duplicates >= 1 AND duplicates <= 5",
                           name=op.f("ck_simulator_checkouts_duplicates_range")),
        sa.CheckConstraint("delay_s >= 0 AND delay_s <= 3600",
                           name=op.f("ck_simulator_checkouts_delay_range")),
        sa.CheckConstraint(_in("delivery_order", ORDERS),
                           name=op.f("ck_simulator_checkouts_delivery_order_known")),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_simulator_checkouts")),
        sa.UniqueConstraint("gateway_payment_id",
                            name=op.f("uq_simulator_checkouts_gateway_payment_id")),
        sa.UniqueConstraint("gateway_order_id",
                            name=op.f("uq_simulator_checkouts_gateway_order_id")),
    )
    op.create_table(
        "simulator_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("gateway_id", sa.String(length=60), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.CheckConstraint("kind IN ('refund', 'payout')",
                           name=op.f("ck_simulator_requests_kind_known")),
        sa.CheckConstraint("outcome IN ('succeeded', 'failed')",
                           name=op.f("ck_simulator_requests_outcome_known")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_simulator_requests_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulator_requests")),
        sa.UniqueConstraint("gateway_id", name=op.f("uq_simulator_requests_gateway_id")),
    )
    op.create_index(op.f("ix_simulator_requests_payment_id"), "simulator_requests",
                    ["payment_id"])
    op.create_table(
        "simulator_webhooks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=60), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", utc, nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("delivered_at", utc, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')",
                           name=op.f("ck_simulator_webhooks_status_known")),
        sa.CheckConstraint("attempts >= 0",
                           name=op.f("ck_simulator_webhooks_attempts_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulator_webhooks")),
    )
    op.create_index(op.f("ix_simulator_webhooks_status_due_at"), "simulator_webhooks",
                    ["status", "due_at"])
    op.create_index(op.f("ix_simulator_webhooks_event_id"), "simulator_webhooks",
                    ["event_id"])
    op.create_index(op.f("ix_simulator_webhooks_payment_id"), "simulator_webhooks",
                    ["payment_id"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
