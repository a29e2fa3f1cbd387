"""api keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:42:11.828988
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=True),
        sa.Column("customer_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "revoked_at", paytrack.adapters.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.CheckConstraint(
            "(role = 'seller') = (seller_id IS NOT NULL) AND (role = 'customer') = (customer_id IS NOT NULL)",
            name=op.f("ck_api_keys_binding_matches_role"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'seller', 'customer')", name=op.f("ck_api_keys_role_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
