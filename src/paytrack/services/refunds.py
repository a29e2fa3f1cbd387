"""Refunds: requested -> approved -> succeeded | failed, or requested -> rejected | canceled.

A refund of a payment taken through a configured gateway is carried out there: approval
leaves it approved and due to be sent (``next_submit_at``); ``services.gateway_jobs`` sends
it after the approval commits, and the provider's answer or webhook settles it
(``settle_refund``). Otherwise (a recorded payment) it succeeds at approval.

A request reserves its amount on the payment at once, so open requests plus refunded money
never exceed the total; each later move settles the reservation in the same transaction:

    requested            reserve    refund_reserved_amount += amount, within the total
    approved             (holds)
    succeeded            spend      refund_reserved_amount -= amount, refunded_amount += amount
    rejected / canceled  release    refund_reserved_amount -= amount
    / failed

Each is one conditional UPDATE of the payment row (backed by a CHECK), so racing requests
and approvals serialize on the row and none can pass the total; a release runs only after
the refund's own guarded move succeeded, so a refund is settled once."""

from __future__ import annotations

from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import SYSTEM, Actor
from paytrack.domain.analytics import RevenueTags
from paytrack.domain.errors import (
    InvalidAmount,
    InvalidTransition,
    RefundExceedsCaptured,
    RefundWindowClosed,
)
from paytrack.domain.events import EventType
from paytrack.domain.ids import new_id
from paytrack.domain.limits import check_amount
from paytrack.domain.money import format_amount
from paytrack.domain.payments import Payment, refund_entry, refundable_amount
from paytrack.domain.refund_rules import Decision, Rule
from paytrack.domain.refunds import Refund
from paytrack.domain.splits import taken_back
from paytrack.domain.states import (
    CAPTURED_STATES,
    REFUND_TRANSITIONS,
    PaymentStatus,
    RefundStatus,
    sources_of,
)
from paytrack.services import coupons, fulfilment, gateways, permissions, refund_rules, seller_funds
from paytrack.services._common import fetch, guarded_move, require_text
from paytrack.services.events import emit, emit_refund_failed
from paytrack.services.payments import get_payment, split_of
from paytrack.services.permissions import Action

R = RefundStatus


def request_refund(uow: UnitOfWork, payment_id: str, actor: Actor, *, reason: str,
                   amount: int | None = None) -> Refund:
    """Ask for a full (``amount=None``: all that is refundable now) or partial refund, and
    reserve it on the payment; then the refund policy decides, in this transaction
    (``services.refund_rules``): approved and carried out now, refused (nothing is kept),
    or waiting for an admin to decide, or for the requester to cancel it."""
    return _request(uow, payment_id, actor, reason=reason, amount=amount, one_step=False)


def _request(uow: UnitOfWork, payment_id: str, actor: Actor, *, reason: str,
             amount: int | None, one_step: bool, gateway_refund_id: str | None = None
             ) -> Refund:
    """Reserve and record a request, and decide it: ``one_step``, an admin approves it at
    once; otherwise the refund policy in force decides."""
    permissions.check(actor, Action.REQUEST_REFUND)
    reason = require_text(reason, "reason")
    payment = fetch(uow.payments, "payment", payment_id)
    permissions.check_object(actor, Action.REQUEST_REFUND, payment, f"payment {payment_id}")
    _check_refundable(payment)
    if amount is None:
        amount = refundable_amount(payment)
        if amount == 0:
            raise _exceeds(payment, None)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("refund amount must be a positive integer of minor units",
                            field="amount")
    check_amount(amount, "amount")
    if amount > refundable_amount(payment):
        raise _exceeds(payment, amount)
    now = uow.now()
    if uow.payments.reserve_refund(payment_id, amount, now) is None:
        current = fetch(uow.payments, "payment", payment_id)  # it moved since we read it
        _check_refundable(current)
        raise _exceeds(current, amount)
    decision = (Decision("approve", Rule.ADMIN_ONE_STEP, "an admin refunded in one step")
                if one_step else refund_rules.decide_request(uow, payment, actor, amount))
    if decision.outcome == "refuse":  # raising rolls the reservation back: nothing is kept
        raise RefundWindowClosed(decision.detail, rule=str(decision.rule))
    refund: Refund = {
        "id": new_id("re"), "payment_id": payment_id, "currency": payment["currency"],
        "amount": amount, "status": str(R.REQUESTED), "previous_status": None,
        "reason": reason, "requested_by": str(actor), "decided_by": None,
        "rejection_reason": None, "failure_reason": None, "cancellation_reason": None,
        "seller_part": None, "platform_part": None, "tax_part": None, "shipping_part": None,
        "discount_part": None,
        "gateway_refund_id": gateway_refund_id, "metadata": {}, "created_at": now,
        "updated_at": now,
        "approved_at": None, "rejected_at": None, "succeeded_at": None, "failed_at": None,
        "canceled_at": None, "decision_rule": str(Rule.MANUAL_REVIEW),
        "decision_detail": decision.detail if decision.outcome == "wait" else None,
        "next_submit_at": None, "submitted_at": None, "submit_attempts": 0,
        "last_error": None,
    }
    uow.refunds.insert(refund)
    uow.records.status_event("refund", refund["id"], None, R.REQUESTED, str(actor), reason, now)
    uow.records.audit(str(actor), "refund.requested", "refund", refund["id"], None,
                      {"payment_id": payment_id, "amount": amount, "status": R.REQUESTED,
                       "decision_rule": str(decision.rule)}, now)
    if decision.outcome == "approve":  # a rule of the policy's (the system's), or an admin
        return _approve(uow, refund["id"], actor if one_step else SYSTEM, decision,
                        send=gateway_refund_id is None)
    return refund


def approve_refund(uow: UnitOfWork, refund_id: str, actor: Actor) -> Refund:
    """An admin approves; the refund is carried out (recorded gateways succeed at once)."""
    return _approve(uow, refund_id, actor,
                    Decision("approve", Rule.ADMIN, "approved by an admin"))


def _approve(uow: UnitOfWork, refund_id: str, actor: Actor, decision: Decision, *,
             send: bool = True) -> Refund:
    """Approve by ``decision``'s rule (named in the refund, its history and the audit),
    then carry the refund out: at once, or (``send``, through a configured gateway) due to
    be sent there."""
    permissions.check(actor, Action.DECIDE_REFUND)
    now = uow.now()
    refund = _move(uow, refund_id, R.APPROVED, actor, f"{decision.rule}: {decision.detail}",
                   {"approved_at": now, "decided_by": str(actor),
                    "decision_rule": str(decision.rule), "decision_detail": decision.detail})
    if send and gateways.carries_out(uow, fetch(uow.payments, "payment",
                                                refund["payment_id"])):
        uow.refunds.update(refund_id, {"next_submit_at": now})
        return {**refund, "next_submit_at": now}
    return _succeed(uow, refund_id, actor)


def settle_refund(uow: UnitOfWork, refund_id: str, actor: Actor, *, succeeded: bool,
                  gateway_refund_id: str | None = None, reason: str | None = None) -> Refund:
    """The gateway's answer on an approved refund: succeeded (the money leaves, as at
    approval for a recorded payment) or failed (what it reserved is released: the funds
    stay where they were)."""
    permissions.check(actor, Action.DECIDE_REFUND)
    now = uow.now()
    sent: dict[str, Any] = {"next_submit_at": None, "submitted_at": now}
    if gateway_refund_id is not None:
        sent["gateway_refund_id"] = gateway_refund_id
    if succeeded:
        uow.refunds.update(refund_id, sent)
        return _succeed(uow, refund_id, actor)
    reason = (reason or "the gateway refused the refund")[:500]
    failed = _release(uow, refund_id, R.FAILED, actor, reason,
                      {**sent, "failed_at": now, "failure_reason": reason})
    emit_refund_failed(uow, failed)
    return failed


def record_gateway_refund(uow: UnitOfWork, payment_id: str, actor: Actor, *, amount: int,
                          gateway_refund_id: str | None, reason: str) -> Refund:
    """A refund made at the gateway itself (its dashboard): recorded as requested,
    approved and succeeded at once, nothing sent back."""
    return _request(uow, payment_id, actor, reason=reason, amount=amount, one_step=True,
                    gateway_refund_id=gateway_refund_id or f"untracked_{new_id('re')}")


def reject_refund(uow: UnitOfWork, refund_id: str, actor: Actor, *,
                  reason: str) -> Refund:
    """An admin turns a request down; what it reserved is released."""
    permissions.check(actor, Action.DECIDE_REFUND)
    reason = require_text(reason, "reason")
    now = uow.now()
    return _release(uow, refund_id, R.REJECTED, actor, reason,
                    {"rejected_at": now, "decided_by": str(actor), "rejection_reason": reason,
                     "decision_rule": str(Rule.ADMIN), "decision_detail": "rejected by an admin"})


def cancel_refund(uow: UnitOfWork, refund_id: str, actor: Actor, *,
                  reason: str | None = None) -> Refund:
    """Withdraw a request nobody has decided yet: the seller or customer that made it, or
    an admin. What it reserved is released."""
    permissions.check(actor, Action.CANCEL_REFUND)
    if reason is not None:
        reason = require_text(reason, "reason")
    refund = fetch(uow.refunds, "refund", refund_id)
    payment = fetch(uow.payments, "payment", refund["payment_id"])
    permissions.check_object(actor, Action.CANCEL_REFUND,
                             {**payment, "requested_by": refund["requested_by"]},
                             f"refund {refund_id}")
    now = uow.now()
    return _release(uow, refund_id, R.CANCELED, actor, reason,
                    {"canceled_at": now, "decided_by": str(actor),
                     "cancellation_reason": reason})


def refund_payment(uow: UnitOfWork, payment_id: str, actor: Actor, *, reason: str,
                   amount: int | None = None) -> Refund:
    """An admin's one-step refund: requested, approved and carried out in one transaction."""
    permissions.check(actor, Action.REFUND_PAYMENT)
    return _request(uow, payment_id, actor, reason=reason, amount=amount, one_step=True)


def get_refund(uow: UnitOfWork, refund_id: str, actor: Actor) -> Refund:
    permissions.check(actor, Action.READ_REFUND)
    refund = fetch(uow.refunds, "refund", refund_id)
    payment = fetch(uow.payments, "payment", refund["payment_id"])
    permissions.check_object(actor, Action.READ_REFUND, payment, f"refund {refund_id}")
    return refund


def list_refunds(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                 status: str | None = None, payment_id: str | None = None) -> list[Refund]:
    """Newest first, only those on payments the actor may see."""
    scope = permissions.list_scope(actor, Action.READ_REFUND)
    if payment_id is not None:
        get_payment(uow, payment_id, actor)
    return uow.refunds.list(filters={"status": status, "payment_id": payment_id},
                            limit=limit, before_id=cursor, **scope)


def _succeed(uow: UnitOfWork, refund_id: str, actor: Actor) -> Refund:
    refund = uow.refunds.get(refund_id)
    assert refund is not None, "approved in this transaction"
    now = uow.now()
    amount = refund["amount"]
    payment = uow.payments.add_refund(refund["payment_id"], amount, now)
    if payment is None:  # the refund holds its reservation: only the payment's state refuses
        _check_refundable(fetch(uow.payments, "payment", refund["payment_id"]),
                          "it cannot be refunded now")
        raise AssertionError(f"refund {refund_id} holds no reservation on its payment")
    after = payment["refunded_amount"]
    parts, discount_part = taken_back(split_of(payment), payment["total"], after - amount,
                                      after)
    refund = _move(uow, refund_id, R.SUCCEEDED, actor, None, {
        "succeeded_at": now, "seller_part": parts.seller_amount,
        "platform_part": parts.platform_fee, "tax_part": parts.tax_collected,
        "shipping_part": parts.shipping_collected, "discount_part": discount_part,
    })
    uow.ledger.post(
        refund_entry(payment_id=payment["id"], refund_id=refund_id, gateway=payment["gateway"],
                     currency=payment["currency"], parts=parts, discount_part=discount_part,
                     seller_side=seller_funds.take_back(uow, payment, parts.seller_amount),
                     about=RevenueTags.of(payment)),
        now,
    )
    coupons.payment_released(uow, payment)  # fully refunded: its coupon's place is free
    uow.records.status_event("payment", payment["id"], payment["previous_status"],
                             payment["status"], str(actor), f"refund {refund_id}", now)
    uow.records.audit(str(actor), "payment.refunded", "payment", payment["id"],
                      {"status": payment["previous_status"], "refunded_amount": after - amount},
                      {"status": payment["status"], "refunded_amount": after}, now)
    emit(uow, EventType.REFUND_SUCCEEDED, "refund", refund)
    fulfilment.payment_moved(uow, payment, actor, now)
    return refund


def _release(uow: UnitOfWork, refund_id: str, target: RefundStatus, actor: Actor,
             reason: str | None, values: dict[str, Any]) -> Refund:
    """Close a refund that will not be paid and give back what it reserved; the guarded
    move comes first, so of two racing closes only the one that moved releases."""
    refund = _move(uow, refund_id, target, actor, reason, values)
    uow.payments.release_refund(refund["payment_id"], refund["amount"], uow.now())
    return refund


def _move(uow: UnitOfWork, refund_id: str, target: RefundStatus, actor: Actor,
          reason: str | None, values: dict[str, Any]) -> Refund:
    now = uow.now()
    sources = sources_of(REFUND_TRANSITIONS, target)
    refund = guarded_move(uow.refunds, REFUND_TRANSITIONS, "refund", refund_id, sources,
                          str(target), {**values, "updated_at": now})
    previous = refund["previous_status"]
    uow.records.status_event("refund", refund_id, previous, target, str(actor), reason, now)
    after = {"status": str(target), "amount": refund["amount"]}
    if "decision_rule" in values:
        after["decision_rule"] = values["decision_rule"]
    uow.records.audit(str(actor), f"refund.{target}", "refund", refund_id,
                      {"status": previous}, after, now)
    return refund


def _check_refundable(payment: Payment, refusal: str | None = None) -> None:
    """A payment can be refunded while its money is held (succeeded or partially refunded);
    a fully refunded one simply has nothing left (``_exceeds``)."""
    status = payment["status"]
    if status not in CAPTURED_STATES and status != PaymentStatus.REFUNDED:
        raise InvalidTransition(
            f"payment is {status}; " + (refusal or "only a succeeded or partially refunded "
                                        "payment can be refunded"), current=status)


def _exceeds(payment: Payment, amount: int | None) -> RefundExceedsCaptured:
    """``amount`` (None: a full refund) is more than the payment has left to refund."""
    refundable = refundable_amount(payment)
    currency = payment["currency"]
    asked = "" if amount is None else f"of {format_amount(amount, currency)} {currency} "
    detail = (f"refund {asked}exceeds the refundable "
              f"{format_amount(refundable, currency)} {currency}")
    reserved = payment["refund_reserved_amount"]
    if reserved:
        detail += (f"; {format_amount(reserved, currency)} {currency} is held by open refund "
                   "requests until they are approved, rejected or canceled")
    return RefundExceedsCaptured(detail, refundable=refundable)
