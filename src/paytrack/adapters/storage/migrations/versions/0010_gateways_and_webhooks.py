"""gateways and webhooks: gateway configurations, webhook deliveries, checkouts on payments,
refunds and payouts carried out at a gateway

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 07:40:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import paytrack.adapters.storage.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
OPEN_CHECKOUT = ("status IN ('pending', 'processing') "
                 "AND payment_url_expires_at IS NOT NULL")
TO_SUBMIT = "next_submit_at IS NOT NULL"


def _where(condition: str) -> dict[str, Any]:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def _submission(utc: sa.types.TypeEngine) -> list[sa.Column]:
    return [sa.Column("next_submit_at", utc, nullable=True),
            sa.Column("submitted_at", utc, nullable=True),
            sa.Column("submit_attempts", sa.Integer(), server_default="0", nullable=False),
            sa.Column("last_error", sa.String(length=500), nullable=True)]


def upgrade() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

    op.add_column("payments", sa.Column("gateway_order_id", sa.String(length=200)))
    op.add_column("payments", sa.Column("payment_url", sa.String(length=2048)))
    op.add_column("payments", sa.Column("payment_url_expires_at", utc))
    op.add_column("payments", sa.Column("gateway_mode", sa.String(length=4)))
    op.create_index("uq_payments_gateway_gateway_order_id", "payments",
                    ["gateway", "gateway_order_id"], unique=True)
    op.create_index(op.f("ix_payments_gateway_payment_id"), "payments", ["gateway_payment_id"])
    op.create_index(op.f("ix_payments_gateway_order_id"), "payments", ["gateway_order_id"])
    op.create_index("ix_payments_open_checkout_expiry", "payments", ["payment_url_expires_at"],
                    **_where(OPEN_CHECKOUT))

    for column in _submission(utc):
        op.add_column("refunds", column)
    op.create_index(op.f("ix_refunds_gateway_refund_id"), "refunds", ["gateway_refund_id"])
    op.create_index("ix_refunds_to_submit", "refunds", ["next_submit_at"], **_where(TO_SUBMIT))

    op.add_column("payouts", sa.Column("gateway", sa.String(length=20)))
    op.add_column("payouts", sa.Column("gateway_payout_id", sa.String(length=200)))
    for column in _submission(utc):
        op.add_column("payouts", column)
    op.create_index("uq_payouts_gateway_gateway_payout_id", "payouts",
                    ["gateway", "gateway_payout_id"], unique=True)
    op.create_index("ix_payouts_to_submit", "payouts", ["next_submit_at"], **_where(TO_SUBMIT))

    op.create_table(
        "gateway_configs",
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("credentials_encrypted", sa.Text(), nullable=False),
        sa.Column("hints", json, nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.CheckConstraint("mode IN ('test', 'live')", name=op.f("ck_gateway_configs_mode_known")),
        sa.PrimaryKeyConstraint("gateway", "mode", name=op.f("pk_gateway_configs")),
    )
    op.create_index("uq_gateway_configs_active", "gateway_configs", ["gateway"], unique=True,
                    **_where("active"))

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=True),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("signature_valid", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", json, nullable=False),
        sa.Column("events", json, nullable=False),
        sa.Column("result", json, nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("times_received", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", utc, nullable=False),
        sa.Column("last_received_at", utc, nullable=False),
        sa.Column("processed_at", utc, nullable=True),
        sa.CheckConstraint("status IN ('processed', 'ignored', 'failed', 'rejected')",
                           name=op.f("ck_webhook_deliveries_status_known")),
        sa.CheckConstraint("signature_valid OR (status = 'rejected' AND event_id IS NULL)",
                           name=op.f("ck_webhook_deliveries_rejected_is_unsigned")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("gateway", "event_id",
                            name=op.f("uq_webhook_deliveries_gateway_event_id")),
    )
    op.create_index(op.f("ix_webhook_deliveries_status_id"), "webhook_deliveries",
                    ["status", "id"])
    op.create_index(op.f("ix_webhook_deliveries_payment_id"), "webhook_deliveries",
                    ["payment_id"])
    op.create_index(op.f("ix_webhook_deliveries_received_at"), "webhook_deliveries",
                    ["received_at"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
