"""disputes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the work on this part of issue 9


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
