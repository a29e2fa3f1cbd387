"""An order's status, following its payments (``domain.orders.follow``).

Called by every payment move (``services.fulfilment``), after the payment row moved: the
order row is locked second, so two payments of one order captured at once confirm it once.
This module sits below payments and refunds and imports neither: what a cancelled order's
other payments need (cancel, refund) is ``services.orders.settle_cancelled``'s, which this
asks for by setting ``settle_due_at``.

A payment confirmed after its order was cancelled leaves the order cancelled (the payment's
own history marks it ``needs_review``); the order's audit trail notes it and the order is
due to be settled again, so the money is asked back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.events import EventType
from paytrack.domain.orders import Order, OrderStatus, confirmed_code, follow
from paytrack.domain.payments import Payment
from paytrack.services.events import emit

OS = OrderStatus
_OPEN_OR_PAID = frozenset({"pending", "processing", "succeeded", "partially_refunded"})
LINE_FIELDS = ("line_no", "item_type", "item_id", "seller_id", "quantity", "unit_price",
               "amount", "discount", "tax", "shipping", "payment_id")
PAYMENT_FIELDS = ("id", "seller_id", "status", "total", "refunded_amount", "payment_url",
                  "payment_url_expires_at", "platform_fee", "seller_amount")


def follow_payment(uow: UnitOfWork, payment: Payment, actor: Actor, now: datetime) -> None:
    """Lock the order ``payment`` pays, re-read its payments and move it where they call
    for (recorded, announced); otherwise only keep its refunded amount."""
    order_id = payment["order_ref"]
    assert order_id is not None
    order = uow.orders.lock(order_id)
    if order is None:
        return
    states = uow.orders.payment_states(order_id)
    values: dict[str, Any] = {"updated_at": now}
    refunded = sum(s.refunded_amount for s in states)
    if refunded != order["refunded_amount"]:
        values["refunded_amount"] = refunded
    target = follow(order["status"], states)
    if target is None:
        if order["status"] == OS.CANCELLED and payment["status"] == "succeeded":
            values["settle_due_at"] = now  # money taken for a cancelled order: ask it back
            uow.records.audit(str(actor), "order.paid_after_cancel", "order", order_id,
                              None, {"payment_id": payment["id"]}, now)
        if len(values) > 1:
            uow.orders.update(order_id, values)
        return
    while target is not None:  # confirmed with a refund already made: then refunded too
        if target is OS.CONFIRMED:
            values["confirmed_at"] = now
            reason = f"every payment succeeded (last: {payment['id']})"
        elif target is OS.CANCELLED:
            values["cancelled_at"] = now
            if sum(s.status in _OPEN_OR_PAID for s in states):
                values["settle_due_at"] = now  # its other payments: cancel or refund them
            reason = f"payment {payment['id']} {payment['status']}"
            why = _last_reason(uow, payment["id"])
            if why:
                reason = f"{reason}: {why}"[:500]
        else:
            values["refunded_at"] = now
            reason = (f"payment {payment['id']} {payment['status']}"  # no totals: sellers read
                      if payment["status"] in ("partially_refunded", "refunded")
                      else "refunds made before every payment succeeded")
        moved = uow.orders.transition(order_id, {order["status"]}, str(target), values)
        assert moved is not None, f"order {order_id} is locked and was {order['status']}"
        record_move(uow, moved, actor, reason, now)
        order, values = moved, {"updated_at": now}
        target = follow(order["status"], states)


def record_move(uow: UnitOfWork, order: Order, actor: Actor, reason: str | None,
                now: datetime, *, action: str | None = None) -> None:
    """The move's history and audit, and its event (order.confirmed, order.cancelled)."""
    previous, target = order["previous_status"], order["status"]
    uow.records.status_event("order", order["id"], previous, target, str(actor), reason, now)
    uow.records.audit(str(actor), action or f"order.{target}", "order", order["id"],
                      {"status": previous}, {"status": target, "reason": reason}, now)
    event = {OS.CONFIRMED: EventType.ORDER_CONFIRMED,
             OS.CANCELLED: EventType.ORDER_CANCELLED}.get(OS(target))
    if event is not None and previous != target:
        emit(uow, event, "order", full_order(uow, order))


def full_order(uow: UnitOfWork, order: Order) -> dict[str, Any]:
    """The order with its code, lines and payments: what an admin sees of it."""
    lines = uow.orders.lines_of([order["id"]])
    payments = uow.orders.payments_of([order["id"]])
    return with_parts(order, lines, payments)


def with_parts(order: Order, lines: list[Any], payments: list[Any]) -> dict[str, Any]:
    return {**order, "confirmed_code": confirmed_code(order["status"]),
            "lines": [{k: line[k] for k in LINE_FIELDS} for line in lines],
            "payments": [{k: p[k] for k in PAYMENT_FIELDS} for p in payments]}


def _last_reason(uow: UnitOfWork, payment_id: str) -> str | None:
    """Why the payment made its last move, as its history recorded it."""
    history = uow.records.status_history("payment", payment_id)
    return history[-1]["reason"] if history else None
