"""Misspelt keys of paytrack's records, for the type checker to refuse.

Not a test module: ``test_typed_records.py`` runs mypy on this file and expects exactly the
errors marked by an "E:" comment (a part of the message), one on each marked line. Every call
here is a real service or repository function; without typed records they return
``dict[str, Any]`` and mypy would let every line pass.
"""

from __future__ import annotations

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import SYSTEM
from paytrack.domain.refunds import Refund
from paytrack.services import keys, ledger, payments, refunds


def refundable(uow: UnitOfWork) -> int:
    payment = payments.get_payment(uow, "pay_1", SYSTEM)
    return payment["total"] - payment["refunded_amout"]  # E: "Payment" has no key "refunded_amout"


def seller_part(uow: UnitOfWork) -> int | None:
    refund = refunds.approve_refund(uow, "re_1", SYSTEM)
    return refund["seler_part"]  # E: "Refund" has no key "seler_part"


def stored_refund(uow: UnitOfWork) -> str | None:
    refund = uow.refunds.get("re_1")
    assert refund is not None
    return refund["rejection_reson"]  # E: "Refund" has no key "rejection_reson"


def available(uow: UnitOfWork, seller_id: str) -> int:
    balance = ledger.seller_balance(uow, seller_id, SYSTEM)
    usd = balance["balances"][0]
    return usd["avaliable"]  # E: "CurrencyBalance" has no key "avaliable"


def late_confirmations(uow: UnitOfWork) -> list[str]:
    history = payments.payment_history(uow, "pay_1", SYSTEM)
    return [str(event["created_at"]) for event in history
            if event["needs_reveiw"]]  # E: "PaymentEvent" has no key "needs_reveiw"


def key_prefix(uow: UnitOfWork) -> str:
    key, _token = keys.create_key(uow, "admin", SYSTEM)
    return key["prefx"]  # E: "ApiKey" has no key "prefx"


def a_new_refund(refund: Refund) -> Refund:
    return {**refund, "reson": "duplicate"}  # E: Extra key "reson" for TypedDict "Refund"
