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

# No account's balance may pass MAX_BALANCE_MINOR (domain/limits.py) either way. Accounts
# that take appended deltas are never locked, so the database checks each insert into
# balance_deltas: the account's stored balance plus all its pending deltas (this write's
# included) must stay within the limit. Summing the pending deltas on every write would
# cost as much as there are of them, so a bound is tried first, from four index lookups:
# the account has at most max(id) - min(id) + 1 pending deltas, none larger than its
# largest or smallest one (the index on (account_id, amount) finds both), so if
# |stored| + count × largest ≤ the limit, the account is surely within it. Only an account
# near the limit, or one whose deltas the worker has not folded for a long time, is summed
# (exactly: numeric on PostgreSQL, in two halves on SQLite, as sql.exact_sum_parts does).
# On PostgreSQL, concurrent writers do not see each other's uncommitted deltas: each can
# pass its check and the account can end past the limit by what they add, which the
# 5 × 10^18 between the limit and 2^63 absorbs (see domain/limits.py).
MAX_BALANCE_MINOR = 4 * 10**18
BALANCE_LIMIT_FUNCTION = f"""
CREATE FUNCTION paytrack_check_balance_limit() RETURNS trigger AS $$
DECLARE
    over RECORD;
BEGIN
    SELECT a.code, a.currency INTO over
      FROM accounts a
     WHERE a.id IN (SELECT account_id FROM new_deltas)
       AND CASE
           WHEN ((SELECT max(id) FROM balance_deltas) - (SELECT min(id) FROM balance_deltas)
                 + 1)::numeric
                * greatest(abs((SELECT max(d.amount) FROM balance_deltas d
                                 WHERE d.account_id = a.id)),
                           abs((SELECT min(d.amount) FROM balance_deltas d
                                 WHERE d.account_id = a.id)), 1)
                <= {MAX_BALANCE_MINOR} - abs(a.balance::numeric)
           THEN false
           ELSE abs(a.balance::numeric + (SELECT sum(d.amount) FROM balance_deltas d
                                          WHERE d.account_id = a.id)) > {MAX_BALANCE_MINOR}
           END
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'balance_limit_exceeded: % % would pass % minor units',
            over.code, over.currency, {MAX_BALANCE_MINOR}
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
BALANCE_LIMIT_TRIGGER = """
CREATE TRIGGER balance_deltas_within_limit
    AFTER INSERT ON balance_deltas REFERENCING NEW TABLE AS new_deltas
    FOR EACH STATEMENT EXECUTE FUNCTION paytrack_check_balance_limit()
"""
# SQLite: the same rule per row. Its integer division truncates, so the bound is written
# count <= (limit - |stored|) / largest, which never overflows; the exact sum adds the two
# halves (quotient × 2^32 can only leave 64 bits, becoming a REAL, when it is far past the
# limit anyway). RAISE takes only a literal message here.
_PENDING = "FROM balance_deltas WHERE account_id = NEW.account_id"
_STORED = "(SELECT balance FROM accounts WHERE id = NEW.account_id)"
_SQLITE_MESSAGE = f"balance_limit_exceeded: a ledger account would pass {MAX_BALANCE_MINOR}"
SQLITE_BALANCE_LIMIT_TRIGGER = f"""
CREATE TRIGGER balance_deltas_within_limit AFTER INSERT ON balance_deltas
WHEN (SELECT max(id) FROM balance_deltas) - (SELECT min(id) FROM balance_deltas) + 1
     > ({MAX_BALANCE_MINOR} - abs({_STORED}))
       / max(abs((SELECT max(amount) {_PENDING})), abs((SELECT min(amount) {_PENDING})), 1)
BEGIN
    SELECT RAISE(ABORT, '{_SQLITE_MESSAGE}')
     WHERE abs({_STORED} + (SELECT sum(amount / 4294967296) {_PENDING}) * 4294967296
               + (SELECT sum(amount % 4294967296) {_PENDING})) > {MAX_BALANCE_MINOR};
END
"""


def _amounts_overflow_safe() -> None:
    # Each account's largest and smallest pending delta, for the bound above, come from
    # this index (which also still serves lookups by account, and covers their sums).
    with op.batch_alter_table("balance_deltas", schema=None) as batch_op:
        batch_op.drop_index("ix_balance_deltas_account_id")
        batch_op.create_index(batch_op.f("ix_balance_deltas_account_id_amount"),
                              ["account_id", "amount"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BALANCE_LIMIT_FUNCTION)
        op.execute(BALANCE_LIMIT_TRIGGER)
    else:
        op.execute(SQLITE_BALANCE_LIMIT_TRIGGER)


# -- API key prefixes that cannot collide ----------------------------------------------


def _api_key_prefixes() -> None:
    # New keys have 24-hex-digit prefixes (96 random bits); older 8-digit ones stay valid.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("prefix", existing_type=sa.String(length=16),
                              type_=sa.String(length=32), existing_nullable=False)


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
