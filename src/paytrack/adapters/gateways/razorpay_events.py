"""Razorpay's webhook events (already verified) translated into ``GatewayEvent``s.

An event is ``{"entity": "event", "event": "payment.captured", "contains": ["payment"],
"payload": {"payment": {"entity": {...}}}, "created_at": <epoch s>}``
(https://razorpay.com/docs/webhooks/payloads/). paytrack's ids come back in the notes it
sent: ``paytrack_payment_id`` on the order (and on the payment when the checkout page
passes it), ``paytrack_refund_id`` on the refund. Razorpay sends ``"notes": []`` when there
are none. A field that is missing or malformed becomes ``None``: this never raises.

    payment.authorized        payment.approved
    payment.captured          payment.succeeded (with the fee, tax included)
    order.paid                payment.succeeded (the order's payment inside)
    payment.failed            payment.failed (error_description, else error_code)
    refund.processed          refund.succeeded
    refund.failed             refund.failed
    payment.dispute.created   dispute.opened (reason_code)
    payment.dispute.won/lost  dispute.won/lost
    payment.dispute.closed    by the dispute's status: won, lost, or "closed" (the bank
                              closed it after the merchant answered or refunded): lost
                              when Razorpay deducted an amount, won otherwise
    anything else             no events
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from paytrack.adapters.gateways.razorpay_units import from_razorpay_amount
from paytrack.domain.errors import InvalidAmount, InvalidCurrency
from paytrack.domain.gateways import EventKind, GatewayEvent
from paytrack.domain.money import validate_currency

_PAYMENT_EVENTS = {
    "payment.authorized": EventKind.PAYMENT_APPROVED,
    "payment.captured": EventKind.PAYMENT_SUCCEEDED,
    "payment.failed": EventKind.PAYMENT_FAILED,
    "order.paid": EventKind.PAYMENT_SUCCEEDED,
}
_REFUND_EVENTS = {
    "refund.processed": EventKind.REFUND_SUCCEEDED,
    "refund.failed": EventKind.REFUND_FAILED,
}
_DISPUTE_EVENTS = {
    "payment.dispute.created": EventKind.DISPUTE_OPENED,
    "payment.dispute.won": EventKind.DISPUTE_WON,
    "payment.dispute.lost": EventKind.DISPUTE_LOST,
}


def translate(event: Mapping[str, Any], occurred_at: datetime) -> tuple[GatewayEvent, ...]:
    name = event.get("event")
    if name in _PAYMENT_EVENTS:
        return (_payment_event(_PAYMENT_EVENTS[name], event, occurred_at),)
    if name in _REFUND_EVENTS:
        return (_refund_event(_REFUND_EVENTS[name], event, occurred_at),)
    if name in _DISPUTE_EVENTS:
        return (_dispute_event(_DISPUTE_EVENTS[name], event, occurred_at),)
    if name == "payment.dispute.closed":
        return (_dispute_event(_closed_dispute_kind(entity(event, "dispute")), event,
                               occurred_at),)
    return ()


def _payment_event(kind: EventKind, event: Mapping[str, Any],
                   occurred_at: datetime) -> GatewayEvent:
    payment, order = entity(event, "payment"), entity(event, "order")
    amount, currency, fee = money(payment, with_fee=kind is EventKind.PAYMENT_SUCCEEDED)
    reason = None
    if kind is EventKind.PAYMENT_FAILED:
        reason = text(payment, "error_description") or text(payment, "error_code")
    return GatewayEvent(
        kind=kind, gateway_payment_id=text(payment, "id"),
        gateway_order_id=text(payment, "order_id") or text(order, "id"),
        payment_id=_paytrack_id(payment, order, key="paytrack_payment_id"),
        amount=amount, currency=currency, fee=fee, reason=reason, occurred_at=occurred_at)


def _refund_event(kind: EventKind, event: Mapping[str, Any],
                  occurred_at: datetime) -> GatewayEvent:
    refund, payment = entity(event, "refund"), entity(event, "payment")
    amount, currency, _ = money(refund, currency_of=payment)
    return GatewayEvent(
        kind=kind, gateway_refund_id=text(refund, "id"),
        refund_id=text(notes(refund), "paytrack_refund_id"),
        gateway_payment_id=text(refund, "payment_id") or text(payment, "id"),
        gateway_order_id=text(payment, "order_id"),
        payment_id=_paytrack_id(refund, payment, key="paytrack_payment_id"),
        amount=amount, currency=currency, occurred_at=occurred_at)


def _dispute_event(kind: EventKind, event: Mapping[str, Any],
                   occurred_at: datetime) -> GatewayEvent:
    dispute, payment = entity(event, "dispute"), entity(event, "payment")
    amount, currency, _ = money(dispute, currency_of=payment)
    return GatewayEvent(
        kind=kind, gateway_dispute_id=text(dispute, "id"),
        gateway_payment_id=text(dispute, "payment_id") or text(payment, "id"),
        gateway_order_id=text(payment, "order_id"),
        payment_id=_paytrack_id(payment, {}, key="paytrack_payment_id"),
        amount=amount, currency=currency, reason=text(dispute, "reason_code"),
        occurred_at=occurred_at)


def _closed_dispute_kind(dispute: Mapping[str, Any]) -> EventKind:
    status = dispute.get("status")
    if status in ("won", "lost"):
        return EventKind.DISPUTE_WON if status == "won" else EventKind.DISPUTE_LOST
    deducted = dispute.get("amount_deducted")
    lost = isinstance(deducted, int) and not isinstance(deducted, bool) and deducted > 0
    return EventKind.DISPUTE_LOST if lost else EventKind.DISPUTE_WON


def entity(event: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``payload.<name>.entity``, or ``{}``."""
    payload = event.get("payload")
    block = payload.get(name) if isinstance(payload, dict) else None
    found = block.get("entity") if isinstance(block, dict) else None
    return found if isinstance(found, dict) else {}


def notes(entity_: Mapping[str, Any]) -> dict[str, Any]:
    found = entity_.get("notes")
    return found if isinstance(found, dict) else {}


def text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) and value else None


def money(entity_: Mapping[str, Any], *, with_fee: bool = False,
          currency_of: Mapping[str, Any] | None = None) -> tuple[int | None, str | None,
                                                                 int | None]:
    """An entity's ``amount``, ``currency`` (else ``currency_of``'s: a refund may carry
    ``""``) and, ``with_fee``, its fee when the fee is in that currency."""
    currency = _currency(entity_.get("currency"))
    if currency is None and currency_of is not None:
        currency = _currency(currency_of.get("currency"))
    amount = _amount(entity_.get("amount"), currency)
    fee = None
    if with_fee and currency is not None:
        # The fee is in base_currency (INR) when the payment is in another currency.
        base = entity_.get("base_currency")
        if base in (None, "", currency):
            fee = _amount(entity_.get("fee"), currency)
    return amount, currency, fee


def _paytrack_id(first: Mapping[str, Any], second: Mapping[str, Any], *, key: str) -> str | None:
    return text(notes(first), key) or text(notes(second), key)


def _currency(value: object) -> str | None:
    try:
        return validate_currency(value)
    except InvalidCurrency:
        return None


def _amount(value: Any, currency: str | None) -> int | None:
    """ISO minor units, or ``None``; with no known currency, the count as Razorpay gave it
    (the same unit, which the payment's own currency names)."""
    if currency is None:
        return _count(value)
    try:
        return from_razorpay_amount(value, currency)
    except InvalidAmount:
        return None


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
