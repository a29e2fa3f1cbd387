"""Stripe's objects read in paytrack's terms: a verified webhook event becomes a
``Notification``, a PaymentIntent a ``PaymentState``.

Everything here reads plain dicts (an event's JSON, or an SDK object's ``to_dict()``), so the
same readers serve webhooks and API answers. Amounts go through ``stripe_units``; a field that
is not what Stripe documents (a fractional or missing amount, an unknown currency) raises
``ValidationFailed`` naming the object, never a ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from paytrack.adapters.gateways.stripe_units import from_stripe_amount
from paytrack.domain.errors import ValidationFailed
from paytrack.domain.gateways import (
    EventKind,
    GatewayEvent,
    Notification,
    PaymentState,
    RemoteStatus,
)
from paytrack.domain.money import validate_currency

Obj = Mapping[str, Any]

# The metadata keys paytrack sends with every object it creates at Stripe.
PAYMENT_KEY = "paytrack_payment_id"
REFUND_KEY = "paytrack_refund_id"
PAYOUT_KEY = "paytrack_payout_id"


def notification(event: Obj, obj: Obj) -> Notification:
    """``event`` is the verified envelope, ``obj`` its ``data.object``."""
    kind = event["type"]
    at = _timestamp(event.get("created"))
    translate = _BY_TYPE.get(kind)
    livemode = event.get("livemode")
    return Notification(event_id=event["id"], event_type=kind,
                        livemode=livemode if isinstance(livemode, bool) else None,
                        events=translate(kind, obj, at) if translate else ())


def intent_state(intent: Obj) -> PaymentState:
    """A PaymentIntent (``latest_charge.balance_transaction`` expanded for the fee) now."""
    status, currency = intent.get("status"), currency_of(intent)
    fee, reason, amount_key = None, None, "amount"
    if status == "succeeded":
        remote, amount_key = RemoteStatus.SUCCEEDED, "amount_received"
        fee = _charge_fee(intent.get("latest_charge"), currency)
    elif status == "processing":
        remote = RemoteStatus.PROCESSING
    elif status == "canceled":
        remote = RemoteStatus.CANCELED
        reason = _str(intent.get("cancellation_reason")) or "canceled"
    elif status == "requires_capture":  # approved, waiting for paytrack's capture
        remote, amount_key, reason = RemoteStatus.PENDING, "amount_capturable", "requires_capture"
    else:  # requires_payment_method (perhaps after a decline: the customer may try again),
        # requires_confirmation, requires_action
        remote, reason = RemoteStatus.PENDING, _payment_error(intent)
    return PaymentState(remote, gateway_payment_id=_id(intent.get("id")),
                        amount=amount_of(intent, amount_key, currency), currency=currency,
                        fee=fee, reason=reason)


def currency_of(obj: Obj) -> str:
    currency = obj.get("currency")
    if not isinstance(currency, str):
        raise ValidationFailed(f"Stripe {_name(obj)} has no currency")
    return validate_currency(currency.upper())


def amount_of(obj: Obj, key: str, currency: str | None = None) -> int:
    """``obj[key]``, a Stripe amount, in ISO minor units of the object's currency."""
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed(f"Stripe {_name(obj)}: {key} is not a whole non-negative "
                               f"amount: {value!r}")
    return from_stripe_amount(value, currency or currency_of(obj))


def _payment_intent(kind: str, intent: Obj, at: datetime | None) -> tuple[GatewayEvent, ...]:
    amount_key, fee, reason = "amount", None, None
    if kind == "payment_intent.succeeded":
        what, amount_key = EventKind.PAYMENT_SUCCEEDED, "amount_received"
        fee = _charge_fee(intent.get("latest_charge"), currency_of(intent))
    elif kind == "payment_intent.amount_capturable_updated":
        what, amount_key = EventKind.PAYMENT_APPROVED, "amount_capturable"
    elif kind == "payment_intent.payment_failed":
        what, reason = EventKind.PAYMENT_FAILED, _payment_error(intent) or "payment failed"
    elif kind == "payment_intent.canceled":
        what = EventKind.PAYMENT_CANCELED
        reason = _str(intent.get("cancellation_reason")) or "canceled"
    else:
        what = EventKind.PAYMENT_PROCESSING
    return (GatewayEvent(what, gateway_payment_id=_id(intent.get("id")),
                         payment_id=_meta(intent, PAYMENT_KEY),
                         amount=amount_of(intent, amount_key), currency=currency_of(intent),
                         fee=fee, reason=reason, occurred_at=at),)


def _checkout_session(kind: str, session: Obj, at: datetime | None) -> tuple[GatewayEvent, ...]:
    paid = session.get("payment_status")
    if kind == "checkout.session.expired":
        what, reason = EventKind.PAYMENT_CANCELED, "checkout expired"
    elif kind == "checkout.session.async_payment_failed":
        what, reason = EventKind.PAYMENT_FAILED, "asynchronous payment failed"
    elif kind == "checkout.session.async_payment_succeeded" or paid == "paid":
        what, reason = EventKind.PAYMENT_SUCCEEDED, None
    elif paid == "unpaid":  # completed with a delayed method (a bank debit): wait for it
        what, reason = EventKind.PAYMENT_PROCESSING, None
    else:  # no_payment_required
        return ()
    currency = currency_of(session)
    amount = session.get("amount_total")
    return (GatewayEvent(what, gateway_payment_id=_id(session.get("payment_intent")),
                         gateway_order_id=_id(session.get("id")),
                         payment_id=_meta(session, PAYMENT_KEY)
                         or _str(session.get("client_reference_id")),
                         amount=None if amount is None else amount_of(session, "amount_total",
                                                                      currency),
                         currency=currency, reason=reason, occurred_at=at),)


def _charge_refunded(kind: str, charge: Obj, at: datetime | None) -> tuple[GatewayEvent, ...]:
    currency = currency_of(charge)
    intent, payment_id = _id(charge.get("payment_intent")), _meta(charge, PAYMENT_KEY)
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, Mapping) else None
    if not isinstance(listed, list) or not listed:
        # Refunds not included (API versions since 2022-11-15): only the running total.
        return (GatewayEvent(EventKind.REFUND_SUCCEEDED, gateway_payment_id=intent,
                             payment_id=payment_id,
                             amount=amount_of(charge, "amount_refunded", currency),
                             currency=currency, occurred_at=at),)
    return tuple(GatewayEvent(EventKind.REFUND_SUCCEEDED, gateway_payment_id=intent,
                              payment_id=payment_id, gateway_refund_id=_id(refund.get("id")),
                              refund_id=_meta(refund, REFUND_KEY),
                              amount=amount_of(refund, "amount", currency), currency=currency,
                              occurred_at=at)
                 for refund in listed
                 if isinstance(refund, Mapping) and refund.get("status") == "succeeded")


def _refund(kind: str, refund: Obj, at: datetime | None) -> tuple[GatewayEvent, ...]:
    status = refund.get("status")
    if status == "succeeded":
        what, reason = EventKind.REFUND_SUCCEEDED, None
    elif status in ("failed", "canceled"):
        what = EventKind.REFUND_FAILED
        reason = _str(refund.get("failure_reason")) or str(status)
    else:  # pending, requires_action: a later event tells
        return ()
    currency = currency_of(refund)
    return (GatewayEvent(what, gateway_payment_id=_id(refund.get("payment_intent")),
                         payment_id=_meta(refund, PAYMENT_KEY),
                         gateway_refund_id=_id(refund.get("id")),
                         refund_id=_meta(refund, REFUND_KEY),
                         amount=amount_of(refund, "amount", currency), currency=currency,
                         reason=reason, occurred_at=at),)


def _dispute(kind: str, dispute: Obj, at: datetime | None) -> tuple[GatewayEvent, ...]:
    status, fee = dispute.get("status"), None
    if kind == "charge.dispute.created":
        what = EventKind.DISPUTE_OPENED
        fee = _dispute_fee(dispute)
    elif status in ("won", "warning_closed"):  # an inquiry closed without a chargeback
        what = EventKind.DISPUTE_WON
    elif status == "lost":
        what = EventKind.DISPUTE_LOST
    else:
        return ()
    currency = currency_of(dispute)
    return (GatewayEvent(what, gateway_payment_id=_id(dispute.get("payment_intent")),
                         gateway_dispute_id=_id(dispute.get("id")),
                         amount=amount_of(dispute, "amount", currency), currency=currency,
                         fee=fee, reason=_str(dispute.get("reason")), occurred_at=at),)


def _payout(kind: str, payout: Obj, at: datetime | None) -> tuple[GatewayEvent, ...]:
    if kind == "payout.paid":
        what, reason = EventKind.PAYOUT_PAID, None
    elif kind == "payout.failed":
        what = EventKind.PAYOUT_FAILED
        reason = (_str(payout.get("failure_message")) or _str(payout.get("failure_code"))
                  or "payout failed")
    elif payout.get("reversed") is True:  # transfer.reversed, in full: the money came back
        what, reason = EventKind.PAYOUT_FAILED, "transfer reversed"
    else:  # a partial reversal: not a failed payout
        return ()
    currency = currency_of(payout)
    return (GatewayEvent(what, gateway_payout_id=_id(payout.get("id")),
                         payout_id=_meta(payout, PAYOUT_KEY),
                         amount=amount_of(payout, "amount", currency), currency=currency,
                         reason=reason, occurred_at=at),)


Translate = Callable[[str, Obj, datetime | None], tuple[GatewayEvent, ...]]
_BY_TYPE: dict[str, Translate] = {
    **dict.fromkeys(("payment_intent.succeeded", "payment_intent.payment_failed",
                     "payment_intent.canceled", "payment_intent.processing",
                     "payment_intent.amount_capturable_updated"), _payment_intent),
    **dict.fromkeys(("checkout.session.completed", "checkout.session.expired",
                     "checkout.session.async_payment_succeeded",
                     "checkout.session.async_payment_failed"), _checkout_session),
    "charge.refunded": _charge_refunded,
    **dict.fromkeys(("refund.created", "refund.updated", "refund.failed",
                     "charge.refund.updated"), _refund),
    **dict.fromkeys(("charge.dispute.created", "charge.dispute.closed"), _dispute),
    **dict.fromkeys(("payout.paid", "payout.failed", "transfer.reversed"), _payout),
}


def _charge_fee(charge: object, currency: str) -> int | None:
    """Stripe's fee on a charge, when the charge and its balance transaction are expanded
    and settle in the charge's own currency (a converted fee is not the payment's)."""
    if not isinstance(charge, Mapping):
        return None
    return _fees([charge.get("balance_transaction")], currency)


def _dispute_fee(dispute: Obj) -> int | None:
    listed = dispute.get("balance_transactions")
    return _fees(listed, currency_of(dispute)) if isinstance(listed, list) and listed else None


def _fees(transactions: list[Any], currency: str) -> int | None:
    total = 0
    for transaction in transactions:
        if not isinstance(transaction, Mapping) or currency_of(transaction) != currency:
            return None
        total += amount_of(transaction, "fee", currency)
    return total


def _payment_error(intent: Obj) -> str | None:
    error = intent.get("last_payment_error")
    if not isinstance(error, Mapping):
        return None
    code = _str(error.get("decline_code")) or _str(error.get("code"))
    message = _str(error.get("message"))
    return ": ".join(part for part in (code, message) if part) or None


def _meta(obj: Obj, key: str) -> str | None:
    metadata = obj.get("metadata")
    return _str(metadata.get(key)) if isinstance(metadata, Mapping) else None


def _id(value: object) -> str | None:
    """An id, or an expanded object's id."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return _str(value)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _name(obj: Obj) -> str:
    return f"{obj.get('object', 'object')} {obj.get('id', '(no id)')}"
