"""Payouts through the services, on SQLite and PostgreSQL: a request moves available to in
transit at once; approve then pay moves it out, fail or cancel moves it back; nothing is
posted twice, and the ledger checks out after every story. Races on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.tables import journal_entries, payout_accounts
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    Forbidden,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    PayoutAccountMissing,
    PayoutBelowMinimum,
)
from paytrack.domain.payouts import PayoutRules
from paytrack.domain.splits import Policy
from paytrack.services import ledger, seller_funds
from paytrack.services import payouts as svc
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, new_payment, race

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SELLER = Actor(Role.SELLER, "seller_1")
OTHER_SELLER = Actor(Role.SELLER, "seller_2")
IBAN = "DE89370400440532013000"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys() -> list[bytes]:
    return [Fernet.generate_key()]


@pytest.fixture
def storage(engine, clock, keys) -> Storage:
    return Storage(engine, Policy(hold_days=7, payouts=PayoutRules.parse("10.00",
                                                                         {"JPY": 1000})),
                   clock=clock, payout_keys=PayoutKeyring.of(*keys))


def fund(storage: Storage, clock: Clock, seller_amount: int, *, seller: str = "seller_1",
         currency: str = "USD") -> None:
    """Make ``seller_amount`` available: capture (20% commission), wait out the hold and
    release. Also gives the seller a bank account and a PayPal account."""
    new_payment(storage, subtotal=seller_amount * 5 // 4, seller_id=seller, currency=currency)
    clock.now += timedelta(days=8)
    committed(storage, seller_funds.release_due)
    committed(storage, svc.set_payout_account, seller, ADMIN, method="bank_transfer",
              details={"account_holder": "Ada Lovelace", "iban": IBAN})
    committed(storage, svc.set_payout_account, seller, ADMIN, method="paypal",
              details={"email": "ada@example.com"})


def balance(storage, seller="seller_1", currency="USD") -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        rows = ledger.seller_balance(uow, seller, ADMIN)["balances"]
    row = next((r for r in rows if r["currency"] == currency), None)
    return {k: v for k, v in (row or {}).items() if k not in ("currency", "pending", "debt")}


def verified(storage) -> None:
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert report["ok"], report


def entry_kinds(storage) -> Counter:
    with storage.unit_of_work(readonly=True) as uow:
        kinds = uow.conn.execute(select(journal_entries.c.kind)).scalars()
        return Counter(k for k in kinds if k.startswith("payout."))


def request(storage, amount=2500, actor=SELLER, **kw):
    kw.setdefault("currency", "USD")
    kw.setdefault("method", "bank_transfer")
    return committed(storage, svc.request_payout, actor, amount=amount, **kw)


def test_a_request_moves_available_to_in_transit_at_once(storage, clock):
    fund(storage, clock, 10000)
    payout = request(storage, 2500)
    assert (payout["status"], payout["seller_id"], payout["destination"]) == (
        "requested", "seller_1", "****3000")
    assert balance(storage) == {"available": 7500, "in_transit": 2500, "paid_out": 0}
    verified(storage)


def test_approve_then_pay_moves_it_out_as_paid_out(storage, clock):
    fund(storage, clock, 10000)
    payout = request(storage, 2500, method="paypal")
    committed(storage, svc.approve_payout, payout["id"], ADMIN)
    paid = committed(storage, svc.pay_payout, payout["id"], ADMIN, reference="PAYID-42")
    assert (paid["status"], paid["reference"], paid["decided_by"]) == (
        "paid", "PAYID-42", "admin:key_admin")
    assert balance(storage) == {"available": 7500, "in_transit": 0, "paid_out": 2500}
    with storage.unit_of_work(readonly=True) as uow:
        accounts = {a["code"]: a["balance"] for a in ledger.list_accounts(uow, ADMIN)}
    assert accounts["gateway:paypal:clearing"] == -2500
    assert entry_kinds(storage) == Counter({"payout.requested": 1, "payout.paid": 1})
    verified(storage)


@pytest.mark.parametrize("approved", [False, True])
def test_a_failed_payout_returns_the_funds_to_available(storage, clock, approved):
    fund(storage, clock, 10000)
    payout = request(storage, 4000)
    if approved:
        committed(storage, svc.approve_payout, payout["id"], ADMIN)
    failed = committed(storage, svc.fail_payout, payout["id"], ADMIN,
                       reason="account closed")
    assert (failed["status"], failed["failure_reason"]) == ("failed", "account closed")
    assert balance(storage) == {"available": 10000, "in_transit": 0, "paid_out": 0}
    verified(storage)


def test_a_seller_cancels_before_approval_but_not_after(storage, clock):
    fund(storage, clock, 10000)
    first = request(storage, 2000)
    canceled = committed(storage, svc.cancel_payout, first["id"], SELLER, reason="wrong amount")
    assert (canceled["status"], canceled["cancellation_reason"]) == ("canceled", "wrong amount")
    assert balance(storage) == {"available": 10000, "in_transit": 0, "paid_out": 0}
    second = request(storage, 3000)
    committed(storage, svc.approve_payout, second["id"], ADMIN)
    for actor in (SELLER, ADMIN):
        with pytest.raises(InvalidTransition, match="approved"):
            committed(storage, svc.cancel_payout, second["id"], actor)
    assert balance(storage) == {"available": 7000, "in_transit": 3000, "paid_out": 0}
    verified(storage)


def test_each_move_twice_is_refused_and_posts_once(storage, clock):
    fund(storage, clock, 10000)
    payout = request(storage, 2500)
    committed(storage, svc.approve_payout, payout["id"], ADMIN)
    with pytest.raises(InvalidTransition):
        committed(storage, svc.approve_payout, payout["id"], ADMIN)
    committed(storage, svc.pay_payout, payout["id"], ADMIN, reference="tr_1")
    for again in (lambda: committed(storage, svc.pay_payout, payout["id"], ADMIN,
                                    reference="tr_2"),
                  lambda: committed(storage, svc.fail_payout, payout["id"], ADMIN, reason="x"),
                  lambda: committed(storage, svc.cancel_payout, payout["id"], ADMIN)):
        with pytest.raises(InvalidTransition):
            again()
    canceled = request(storage, 1000)
    committed(storage, svc.cancel_payout, canceled["id"], SELLER)
    for again in (lambda: committed(storage, svc.cancel_payout, canceled["id"], SELLER),
                  lambda: committed(storage, svc.fail_payout, canceled["id"], ADMIN, reason="x"),
                  lambda: committed(storage, svc.approve_payout, canceled["id"], ADMIN)):
        with pytest.raises(InvalidTransition):
            again()
    assert entry_kinds(storage) == Counter({"payout.requested": 2, "payout.paid": 1,
                                            "payout.canceled": 1})
    assert balance(storage) == {"available": 7500, "in_transit": 0, "paid_out": 2500}
    verified(storage)


@pytest.mark.parametrize(("currency", "below", "shown"), [
    ("USD", 999, "10.00 USD"), ("JPY", 999, "1000 JPY"), ("KWD", 9999, "10.000 KWD")])
def test_a_request_below_the_currencys_minimum_is_refused(storage, clock, currency, below,
                                                           shown):
    fund(storage, clock, 200000, currency=currency)
    with pytest.raises(PayoutBelowMinimum, match=f"at least {shown}"):
        request(storage, below, currency=currency)
    request(storage, below + 1, currency=currency)
    verified(storage)


def test_a_request_above_available_is_refused_saying_what_is_available(storage, clock):
    fund(storage, clock, 10000)
    request(storage, 6000)
    with pytest.raises(InsufficientFunds, match="exceeds the available 40.00 USD") as refused:
        request(storage, 4001)
    assert refused.value.extra["available"] == 4000
    request(storage, 4000)
    assert balance(storage) == {"available": 0, "in_transit": 10000, "paid_out": 0}
    with pytest.raises(InsufficientFunds, match="available 0.00 USD"):
        request(storage, 1000)
    verified(storage)


def test_a_seller_with_nothing_available_cannot_be_paid(storage, clock):
    new_payment(storage, subtotal=12500)  # still held: pending, not available
    committed(storage, svc.set_payout_account, "seller_1", SELLER, method="paypal",
              details={"email": "ada@example.com"})
    with pytest.raises(InsufficientFunds):
        request(storage, 1000, method="paypal")
    verified(storage)


def test_a_request_needs_a_payout_account_for_its_method(storage, clock):
    fund(storage, clock, 10000)
    with pytest.raises(PayoutAccountMissing, match="no stripe_connect payout account"):
        request(storage, 2500, method="stripe_connect")
    assert balance(storage)["available"] == 10000


def test_sellers_reach_only_their_own_payouts(storage, clock):
    fund(storage, clock, 10000)
    payout = request(storage, 2500)
    with pytest.raises(NotFound):
        committed(storage, svc.get_payout, payout["id"], OTHER_SELLER)
    with pytest.raises(NotFound):
        committed(storage, svc.cancel_payout, payout["id"], OTHER_SELLER)
    with pytest.raises(NotFound):
        request(storage, 1000, actor=OTHER_SELLER, seller_id="seller_1")
    with pytest.raises(Forbidden):
        committed(storage, svc.approve_payout, payout["id"], SELLER)
    with pytest.raises(Forbidden):
        request(storage, 1000, actor=Actor(Role.CUSTOMER, "cust_1"), seller_id="seller_1")
    with storage.unit_of_work(readonly=True) as uow:
        assert svc.list_payouts(uow, OTHER_SELLER) == []
        assert svc.list_payouts(uow, OTHER_SELLER, seller_id="seller_1") == []
        assert [p["id"] for p in svc.list_payouts(uow, SELLER)] == [payout["id"]]


def test_the_pending_queue_is_requested_and_approved_oldest_first(storage, clock):
    fund(storage, clock, 10000)
    made = []
    for amount in (1000, 1100, 1200, 1300):
        made.append(request(storage, amount))
        clock.now += timedelta(seconds=1)
    committed(storage, svc.approve_payout, made[1]["id"], ADMIN)
    committed(storage, svc.cancel_payout, made[2]["id"], SELLER)
    with storage.unit_of_work(readonly=True) as uow:
        queue = svc.pending_payouts(uow, ADMIN)
        newest_first = svc.list_payouts(uow, ADMIN, status="requested")
    assert [p["id"] for p in queue] == [made[0]["id"], made[1]["id"], made[3]["id"]]
    assert [p["id"] for p in newest_first] == [made[3]["id"], made[0]["id"]]


def test_rotating_keys_reencrypts_every_account(engine, clock, keys):
    old_storage = Storage(engine, Policy(), clock=clock, payout_keys=PayoutKeyring.of(*keys))
    fund(old_storage, clock, 10000)
    new = Fernet.generate_key()
    both = Storage(engine, Policy(), clock=clock, payout_keys=PayoutKeyring.of(new, *keys))

    def tokens() -> dict:
        with both.unit_of_work(readonly=True) as uow:
            return {(r.seller_id, r.method): r.details_encrypted
                    for r in uow.conn.execute(select(payout_accounts))}

    before = tokens()
    assert committed(both, svc.rotate_payout_keys, ADMIN) == 2
    after = tokens()
    assert set(after) == set(before) and all(after[k] != before[k] for k in after)
    only_new = PayoutKeyring.of(new)
    assert only_new.decrypt(after[("seller_1", "bank_transfer")])["iban"] == IBAN
    assert only_new.decrypt(after[("seller_1", "paypal")]) == {"email": "ada@example.com"}


# -- races on PostgreSQL -------------------------------------------------------------------



@postgres_only
def test_twenty_concurrent_requests_never_overdraw(storage, clock):
    fund(storage, clock, 10000)
    outcome = race(storage, 20, lambda uow, i: svc.request_payout(
        uow, SELLER, amount=1500, currency="USD", method="bank_transfer"))
    assert outcome == Counter({"ok": 6, InsufficientFunds.code: 14})
    assert balance(storage) == {"available": 1000, "in_transit": 9000, "paid_out": 0}
    assert entry_kinds(storage) == Counter({"payout.requested": 6})
    verified(storage)


@postgres_only
def test_approve_racing_cancel_exactly_one_wins(storage, clock):
    fund(storage, clock, 10000)
    for _ in range(5):
        payout = request(storage, 1000)
        outcome = race(storage, 2, lambda uow, i, p=payout: (
            svc.approve_payout(uow, p["id"], ADMIN) if i == 0
            else svc.cancel_payout(uow, p["id"], SELLER)))
        assert outcome == Counter({"ok": 1, InvalidTransition.code: 1})
    verified(storage)


@postgres_only
def test_paying_one_payout_twice_at_once_pays_it_once(storage, clock):
    fund(storage, clock, 10000)
    payout = request(storage, 2500)
    committed(storage, svc.approve_payout, payout["id"], ADMIN)
    outcome = race(storage, 8, lambda uow, i: svc.pay_payout(
        uow, payout["id"], ADMIN, reference=f"tr_{i}"))
    assert outcome == Counter({"ok": 1, InvalidTransition.code: 7})
    assert balance(storage) == {"available": 7500, "in_transit": 0, "paid_out": 2500}
    verified(storage)
