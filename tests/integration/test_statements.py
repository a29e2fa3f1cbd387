"""A seller statement: the opening balance, one line per ledger entry on the seller's
accounts, and a closing balance that equals the ledger's, after a mixed history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import Forbidden, NotFound, ValidationFailed
from paytrack.domain.payouts import PayoutRules
from paytrack.domain.splits import Policy
from paytrack.services import disputes, ledger, payouts, seller_funds
from paytrack.services.refunds import refund_payment
from paytrack.services.statements import seller_statement
from tests.integration.conftest import ADMIN, committed, new_payment

SELLER = Actor(Role.SELLER, "seller_1")
IBAN = "DE89370400440532013000"
START = datetime(2026, 3, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(hours=12)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(hold_days=7, payouts=PayoutRules.parse("10.00")),
                   clock=clock, payout_keys=PayoutKeyring.of(Fernet.generate_key()))


def owed(storage: Storage, seller_id: str = "seller_1", currency: str = "USD") -> int:
    """What the ledger says the platform owes the seller now."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = ledger.seller_balance(uow, seller_id, ADMIN)["balances"]
    row = next(r for r in rows if r["currency"] == currency)
    return row["pending"] + row["available"] + row["in_transit"] - row["debt"]


def statement(storage: Storage, start: datetime, end: datetime, actor: Actor = ADMIN,
              seller_id: str = "seller_1", currency: str = "USD"):
    with storage.unit_of_work(readonly=True) as uow:
        return seller_statement(uow, seller_id, actor, currency=currency, start=start,
                                end=end)


def mixed_history(storage: Storage, clock: Clock) -> dict:
    """Earnings, a refund before and one after release, a lost dispute, payouts paid and
    failed, and a refund that leaves debt, recovered by a later release."""
    day = timedelta(days=1)
    a = new_payment(storage, subtotal=12500)  # seller 10000, platform 2500
    b = new_payment(storage, subtotal=5000)   # seller 4000
    committed(storage, refund_payment, b["id"], ADMIN, reason="before release", amount=2500)
    new_payment(storage, subtotal=9999, seller_id="seller_2")  # another seller: not here
    new_payment(storage, subtotal=7000, currency="EUR")  # another currency: not here
    clock.now += 8 * day
    committed(storage, seller_funds.release_due)
    committed(storage, refund_payment, a["id"], ADMIN, reason="after release", amount=1250)
    c = new_payment(storage, subtotal=6250)   # seller 5000
    dispute = committed(storage, disputes.open_dispute, c["id"], ADMIN, amount=6250,
                        reason="fraud")
    committed(storage, disputes.lose_dispute, dispute["id"], ADMIN)
    committed(storage, payouts.set_payout_account, "seller_1", ADMIN, method="bank_transfer",
              details={"account_holder": "Ada Lovelace", "iban": IBAN})
    paid = committed(storage, payouts.request_payout, SELLER, amount=3000, currency="USD",
                     method="bank_transfer")
    committed(storage, payouts.approve_payout, paid["id"], ADMIN)
    committed(storage, payouts.pay_payout, paid["id"], ADMIN, reference="wire 1")
    clock.now += day
    failed = committed(storage, payouts.request_payout, SELLER, amount=1000, currency="USD",
                       method="bank_transfer")
    committed(storage, payouts.approve_payout, failed["id"], ADMIN)
    committed(storage, payouts.fail_payout, failed["id"], ADMIN, reason="bank refused")
    # Everything available leaves in a payout; a refund then leaves debt behind.
    with storage.unit_of_work(readonly=True) as uow:
        available = ledger.seller_balance(uow, "seller_1", ADMIN)["balances"][-1]["available"]
    last = committed(storage, payouts.request_payout, SELLER, amount=available,
                     currency="USD", method="bank_transfer")
    committed(storage, payouts.approve_payout, last["id"], ADMIN)
    committed(storage, payouts.pay_payout, last["id"], ADMIN, reference="wire 2")
    committed(storage, refund_payment, a["id"], ADMIN, reason="debt", amount=2500)
    d = new_payment(storage, subtotal=2500)   # seller 2000, recovers the debt when released
    clock.now += 8 * day
    committed(storage, seller_funds.release_due)
    clock.now += day
    return {"a": a, "b": b, "c": c, "d": d, "dispute": dispute, "paid": paid,
            "failed": failed, "last": last}


def test_statement_numbers_equal_the_ledger_after_a_mixed_history(storage, clock):
    made = mixed_history(storage, clock)
    end = clock.now + timedelta(days=1)
    whole = statement(storage, START, end)
    assert whole["opening_balance"] == 0
    assert whole["closing_balance"] == owed(storage)
    assert whole["closing_balance"] == whole["opening_balance"] + sum(
        line["amount"] for line in whole["lines"])
    running = whole["opening_balance"]
    for line in whole["lines"]:
        running += line["amount"]
        assert line["balance"] == running
        assert line["amount"] == (line["pending"] + line["available"] + line["in_transit"]
                                  - line["debt"])
    kinds = [line["kind"] for line in whole["lines"]]
    for kind in ("earning", "refund", "release", "dispute", "payout_requested",
                 "payout_paid", "payout_failed", "debt_recovery"):
        assert kind in kinds, kind
    totals = {t["kind"]: t["amount"] for t in whole["totals"]}
    # Independently: earnings are the seller's shares, refunds the seller's parts back.
    assert totals["earning"] == 10000 + 4000 + 5000 + 2000
    assert totals["refund"] == -(2000 + 1000 + 2000)
    assert totals["dispute"] == -5000
    assert totals["payout_paid"] == -(3000 + made["last"]["amount"])
    assert totals["release"] == totals["debt_recovery"] == totals["payout_failed"] == 0
    assert sum(totals.values()) == owed(storage)
    paid_lines = [line for line in whole["lines"] if line["kind"] == "payout_paid"]
    assert [line["payout_id"] for line in paid_lines] == [made["paid"]["id"],
                                                          made["last"]["id"]]
    assert next(line for line in whole["lines"] if line["kind"] == "dispute")[
        "dispute_id"] == made["dispute"]["id"]
    recovery = next(line for line in whole["lines"] if line["kind"] == "debt_recovery")
    assert recovery["debt"] == -2000 and recovery["pending"] == -2000


def test_a_period_opens_where_the_previous_one_closed(storage, clock):
    mixed_history(storage, clock)
    middle = START + timedelta(days=8, hours=13)
    end = clock.now + timedelta(days=1)
    first, second = statement(storage, START, middle), statement(storage, middle, end)
    assert first["lines"] and second["lines"]
    assert second["opening_balance"] == first["closing_balance"]
    assert second["closing_balance"] == owed(storage)
    whole = statement(storage, START, end)
    assert [line["entry_id"] for line in whole["lines"]] == [
        line["entry_id"] for line in first["lines"] + second["lines"]]


def test_a_seller_reads_its_own_statement_only(storage, clock):
    new_payment(storage, subtotal=12500)
    new_payment(storage, subtotal=5000, seller_id="seller_2")
    end = clock.now + timedelta(days=1)
    mine = statement(storage, START, end, actor=SELLER)
    assert mine["closing_balance"] == 10000
    with pytest.raises(NotFound):
        statement(storage, START, end, actor=SELLER, seller_id="seller_2")
    with pytest.raises(Forbidden):
        statement(storage, START, end, actor=Actor(Role.CUSTOMER, "cust_1"))


def test_a_statement_without_movements_or_with_a_backwards_period(storage, clock):
    new_payment(storage, subtotal=12500)
    quiet = statement(storage, clock.now + timedelta(days=1), clock.now + timedelta(days=2))
    assert quiet["lines"] == [] and quiet["opening_balance"] == quiet["closing_balance"] == 10000
    assert statement(storage, START, clock.now + timedelta(days=1),
                     currency="JPY")["closing_balance"] == 0
    with pytest.raises(ValidationFailed):
        statement(storage, clock.now, clock.now)
