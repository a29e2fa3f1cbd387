"""Disputes (chargebacks): open -> under_review -> won | lost.

A dispute is opened (by an admin, later by a gateway's webhook) against a succeeded or
partially refunded payment, and its amount is held at once:

    open          payment: disputed_amount += amount, status -> disputed (one conditional
                  UPDATE: refunded + reserved + disputed stays within the total, and a
                  disputed payment cannot be disputed again). Open refund requests on the
                  payment are canceled first, their reservations released, so the money is
                  not given back twice. Ledger: ``disputes.opened_entry``.
    under_review  evidence (text and references) from an admin or the payment's seller;
                  more may follow while under review.
    won           payment: disputed_amount -= amount, status back to where it was.
                  Ledger: ``disputes.won_entry`` (the dispute fee is not returned).
    lost          payment: charged_back (terminal; disputed_amount stays). The seller's
                  part left at opening and is counted in its earning's ``refunded``.
                  Ledger: ``disputes.lost_entry``.

Lock order, as refunds take them: refund rows, then the payment row, then the payment's
earning and the seller's balances; deciding a dispute locks the dispute row first.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.analytics import RevenueTags
from paytrack.domain.disputes import (
    Dispute,
    DisputeReason,
    Evidence,
    lost_entry,
    opened_entry,
    parts_of,
    won_entry,
)
from paytrack.domain.errors import (
    DisputeExceedsCaptured,
    DuplicateGatewayDispute,
    EvidenceLimitReached,
    InvalidAmount,
    InvalidTransition,
    ValidationFailed,
)
from paytrack.domain.events import EventType
from paytrack.domain.ids import new_id
from paytrack.domain.limits import check_amount
from paytrack.domain.money import format_amount
from paytrack.domain.payments import Payment
from paytrack.domain.refunds import Refund
from paytrack.domain.splits import taken_back
from paytrack.domain.states import (
    CAPTURED_STATES,
    DISPUTE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    DisputeStatus,
    PaymentStatus,
    RefundStatus,
    sources_of,
)
from paytrack.services import fulfilment, permissions, seller_funds
from paytrack.services._common import fetch, guarded_move, require_text
from paytrack.services.events import emit, emit_refund_failed
from paytrack.services.payments import get_payment, split_of
from paytrack.services.permissions import Action

D = DisputeStatus
P = PaymentStatus
CANCELED_FOR = "payment disputed"  # why open refund requests close when a dispute opens
EVIDENCE_TEXT_MAX = 5000
REFERENCES_MAX = 20
SUBMISSIONS_MAX = 20  # per dispute: what a gateway's evidence form takes, and a bound


def open_dispute(uow: UnitOfWork, payment_id: str, actor: Actor, *, amount: int,
                 reason: str, reason_code: str = DisputeReason.GENERAL,
                 due_by: datetime | None = None, gateway_dispute_id: str | None = None,
                 fee: int = 0) -> Dispute:
    """Open a dispute of ``amount`` on the payment and hold it at once (see the module
    docstring); ``fee`` is the gateway's dispute fee, borne by the platform."""
    permissions.check(actor, Action.OPEN_DISPUTE)
    reason = require_text(reason, "reason")
    reason_code = _enum(DisputeReason, reason_code, "reason_code")
    _check_minor_units(amount, "amount", positive=True)
    _check_minor_units(fee, "fee", positive=False)
    if due_by is not None and due_by.tzinfo is None:
        raise ValidationFailed("due_by must carry a UTC offset", field="due_by")
    if gateway_dispute_id is not None:
        gateway_dispute_id = require_text(gateway_dispute_id, "gateway_dispute_id", 200)
    payment = fetch(uow.payments, "payment", payment_id)
    permissions.check_object(actor, Action.OPEN_DISPUTE, payment, f"payment {payment_id}")
    _check_disputable(payment)
    if amount > _disputable(payment):
        raise _exceeds(payment, amount)
    if gateway_dispute_id is not None:
        holder = uow.disputes.holding_gateway_id(payment["gateway"], gateway_dispute_id)
        if holder is not None:
            raise DuplicateGatewayDispute(
                f"gateway dispute id {gateway_dispute_id!r} is already recorded on dispute "
                f"{holder}", field="gateway_dispute_id", dispute_id=holder)

    now = uow.now()
    dispute_id = new_id("dp")
    _cancel_refund_requests(uow, payment_id, actor, now)
    held = uow.payments.hold_dispute(payment_id, amount, now)
    if held is None:  # it moved since we read it
        current = fetch(uow.payments, "payment", payment_id)
        _check_disputable(current)
        raise _exceeds(current, amount)
    after = held["refunded_amount"] + held["disputed_amount"]
    parts, discount_part = taken_back(split_of(held), held["total"], after - amount, after)
    seller_side = seller_funds.take_back(uow, held, parts.seller_amount, refunded=False)
    before_status = held["previous_status"]
    assert before_status in CAPTURED_STATES, "the hold is guarded by the captured states"
    dispute: Dispute = {
        "id": dispute_id, "payment_id": payment_id, "seller_id": held["seller_id"],
        "customer_id": held["customer_id"], "currency": held["currency"],
        "gateway": held["gateway"], "gateway_dispute_id": gateway_dispute_id,
        "amount": amount, "fee": fee, "reason": reason, "reason_code": reason_code,
        "status": str(D.OPEN), "previous_status": None, "due_by": due_by, "evidence": [],
        "seller_part": parts.seller_amount, "platform_part": parts.platform_fee,
        "tax_part": parts.tax_collected, "shipping_part": parts.shipping_collected,
        "discount_part": discount_part, "payment_status_before": before_status,
        "decision_reason": None, "created_at": now, "updated_at": now, "opened_at": now,
        "under_review_at": None, "won_at": None, "lost_at": None,
    }
    uow.disputes.insert(dispute)
    uow.ledger.post(opened_entry(dispute_id=dispute_id, payment_id=payment_id,
                                 gateway=held["gateway"], currency=held["currency"],
                                 amount=amount, seller_side=seller_side, fee=fee,
                                 about=RevenueTags.of(held, dispute_amount=amount)), now)
    uow.records.status_event("dispute", dispute_id, None, D.OPEN, str(actor), reason, now)
    uow.records.audit(str(actor), "dispute.opened", "dispute", dispute_id, None,
                      {"payment_id": payment_id, "amount": amount, "fee": fee,
                       "status": D.OPEN, "gateway_dispute_id": gateway_dispute_id}, now)
    _record_payment_move(uow, held, actor, f"dispute {dispute_id}", now)
    emit(uow, EventType.DISPUTE_OPENED, "dispute", dispute)
    return dispute


def submit_evidence(uow: UnitOfWork, dispute_id: str, actor: Actor, *, text: str,
                    references: list[str] | None = None) -> Dispute:
    """Add evidence (an admin, or the payment's seller): an open dispute goes under
    review; one under review keeps it all, oldest first."""
    permissions.check(actor, Action.DISPUTE_EVIDENCE)
    text = require_text(text, "text", EVIDENCE_TEXT_MAX)
    refs = list(references or [])
    if len(refs) > REFERENCES_MAX:
        raise ValidationFailed(f"references has more than {REFERENCES_MAX} entries",
                               field="references")
    refs = [require_text(ref, "references", 500) for ref in refs]
    dispute = uow.disputes.lock(dispute_id)
    if dispute is None:
        fetch(uow.disputes, "dispute", dispute_id)  # raises NotFound
        raise AssertionError("unreachable")
    permissions.check_object(actor, Action.DISPUTE_EVIDENCE, dispute, f"dispute {dispute_id}")
    if len(dispute["evidence"]) >= SUBMISSIONS_MAX:
        raise EvidenceLimitReached(
            f"dispute {dispute_id} already holds {SUBMISSIONS_MAX} evidence submissions, the "
            "most it takes: put what is left in one submission's text and references")
    now = uow.now()
    submitted: Evidence = {"text": text, "references": refs,
                           "submitted_by": str(actor.role), "submitted_at": now.isoformat()}
    return _move(uow, dispute_id, D.UNDER_REVIEW, actor, "evidence submitted", {
        "evidence": [*dispute["evidence"], dict(submitted)],
        "under_review_at": dispute["under_review_at"] or now,
    })


def win_dispute(uow: UnitOfWork, dispute_id: str, actor: Actor, *,
                reason: str | None = None) -> Dispute:
    """The platform won: the hold is released back to the seller and the platform, the
    payment returns to where it was. The gateway keeps the fee."""
    permissions.check(actor, Action.DECIDE_DISPUTE)
    reason = None if reason is None else require_text(reason, "reason")
    now = uow.now()
    dispute = _move(uow, dispute_id, D.WON, actor, reason,
                    {"won_at": now, "decision_reason": reason})
    payment = uow.payments.release_dispute(dispute["payment_id"], dispute["amount"],
                                           dispute["payment_status_before"], now)
    assert payment is not None, f"dispute {dispute_id} holds nothing on its payment"
    seller_side = seller_funds.give_back(uow, payment, dispute["seller_part"])
    uow.ledger.post(won_entry(dispute_id=dispute_id, payment_id=payment["id"],
                              gateway=dispute["gateway"], currency=dispute["currency"],
                              amount=dispute["amount"], seller_side=seller_side,
                              about=RevenueTags.of(payment, dispute_amount=dispute["amount"])),
                    now)
    _record_payment_move(uow, payment, actor, f"dispute {dispute_id} won", now)
    emit(uow, EventType.DISPUTE_CLOSED, "dispute", dispute)
    return dispute


def lose_dispute(uow: UnitOfWork, dispute_id: str, actor: Actor, *,
                 reason: str | None = None) -> Dispute:
    """The platform lost: the held money leaves for good and the payment is charged back.
    The seller's part left at opening (through its debt if need be); the platform's part
    now leaves its revenue."""
    permissions.check(actor, Action.DECIDE_DISPUTE)
    reason = None if reason is None else require_text(reason, "reason")
    now = uow.now()
    dispute = _move(uow, dispute_id, D.LOST, actor, reason,
                    {"lost_at": now, "decision_reason": reason})
    payment = uow.payments.transition(dispute["payment_id"], {str(P.DISPUTED)},
                                      str(P.CHARGED_BACK), {"updated_at": now})
    assert payment is not None, f"dispute {dispute_id}'s payment is not disputed"
    uow.earnings.change(payment["id"], refunded=dispute["seller_part"])
    entry = lost_entry(dispute_id=dispute_id, payment_id=payment["id"],
                       currency=dispute["currency"], amount=dispute["amount"],
                       parts=parts_of(dispute), discount_part=dispute["discount_part"],
                       about=RevenueTags.of(payment, dispute_amount=dispute["amount"]))
    if entry.postings:
        uow.ledger.post(entry, now)
    else:  # the seller's part was all of it: no money moves, but the loss counts
        uow.analytics.append_entry(entry, now)
    _record_payment_move(uow, payment, actor, f"dispute {dispute_id} lost", now)
    emit(uow, EventType.DISPUTE_CLOSED, "dispute", dispute)
    return dispute


def get_dispute(uow: UnitOfWork, dispute_id: str, actor: Actor) -> Dispute:
    permissions.check(actor, Action.READ_DISPUTE)
    dispute = fetch(uow.disputes, "dispute", dispute_id)
    permissions.check_object(actor, Action.READ_DISPUTE, dispute, f"dispute {dispute_id}")
    return dispute


def list_disputes(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                  status: str | None = None, payment_id: str | None = None,
                  seller_id: str | None = None) -> list[Dispute]:
    """Newest first, only those on payments the actor may see."""
    filters: dict[str, Any] = {"status": status, "payment_id": payment_id,
                               "seller_id": seller_id}
    for name, value in permissions.list_scope(actor, Action.READ_DISPUTE).items():
        if filters[name] not in (None, value):
            return []  # another seller's disputes do not exist for this caller
        filters[name] = value
    if status is not None:
        _enum(DisputeStatus, status, "status")
    if payment_id is not None:
        get_payment(uow, payment_id, actor)
    return uow.disputes.list(filters=filters, limit=limit, before_id=cursor)


# -- helpers ---------------------------------------------------------------------------


def in_flight(refund: Refund) -> bool:
    """An approved refund already handed to (or being handed to) its gateway: the money is
    on its way back, so a dispute leaves it to the gateway's answer."""
    return refund["status"] == RefundStatus.APPROVED and (
        refund["next_submit_at"] is not None or refund["submitted_at"] is not None)


def _cancel_refund_requests(uow: UnitOfWork, payment_id: str, actor: Actor,
                            now: datetime) -> None:
    """Close the payment's open refund requests (requested: canceled; approved and not yet
    carried out: failed) and release what they reserved, in one UPDATE of the payment.
    One decided meanwhile by someone else, or already sent to its gateway, is left as it
    is."""
    released = 0
    for refund in uow.refunds.open_on_payment(payment_id):
        if in_flight(refund):
            continue
        if refund["status"] == RefundStatus.REQUESTED:
            target = RefundStatus.CANCELED
            values: dict[str, Any] = {"canceled_at": now, "decided_by": str(actor),
                                      "cancellation_reason": CANCELED_FOR}
        else:
            target = RefundStatus.FAILED
            values = {"failed_at": now, "failure_reason": CANCELED_FOR}
        moved = uow.refunds.transition(refund["id"], {refund["status"]}, str(target),
                                       {**values, "updated_at": now})
        if moved is None:
            continue
        released += moved["amount"]
        uow.records.status_event("refund", refund["id"], refund["status"], target,
                                 str(actor), CANCELED_FOR, now)
        uow.records.audit(str(actor), f"refund.{target}", "refund", refund["id"],
                          {"status": refund["status"]},
                          {"status": str(target), "amount": refund["amount"]}, now)
        if target is RefundStatus.FAILED:  # approved, not carried out: the platform hears
            emit_refund_failed(uow, moved)
    if released:
        uow.payments.release_refund(payment_id, released, now)


def _move(uow: UnitOfWork, dispute_id: str, target: DisputeStatus, actor: Actor,
          reason: str | None, values: dict[str, Any]) -> Dispute:
    now = uow.now()
    dispute = guarded_move(uow.disputes, DISPUTE_TRANSITIONS, "dispute", dispute_id,
                           sources_of(DISPUTE_TRANSITIONS, target), str(target),
                           {**values, "updated_at": now})
    previous = dispute["previous_status"]
    uow.records.status_event("dispute", dispute_id, previous, target, str(actor), reason, now)
    uow.records.audit(str(actor), f"dispute.{target}", "dispute", dispute_id,
                      {"status": previous},
                      {"status": str(target), "amount": dispute["amount"]}, now)
    return dispute


def _record_payment_move(uow: UnitOfWork, payment: Payment, actor: Actor, reason: str,
                         now: datetime) -> None:
    previous, target = payment["previous_status"], payment["status"]
    assert previous is not None and target in PAYMENT_TRANSITIONS[P(previous)]
    uow.records.status_event("payment", payment["id"], previous, target, str(actor), reason,
                             now)
    uow.records.audit(str(actor), f"payment.{target}", "payment", payment["id"],
                      {"status": previous},
                      {"status": target, "disputed_amount": payment["disputed_amount"]}, now)
    fulfilment.payment_moved(uow, payment, actor, now)


def _disputable(payment: Payment) -> int:
    """What a dispute may still hold: neither refunded nor disputed. (Open refund requests
    do not count: opening the dispute cancels them.)"""
    return payment["total"] - payment["refunded_amount"] - payment["disputed_amount"]


def _check_disputable(payment: Payment) -> None:
    status = payment["status"]
    if status not in CAPTURED_STATES:
        why = " (it has an open dispute)" if status == P.DISPUTED else ""
        raise InvalidTransition(
            f"payment is {status}{why}; only a succeeded or partially refunded payment can "
            "be disputed", current=status, target=str(P.DISPUTED))


def _exceeds(payment: Payment, amount: int) -> DisputeExceedsCaptured:
    currency, left = payment["currency"], _disputable(payment)

    def shown(value: int) -> str:
        return f"{format_amount(value, currency)} {currency}"

    return DisputeExceedsCaptured(
        f"dispute of {shown(amount)} exceeds the {shown(left)} left of the payment "
        f"(total {shown(payment['total'])}, refunded {shown(payment['refunded_amount'])}): "
        "disputes and refunds together never exceed the captured amount",
        disputable=left)


def _check_minor_units(value: object, name: str, *, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        kind = "a positive" if positive else "a non-negative"
        raise InvalidAmount(f"{name} must be {kind} integer of minor units", field=name)
    check_amount(value, name)


def _enum(enum: type[StrEnum], value: str, name: str) -> str:
    try:
        return str(enum(value))
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationFailed(f"{name} {value!r} is not one of: {allowed}",
                               field=name) from None
