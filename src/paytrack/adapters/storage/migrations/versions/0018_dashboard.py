"""dashboard: its users (username and argon2 password hash, admin or bound to a seller) and
its signed-in browsers (the SHA-256 of a session's token, whom it stands for, its CSRF
token, when it ends)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
                     nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "dashboard_users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("username_key", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=True),
        _when("created_at"),
        _when("disabled_at", nullable=True),
        sa.CheckConstraint("(role = 'seller') = (seller_id IS NOT NULL)",
                           name=op.f("ck_dashboard_users_binding_matches_role")),
        sa.CheckConstraint("role IN ('admin', 'seller')",
                           name=op.f("ck_dashboard_users_role_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_users")),
        sa.UniqueConstraint("username_key", name=op.f("uq_dashboard_users_username_key")),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("api_key_id", sa.String(length=40), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=True),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        sa.CheckConstraint("(user_id IS NULL) <> (api_key_id IS NULL)",
                           name=op.f("ck_dashboard_sessions_one_holder")),
        sa.ForeignKeyConstraint(["user_id"], ["dashboard_users.id"],
                                name=op.f("fk_dashboard_sessions_user_id_dashboard_users")),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"],
                                name=op.f("fk_dashboard_sessions_api_key_id_api_keys")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_dashboard_sessions")),
    )
    op.create_index(op.f("ix_dashboard_sessions_expires_at"), "dashboard_sessions",
                    ["expires_at"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
