"""Funds returned by a canceled or failed payout must pay down the seller's debt
first, as a release and a won dispute do; otherwise a seller whose sale was refunded while
its payout was in transit can withdraw the same money again and leave the debt behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import InsufficientFunds
from paytrack.domain.payouts import PayoutRules
from paytrack.domain.splits import Policy
from paytrack.services import ledger, seller_funds
from paytrack.services import payouts as svc
from paytrack.services.refunds import refund_payment
from tests.integration.conftest import ADMIN, committed, new_payment

SELLER = Actor(Role.SELLER, "seller_1")
IBAN = "DE89370400440532013000"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(hold_days=7, payouts=PayoutRules.parse("10.00")),
                   clock=clock, payout_keys=PayoutKeyring.of(Fernet.generate_key()))


def balance(storage) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        row = ledger.seller_balance(uow, "seller_1", ADMIN)["balances"][0]
    return {k: row[k] for k in ("available", "in_transit", "paid_out", "debt")}


@pytest.mark.parametrize("undo", ["cancel", "fail"])
def test_a_returned_payout_pays_the_debt_a_refund_left_first(storage, clock, undo):
    payment = new_payment(storage, subtotal=12500)  # seller's share 10000
    clock.now += timedelta(days=8)
    committed(storage, seller_funds.release_due)
    committed(storage, svc.set_payout_account, "seller_1", ADMIN, method="bank_transfer",
              details={"account_holder": "Ada Lovelace", "iban": IBAN})
    payout = committed(storage, svc.request_payout, SELLER, amount=10000, currency="USD",
                       method="bank_transfer")
    # The customer gets everything back while the payout is in transit: the seller's part
    # cannot come from available (0), so it becomes debt.
    committed(storage, refund_payment, payment["id"], ADMIN, reason="refund")
    assert balance(storage) == {"available": 0, "in_transit": 10000, "paid_out": 0,
                                "debt": 10000}
    if undo == "cancel":
        committed(storage, svc.cancel_payout, payout["id"], SELLER)
    else:
        committed(storage, svc.fail_payout, payout["id"], ADMIN, reason="bank refused")
    # The returned 10000 is what the seller owes: nothing is left to pay out.
    assert balance(storage) == {"available": 0, "in_transit": 0, "paid_out": 0, "debt": 0}
    with pytest.raises(InsufficientFunds):
        committed(storage, svc.request_payout, SELLER, amount=10000, currency="USD",
                  method="bank_transfer")
