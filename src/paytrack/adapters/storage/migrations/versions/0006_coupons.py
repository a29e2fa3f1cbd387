"""coupons and their redemptions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the work on this part of issue 9


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
