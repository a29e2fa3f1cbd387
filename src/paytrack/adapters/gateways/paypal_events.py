"""PayPal's webhook events (Orders v2, Payments v2, Disputes v1) in paytrack's terms.

Only called on a delivery whose signature was verified. Amounts are PayPal ``{currency_code,
value}`` objects, decimal strings in major units, read exactly into ISO minor units. paytrack
names its own objects in PayPal's free fields: a payment id in the purchase unit's
``custom_id`` (echoed on its capture), a refund id in the refund's ``custom_id`` and
``invoice_id``; a value there is taken only when it has the form of a paytrack id, so a
refund made in PayPal's dashboard (which may copy the order's invoice number) names no
paytrack refund.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from paytrack.domain.gateways import EventKind, GatewayEvent, Notification
from paytrack.domain.ids import is_id
from paytrack.domain.money import parse_amount

# CUSTOMER.DISPUTE.RESOLVED ``dispute_outcome.outcome_code``: who kept the money.
WON_OUTCOMES = frozenset({"RESOLVED_SELLER_FAVOUR", "CANCELED_BY_BUYER", "DENIED",
                          "RESOLVED_WITH_PAYOUT"})  # the last: PayPal paid the buyer itself
LOST_OUTCOMES = frozenset({"RESOLVED_BUYER_FAVOUR", "ACCEPTED"})  # ACCEPTED: seller gave in


def translate(event: Mapping[str, Any]) -> Notification:
    """A verified PayPal event -> the events paytrack acts on (none for other types)."""
    event_id, event_type = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise ValueError("a PayPal event has an id and an event_type")
    resource = _obj(event.get("resource"))
    occurred_at = _time(event.get("create_time"))
    handler = _HANDLERS.get(event_type)
    found = handler(resource) if handler else None
    events = () if found is None else (_at(found, occurred_at),)
    return Notification(event_id=event_id, event_type=event_type, events=events)


def money(value: object) -> tuple[int, str] | None:
    """A PayPal money object -> (ISO minor units, currency); None when absent."""
    amount = _obj(value)
    currency, text = amount.get("currency_code"), amount.get("value")
    if currency is None and text is None:
        return None
    if not isinstance(currency, str) or not isinstance(text, str):
        raise ValueError(f"not a PayPal amount: {value!r}")
    return parse_amount(text, currency), currency


def _capture(kind: EventKind, capture: Mapping[str, Any]) -> GatewayEvent:
    amount = money(capture.get("amount"))
    fee = money(_obj(capture.get("seller_receivable_breakdown")).get("paypal_fee"))
    related = _obj(_obj(capture.get("supplementary_data")).get("related_ids"))
    return GatewayEvent(
        kind=kind,
        gateway_payment_id=_str(capture.get("id")),
        gateway_order_id=_str(related.get("order_id")) or _link_id(capture, "/v2/checkout/orders/"),
        payment_id=_own_id("pay", capture.get("custom_id"), capture.get("invoice_id")),
        amount=amount[0] if amount else None,
        currency=amount[1] if amount else None,
        fee=fee[0] if fee else None,
        reason=_str(_obj(capture.get("status_details")).get("reason")),
    )


def _capture_completed(capture: Mapping[str, Any]) -> GatewayEvent:
    return _capture(EventKind.PAYMENT_SUCCEEDED, capture)


def _capture_pending(capture: Mapping[str, Any]) -> GatewayEvent:
    return _capture(EventKind.PAYMENT_PROCESSING, capture)


def _capture_denied(capture: Mapping[str, Any]) -> GatewayEvent:
    found = _capture(EventKind.PAYMENT_FAILED, capture)
    if found.reason is None:
        return replace(found, reason=_str(capture.get("status")) or "DENIED")
    return found


def _order_approved(order: Mapping[str, Any]) -> GatewayEvent:
    units = order.get("purchase_units")
    unit = _obj(units[0]) if isinstance(units, list) and units else {}
    amount = money(unit.get("amount"))
    return GatewayEvent(
        kind=EventKind.PAYMENT_APPROVED,
        gateway_order_id=_str(order.get("id")),
        payment_id=_own_id("pay", unit.get("custom_id"), unit.get("reference_id"),
                           unit.get("invoice_id")),
        amount=amount[0] if amount else None,
        currency=amount[1] if amount else None,
    )


def _refunded(refund: Mapping[str, Any]) -> GatewayEvent:
    amount = money(refund.get("amount"))
    return GatewayEvent(
        kind=EventKind.REFUND_SUCCEEDED,
        gateway_refund_id=_str(refund.get("id")),
        gateway_payment_id=_link_id(refund, "/v2/payments/captures/"),
        refund_id=_own_id("re", refund.get("custom_id"), refund.get("invoice_id"),
                          refund.get("note_to_payer")),
        amount=amount[0] if amount else None,
        currency=amount[1] if amount else None,
    )


def _dispute(kind: EventKind, dispute: Mapping[str, Any],
             amount: tuple[int, str] | None) -> GatewayEvent:
    transactions = dispute.get("disputed_transactions")
    disputed = _obj(transactions[0]) if isinstance(transactions, list) and transactions else {}
    return GatewayEvent(
        kind=kind,
        gateway_dispute_id=_str(dispute.get("dispute_id")),
        gateway_payment_id=_str(disputed.get("seller_transaction_id")),
        payment_id=_own_id("pay", disputed.get("custom"), disputed.get("invoice_number")),
        amount=amount[0] if amount else None,
        currency=amount[1] if amount else None,
        reason=_str(dispute.get("reason")),
    )


def _dispute_created(dispute: Mapping[str, Any]) -> GatewayEvent:
    return _dispute(EventKind.DISPUTE_OPENED, dispute, money(dispute.get("dispute_amount")))


def _dispute_resolved(dispute: Mapping[str, Any]) -> GatewayEvent | None:
    outcome = _obj(dispute.get("dispute_outcome"))
    code = outcome.get("outcome_code")
    disputed = money(dispute.get("dispute_amount"))
    if code in WON_OUTCOMES:
        return _dispute(EventKind.DISPUTE_WON, dispute, disputed)
    if code in LOST_OUTCOMES:  # what the buyer got back, when PayPal says
        return _dispute(EventKind.DISPUTE_LOST, dispute,
                        money(outcome.get("amount_refunded")) or disputed)
    return None  # no outcome paytrack can book (NONE, or a code it does not know)


_HANDLERS = {
    "PAYMENT.CAPTURE.COMPLETED": _capture_completed,
    "PAYMENT.CAPTURE.PENDING": _capture_pending,
    "PAYMENT.CAPTURE.DENIED": _capture_denied,
    "PAYMENT.CAPTURE.DECLINED": _capture_denied,
    "CHECKOUT.ORDER.APPROVED": _order_approved,
    "PAYMENT.CAPTURE.REFUNDED": _refunded,
    "CUSTOMER.DISPUTE.CREATED": _dispute_created,
    "CUSTOMER.DISPUTE.RESOLVED": _dispute_resolved,
}


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _own_id(prefix: str, *candidates: object) -> str | None:
    """The first candidate that is a paytrack id with ``prefix``."""
    for value in candidates:
        if isinstance(value, str) and is_id(value, prefix):
            return value
    return None


def _link_id(resource: Mapping[str, Any], path: str) -> str | None:
    """The id at the end of the ``up`` link when it points at ``path`` (a capture's order,
    a refund's capture)."""
    links = resource.get("links")
    for link in links if isinstance(links, list) else ():
        link = _obj(link)
        href = link.get("href")
        if link.get("rel") == "up" and isinstance(href, str) and path in href:
            tail = href.split(path, 1)[1].split("?", 1)[0].strip("/")
            return tail or None
    return None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _at(found: GatewayEvent, occurred_at: datetime | None) -> GatewayEvent:
    return replace(found, occurred_at=occurred_at) if occurred_at else found
