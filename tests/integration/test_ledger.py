import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from paytrack.adapters.storage.tables import accounts, payments
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import BalanceLimitExceeded, Forbidden, InsufficientFunds, NotFound
from paytrack.domain.ledger import (
    PLATFORM_FEES,
    PLATFORM_REVENUE,
    JournalEntry,
    gateway_clearing,
    seller_available,
)
from paytrack.domain.limits import MAX_BALANCE_MINOR
from paytrack.services import ledger
from paytrack.services.refunds import refund_payment
from tests.conftest import ON_POSTGRES
from tests.integration.conftest import ADMIN, new_payment


def _verify(storage):
    with storage.unit_of_work(readonly=True) as uow:
        return ledger.verify_ledger(uow, ADMIN)


def test_a_busy_ledger_verifies_clean_across_currencies(storage):
    for i in range(6):
        new_payment(storage, seller_id=f"s{i % 3}", subtotal=1000 + i, currency="USD")
    new_payment(storage, seller_id="s0", subtotal=5000, currency="JPY")
    paid = new_payment(storage, seller_id="s1", subtotal=1234, currency="KWD")
    with storage.unit_of_work() as uow:
        refund_payment(uow, paid["id"], ADMIN, amount=617, reason="r")
        uow.commit()
    report = _verify(storage)
    assert report["ok"], report
    assert [c["currency"] for c in report["trial_balance"]["currencies"]] == ["JPY", "KWD", "USD"]


def test_the_rebuild_check_catches_a_corrupted_running_balance(storage):
    new_payment(storage)
    with storage.engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.code == "platform:revenue")
                     .values(balance=accounts.c.balance + 1))
    report = _verify(storage)
    assert not report["ok"]
    assert report["differences"] == [{
        "account_id": report["differences"][0]["account_id"], "code": "platform:revenue",
        "currency": "USD", "stored": 2001, "expected": 2000}]
    with storage.unit_of_work() as uow:
        corrections = ledger.rebuild_balances(uow, ADMIN)
        uow.commit()
    assert [c["code"] for c in corrections] == ["platform:revenue"]
    assert _verify(storage)["ok"]


def test_only_an_admin_rebuilds(storage):
    with storage.unit_of_work() as uow, pytest.raises(Forbidden):
        ledger.rebuild_balances(uow, Actor(Role.SELLER, "s1"))


def test_folding_deltas_keeps_every_balance(storage):
    for _ in range(3):
        new_payment(storage)
    with storage.unit_of_work(readonly=True) as uow:
        before = ledger.list_accounts(uow, ADMIN)
    with storage.unit_of_work() as uow:
        assert ledger.fold_balances(uow) == 9  # three accounts moved by three captures
        uow.commit()
    with storage.unit_of_work(readonly=True) as uow:
        assert ledger.list_accounts(uow, ADMIN) == before
        assert ledger.fold_balances(uow) == 0
    assert _verify(storage)["ok"]


def test_seller_balance_reports_each_stage_per_currency(storage):
    new_payment(storage, seller_id="s1", subtotal=10000, currency="USD")
    new_payment(storage, seller_id="s1", subtotal=3000, currency="EUR")
    new_payment(storage, seller_id="s2", subtotal=999, currency="USD")
    with storage.unit_of_work(readonly=True) as uow:
        balance = ledger.seller_balance(uow, "s1", ADMIN)
        with pytest.raises(NotFound):  # another seller's balance does not exist for it
            ledger.seller_balance(uow, "s1", Actor(Role.SELLER, "s2"))
        with pytest.raises(Forbidden):
            ledger.seller_balance(uow, "s1", Actor(Role.CUSTOMER, "c1"))
    assert balance == {"seller_id": "s1", "balances": [
        {"currency": "EUR", "pending": 2400, "available": 0, "in_transit": 0, "paid_out": 0,
         "debt": 0},
        {"currency": "USD", "pending": 8000, "available": 0, "in_transit": 0, "paid_out": 0,
         "debt": 0},
    ]}


def test_a_bounded_account_never_goes_below_zero(storage):
    entry = JournalEntry("test", "overdraw").debit(seller_available("s1"), "USD", 100)
    entry.credit(gateway_clearing("manual"), "USD", 100)
    with storage.unit_of_work() as uow, pytest.raises(InsufficientFunds):
        uow.ledger.post(entry, uow.now())
    # and the database refuses it even when the application does not ask
    with storage.unit_of_work() as uow:
        uow.ledger.account_ids({("seller:s1:available", "USD"): seller_available("s1")},
                               uow.now())
        uow.commit()
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.code == "seller:s1:available")
                     .values(balance=-1))


def test_no_account_passes_the_balance_limit_locked_or_appended(storage):
    most = MAX_BALANCE_MINOR
    fill = JournalEntry("test", "fill").credit(seller_available("s1"), "USD", most)
    fill.debit(gateway_clearing("manual"), "USD", most)
    with storage.unit_of_work() as uow:
        uow.ledger.post(fill, uow.now())
        uow.commit()
    # a bounded account, updated in place under its row lock
    one_more = JournalEntry("test", "one more").credit(seller_available("s1"), "USD", 1)
    one_more.debit(PLATFORM_FEES, "USD", 1)
    with storage.unit_of_work() as uow, pytest.raises(BalanceLimitExceeded):
        uow.ledger.post(one_more, uow.now())
    # an account that takes appended deltas, not folded yet
    one_more = JournalEntry("test", "one more").debit(gateway_clearing("manual"), "USD", 1)
    one_more.credit(PLATFORM_REVENUE, "USD", 1)
    with storage.unit_of_work() as uow, pytest.raises(BalanceLimitExceeded):
        uow.ledger.post(one_more, uow.now())
        uow.commit()
    with storage.unit_of_work(readonly=True) as uow:
        balances = {a["code"]: a["balance"] for a in ledger.list_accounts(uow, ADMIN)}
    assert balances == {"gateway:manual:clearing": most, "seller:s1:available": most}
    assert _verify(storage)["ok"]


@pytest.mark.parametrize("amount", [1, -(2 * MAX_BALANCE_MINOR + 1)])
def test_the_database_refuses_a_delta_past_the_balance_limit_either_way(storage, amount):
    fill = JournalEntry("test", "fill").debit(gateway_clearing("manual"), "USD",
                                              MAX_BALANCE_MINOR)
    fill.credit(PLATFORM_REVENUE, "USD", MAX_BALANCE_MINOR)
    with storage.unit_of_work() as uow:
        uow.ledger.post(fill, uow.now())
        uow.commit()
    insert = text("INSERT INTO balance_deltas (account_id, amount) SELECT id, :amount "
                  "FROM accounts WHERE code = 'gateway:manual:clearing'")
    with pytest.raises(BalanceLimitExceeded), storage.engine.begin() as conn:
        conn.execute(insert, {"amount": amount})
    with storage.unit_of_work() as uow:  # folded, the limit holds all the same
        uow.ledger.fold()
        uow.commit()
    with pytest.raises(BalanceLimitExceeded), storage.engine.begin() as conn:
        conn.execute(insert, {"amount": amount})
    with storage.engine.begin() as conn:  # within the limit is fine
        conn.execute(insert, {"amount": -1})


def test_the_database_refuses_a_refund_beyond_the_total(storage):
    payment = new_payment(storage)
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(update(payments).where(payments.c.id == payment["id"])
                     .values(refunded_amount=10001))


def test_the_database_refuses_a_breakdown_that_does_not_add_up(storage):
    payment = new_payment(storage)
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(update(payments).where(payments.c.id == payment["id"])
                     .values(total=payment["total"] + 1))


def test_postings_are_append_only(storage):
    new_payment(storage)
    with pytest.raises(DBAPIError, match="append-only"), storage.engine.begin() as conn:
        conn.execute(text("UPDATE postings SET amount = amount * 2"))
    with pytest.raises(DBAPIError, match="append-only"), storage.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_a_zero_posting_is_refused_by_the_database(storage):
    new_payment(storage)
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO postings (entry_id, account_id, currency, amount) "
            "SELECT entry_id, account_id, currency, 0 FROM postings LIMIT 1"))


@pytest.mark.skipif(not ON_POSTGRES, reason="the deferred balance trigger is PostgreSQL's; "
                    "on SQLite `ledger verify` reports unbalanced entries instead")
def test_postgres_refuses_an_unbalanced_journal_entry_at_commit(storage):
    new_payment(storage)
    with pytest.raises(DBAPIError, match="does not balance"), storage.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO journal_entries (id, kind, description, created_at) "
            "VALUES ('je_bad', 'test', 'one-sided', now())"))
        conn.execute(text(
            "INSERT INTO postings (entry_id, account_id, currency, amount) "
            "SELECT 'je_bad', account_id, currency, 5 FROM postings LIMIT 1"))


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL trigger; on SQLite `ledger verify` "
                    "reports an entry that stopped balancing")
def test_postgres_refuses_postings_added_to_an_entry_later(storage):
    new_payment(storage)
    with pytest.raises(DBAPIError, match="is closed"), storage.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO postings (entry_id, account_id, currency, amount) "
            "SELECT entry_id, account_id, currency, amount FROM postings LIMIT 1"))


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL trigger")
def test_postgres_refuses_a_journal_entry_without_postings(storage):
    with pytest.raises(DBAPIError, match="no postings"), storage.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO journal_entries (id, kind, description, created_at) "
            "VALUES ('je_empty', 'test', 'nothing', now())"))


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL's trigger refuses the entry before "
                    "verify could see it (tested above)")
def test_on_sqlite_verify_reports_an_unbalanced_entry(storage):
    new_payment(storage)
    with storage.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO journal_entries (id, kind, description, created_at) "
            "VALUES ('je_bad', 'test', 'one-sided', '2026-01-01 00:00:00')"))
        conn.execute(text(
            "INSERT INTO postings (entry_id, account_id, currency, amount) "
            "SELECT 'je_bad', account_id, currency, 5 FROM postings LIMIT 1"))
    report = _verify(storage)
    assert not report["ok"]
    assert report["unbalanced_entries"] == [{"entry_id": "je_bad", "currency": "USD", "sum": 5}]
