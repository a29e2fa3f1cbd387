"""event outbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import paytrack.adapters.storage.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
DELIVERY_STATUSES = "status IN ('pending', 'delivering', 'succeeded', 'failed', 'dead')"


def upgrade() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("data", json, nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("dispatched_at", utc, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_object_id_id"), "events", ["object_id", "id"])
    op.create_index("ix_events_undispatched", "events", ["id"],
                    sqlite_where=sa.text("dispatched_at IS NULL"),
                    postgresql_where=sa.text("dispatched_at IS NULL"))
    op.create_table(
        "event_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("event_types", json, nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("active OR disabled_reason IS NOT NULL",
                           name=op.f("ck_event_endpoints_disabled_has_reason")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_endpoints")),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claims", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", utc, nullable=True),
        sa.Column("last_attempt_at", utc, nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("delivered_at", utc, nullable=True),
        sa.CheckConstraint(DELIVERY_STATUSES, name=op.f("ck_event_deliveries_status_known")),
        sa.CheckConstraint("attempts >= 0",
                           name=op.f("ck_event_deliveries_attempts_non_negative")),
        sa.CheckConstraint("status NOT IN ('pending', 'failed', 'delivering') "
                           "OR next_attempt_at IS NOT NULL",
                           name=op.f("ck_event_deliveries_due_is_dated")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_deliveries_event_id_events")),
        sa.ForeignKeyConstraint(["endpoint_id"], ["event_endpoints.id"],
                                name=op.f("fk_event_deliveries_endpoint_id_event_endpoints")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
        sa.UniqueConstraint("event_id", "endpoint_id",
                            name=op.f("uq_event_deliveries_event_id_endpoint_id")),
    )
    op.create_index(op.f("ix_event_deliveries_status_next_attempt_at"), "event_deliveries",
                    ["status", "next_attempt_at"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
