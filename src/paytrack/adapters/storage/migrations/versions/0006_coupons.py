"""coupons and their redemptions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
                     nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("code_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("percent_off", sa.String(length=10), nullable=True),
        sa.Column("amount_off", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("max_discount", sa.BigInteger(), nullable=True),
        sa.Column("min_order_amount", sa.BigInteger(), nullable=True),
        sa.Column("max_redemptions", sa.BigInteger(), nullable=True),
        sa.Column("max_redemptions_per_customer", sa.BigInteger(), nullable=True),
        sa.Column("redemptions_held", sa.BigInteger(), server_default="0", nullable=False),
        _when("starts_at"),
        _when("expires_at"),
        sa.Column("funded_by", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        _when("deactivated_at"),
        sa.Column("deactivation_reason", sa.String(length=500), nullable=True),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.CheckConstraint("code_key = UPPER(code)", name=op.f("ck_coupons_code_key_is_code")),
        sa.CheckConstraint("kind IN ('percent', 'fixed')", name=op.f("ck_coupons_kind_known")),
        sa.CheckConstraint("funded_by IN ('platform', 'seller')",
                           name=op.f("ck_coupons_funded_by_known")),
        sa.CheckConstraint(
            "(kind = 'percent' AND percent_off IS NOT NULL AND amount_off IS NULL) OR "
            "(kind = 'fixed' AND amount_off IS NOT NULL AND currency IS NOT NULL "
            "AND percent_off IS NULL AND max_discount IS NULL)",
            name=op.f("ck_coupons_terms_of_kind")),
        sa.CheckConstraint(
            "(min_order_amount IS NULL AND max_discount IS NULL) OR currency IS NOT NULL",
            name=op.f("ck_coupons_amounts_have_currency")),
        sa.CheckConstraint("amount_off > 0 AND max_discount > 0 AND min_order_amount > 0",
                           name=op.f("ck_coupons_amounts_positive")),
        sa.CheckConstraint("max_redemptions > 0 AND max_redemptions_per_customer > 0",
                           name=op.f("ck_coupons_limits_positive")),
        sa.CheckConstraint(
            "redemptions_held >= 0 AND "
            "(max_redemptions IS NULL OR redemptions_held <= max_redemptions)",
            name=op.f("ck_coupons_held_within_limit")),
        sa.CheckConstraint("starts_at < expires_at", name=op.f("ck_coupons_window_ordered")),
        sa.CheckConstraint("active OR deactivated_at IS NOT NULL",
                           name=op.f("ck_coupons_deactivation_dated")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code_key", name=op.f("uq_coupons_code_key")),
    )
    op.create_table(
        "coupon_targets",
        sa.Column("coupon_id", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.CheckConstraint("target_type IN ('item', 'seller')",
                           name=op.f("ck_coupon_targets_target_type_known")),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"],
                                name=op.f("fk_coupon_targets_coupon_id_coupons")),
        sa.PrimaryKeyConstraint("coupon_id", "target_type", "target_id",
                                name=op.f("pk_coupon_targets")),
    )
    op.create_index(op.f("ix_coupon_targets_target_type_target_id"), "coupon_targets",
                    ["target_type", "target_id"], unique=False)
    op.create_table(
        "coupon_customers",
        sa.Column("coupon_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("redemptions_held", sa.BigInteger(), nullable=False),
        sa.Column("max_redemptions", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("redemptions_held >= 0 AND redemptions_held <= max_redemptions",
                           name=op.f("ck_coupon_customers_held_within_limit")),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"],
                                name=op.f("fk_coupon_customers_coupon_id_coupons")),
        sa.PrimaryKeyConstraint("coupon_id", "customer_id", name=op.f("pk_coupon_customers")),
    )

    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("coupon_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("discount_funded_by", sa.String(length=10),
                                      nullable=True))
        batch_op.create_foreign_key(op.f("fk_payments_coupon_id_coupons"), "coupons",
                                    ["coupon_id"], ["id"])
        batch_op.create_check_constraint(
            op.f("ck_payments_coupon_funded"),
            "(coupon_id IS NULL AND discount_funded_by IS NULL) OR "
            "(coupon_id IS NOT NULL AND discount_funded_by IN ('platform', 'seller'))")

    op.create_table(
        "coupon_redemptions",
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("coupon_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("redeemed_at"),
        _when("released_at"),
        sa.CheckConstraint("status IN ('reserved', 'redeemed', 'released')",
                           name=op.f("ck_coupon_redemptions_status_known")),
        sa.CheckConstraint("status <> 'reserved' OR counted",
                           name=op.f("ck_coupon_redemptions_reserved_is_counted")),
        sa.CheckConstraint("status <> 'released' OR NOT counted",
                           name=op.f("ck_coupon_redemptions_released_is_not_counted")),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"],
                                name=op.f("fk_coupon_redemptions_coupon_id_coupons")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"],
                                name=op.f("fk_coupon_redemptions_payment_id_payments")),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_coupon_redemptions")),
    )
    op.create_index(op.f("ix_coupon_redemptions_coupon_id_status"), "coupon_redemptions",
                    ["coupon_id", "status"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
