"""seller funds: holds, releases, debt, platform-funded discounts, disputed amounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the work on this part of issue 9


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
