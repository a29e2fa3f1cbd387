"""orders and subscriptions: what payments pay for (orders with their lines, a customer's
subscriptions), and each payment's link to them

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import paytrack.adapters.storage.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
ORDER_STATUSES = ("pending", "confirmed", "cancelled", "partially_refunded", "refunded")
SUBSCRIPTION_STATUSES = ("pending_payment", "active", "past_due", "canceled", "expired",
                         "incomplete_expired")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stream", sa.String(length=100), nullable=True),
        sa.Column("referral_code", sa.String(length=64), nullable=True),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("discount_percent", sa.String(length=8), nullable=True),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("shipping", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("metadata", json, nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("confirmed_at", utc, nullable=True),
        sa.Column("cancelled_at", utc, nullable=True),
        sa.Column("refunded_at", utc, nullable=True),
        sa.Column("settle_due_at", utc, nullable=True),
        sa.CheckConstraint("subtotal > 0", name=op.f("ck_orders_subtotal_positive")),
        sa.CheckConstraint("discount >= 0 AND tax >= 0 AND shipping >= 0",
                           name=op.f("ck_orders_parts_non_negative")),
        sa.CheckConstraint("discount <= subtotal", name=op.f("ck_orders_discount_within_subtotal")),
        sa.CheckConstraint("total = subtotal - discount + tax + shipping",
                           name=op.f("ck_orders_total_is_breakdown")),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= total",
                           name=op.f("ck_orders_refunded_within_total")),
        sa.CheckConstraint(_in("status", ORDER_STATUSES), name=op.f("ck_orders_status_known")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_orders_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_customer_id_id"), "orders", ["customer_id", "id"])
    op.create_index(op.f("ix_orders_status_id"), "orders", ["status", "id"])
    op.create_index(op.f("ix_orders_stream_id"), "orders", ["stream", "id"])
    op.create_index(op.f("ix_orders_created_at"), "orders", ["created_at"])
    op.create_index(op.f("ix_orders_settle_due_at"), "orders", ["settle_due_at"])

    op.create_table(
        "order_lines",
        sa.Column("id", serial, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("stream", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("shipping", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_order_lines_unit_price_non_negative")),
        sa.CheckConstraint("amount = quantity * unit_price",
                           name=op.f("ck_order_lines_amount_is_quantity_times_price")),
        sa.CheckConstraint("discount >= 0 AND discount <= amount",
                           name=op.f("ck_order_lines_discount_within_amount")),
        sa.CheckConstraint("tax >= 0 AND shipping >= 0",
                           name=op.f("ck_order_lines_parts_non_negative")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name=op.f("fk_order_lines_order_id_orders")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"],
                                name=op.f("fk_order_lines_seller_id_sellers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("order_id", "line_no", name=op.f("uq_order_lines_order_id_line_no")),
    )
    op.create_index(op.f("ix_order_lines_item_id_item_type_stream"), "order_lines",
                    ["item_id", "item_type", "stream"])
    op.create_index(op.f("ix_order_lines_seller_id_order_id"), "order_lines",
                    ["seller_id", "order_id"])
    op.create_index(op.f("ix_order_lines_payment_id"), "order_lines", ["payment_id"])

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("period_months", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=True),
        sa.Column("current_period_start", utc, nullable=True),
        sa.Column("current_period_end", utc, nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("open_payment_id", sa.String(length=40), nullable=True),
        sa.Column("upgrade_item_id", sa.String(length=100), nullable=True),
        sa.Column("upgrade_fee", sa.BigInteger(), nullable=True),
        sa.Column("renewals", sa.Integer(), server_default="0", nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("metadata", json, nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("activated_at", utc, nullable=True),
        sa.Column("canceled_at", utc, nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("ended_at", utc, nullable=True),
        sa.CheckConstraint("fee > 0", name=op.f("ck_subscriptions_fee_positive")),
        sa.CheckConstraint("period_months >= 1 AND period_months <= 120",
                           name=op.f("ck_subscriptions_period_months_range")),
        sa.CheckConstraint("upgrade_fee IS NULL OR upgrade_fee > fee",
                           name=op.f("ck_subscriptions_upgrade_costs_more")),
        sa.CheckConstraint("(upgrade_item_id IS NULL) = (upgrade_fee IS NULL)",
                           name=op.f("ck_subscriptions_upgrade_complete")),
        sa.CheckConstraint("renewals >= 0", name=op.f("ck_subscriptions_renewals_non_negative")),
        sa.CheckConstraint(_in("status", SUBSCRIPTION_STATUSES),
                           name=op.f("ck_subscriptions_status_known")),
        sa.CheckConstraint("status NOT IN ('active', 'past_due') OR (current_period_start IS "
                           "NOT NULL AND current_period_end > current_period_start)",
                           name=op.f("ck_subscriptions_running_has_period")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_subscriptions_customer_id_customers")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"],
                                name=op.f("fk_subscriptions_seller_id_sellers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(op.f("ix_subscriptions_customer_id_id"), "subscriptions",
                    ["customer_id", "id"])
    op.create_index(op.f("ix_subscriptions_seller_id_id"), "subscriptions", ["seller_id", "id"])
    op.create_index(op.f("ix_subscriptions_status_current_period_end"), "subscriptions",
                    ["status", "current_period_end"])

    op.add_column("payments", sa.Column("order_ref", sa.String(length=40), nullable=True))
    op.add_column("payments", sa.Column("subscription_id", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_payments_order_ref"), "payments", ["order_ref"])
    op.create_index(op.f("ix_payments_subscription_id_id"), "payments", ["subscription_id", "id"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
