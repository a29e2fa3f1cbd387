"""Payments: create with a checked breakdown and a fixed split, then move through the
state machine. Capturing posts the split to the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.errors import InvalidAmount, NotFound, ValidationFailed
from paytrack.domain.ids import new_id
from paytrack.domain.limits import check_amount
from paytrack.domain.money import validate_currency
from paytrack.domain.payments import Gateway, PaymentKind, PaymentMethod, capture_entry
from paytrack.domain.splits import Bearer, Breakdown, Split, compute_split, parse_rate
from paytrack.domain.states import PAYMENT_TRANSITIONS, PaymentStatus
from paytrack.services._common import check_scope, guarded_move, require_text

P = PaymentStatus
OPEN = frozenset({str(P.PENDING), str(P.PROCESSING)})


@dataclass(frozen=True, slots=True)
class CreatePayment:
    customer_id: str
    seller_id: str
    item_type: str
    item_id: str
    currency: str
    subtotal: int
    discount: int = 0
    tax: int = 0
    shipping: int = 0
    method: str = PaymentMethod.CARD
    gateway: str = Gateway.MANUAL
    kind: str = PaymentKind.ONE_TIME
    order_id: str | None = None
    coupon_code: str | None = None
    commission_rate: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    billing_details: dict[str, Any] | None = None
    ip_address: str | None = None
    gateway_payment_id: str | None = None
    # Record a payment the gateway has already confirmed: created and captured at once.
    captured: bool = False
    gateway_fee: int = 0


def _enum(enum: type, value: str, name: str) -> str:
    try:
        return str(enum(value))
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationFailed(f"{name} {value!r} is not one of: {allowed}", field=name) from None


def split_of(payment: dict[str, Any]) -> Split:
    return Split(payment["seller_amount"], payment["platform_fee"],
                 payment["tax_collected"], payment["shipping_collected"])


def create_payment(uow: UnitOfWork, cmd: CreatePayment, actor: Actor) -> dict[str, Any]:
    currency = validate_currency(cmd.currency)
    breakdown = Breakdown(cmd.subtotal, cmd.discount, cmd.tax, cmd.shipping)
    values = {
        "method": _enum(PaymentMethod, cmd.method, "method"),
        "gateway": _enum(Gateway, cmd.gateway, "gateway"),
        "kind": _enum(PaymentKind, cmd.kind, "kind"),
    }
    for name in ("customer_id", "seller_id", "item_type", "item_id"):
        require_text(getattr(cmd, name), name, max_length=100)
    now = uow.now()

    found = uow.parties.lookup(cmd.customer_id, cmd.seller_id, cmd.item_type, cmd.item_id)
    if found["customer"] is None:
        uow.parties.ensure("customer", cmd.customer_id, now)
    if found["seller"] is None:
        uow.parties.ensure("seller", cmd.seller_id, now)
    if found["item_seller"] is None:
        uow.parties.ensure_item(cmd.item_type, cmd.item_id, cmd.seller_id, now)
    elif found["item_seller"] != cmd.seller_id:
        raise ValidationFailed(
            f"{cmd.item_type} {cmd.item_id} belongs to seller {found['item_seller']}, "
            f"not {cmd.seller_id}", field="seller_id",
        )

    if cmd.commission_rate is not None:
        rate = parse_rate(cmd.commission_rate)
    elif found["seller_rate"] is not None:
        rate = parse_rate(found["seller_rate"])
    else:
        rate = uow.policy.commission_rate
    split = compute_split(breakdown, rate, uow.policy)

    payment = {
        "id": new_id("pay"),
        "customer_id": cmd.customer_id, "seller_id": cmd.seller_id,
        "item_type": cmd.item_type, "item_id": cmd.item_id, "order_id": cmd.order_id,
        "currency": currency,
        "subtotal": breakdown.subtotal, "discount": breakdown.discount, "tax": breakdown.tax,
        "shipping": breakdown.shipping, "total": breakdown.total,
        **values,
        "status": str(P.PENDING), "previous_status": None,
        "coupon_code": cmd.coupon_code,
        "commission_rate": str(rate), "commission_base": str(uow.policy.commission_base),
        "platform_fee": split.platform_fee, "seller_amount": split.seller_amount,
        "tax_collected": split.tax_collected, "shipping_collected": split.shipping_collected,
        "gateway_fee": 0, "gateway_fee_bearer": str(uow.policy.gateway_fee_bearer),
        "refunded_amount": 0,
        "gateway_payment_id": cmd.gateway_payment_id,
        "description": cmd.description, "metadata": cmd.metadata or {},
        "billing_details": cmd.billing_details, "ip_address": cmd.ip_address,
        "provider_response": None, "failure_reason": None, "reconciled": False,
        "created_at": now, "updated_at": now,
        "processing_at": None, "succeeded_at": None, "failed_at": None,
        "canceled_at": None, "refunded_at": None,
    }
    if cmd.captured:
        actor.require_admin("record a captured payment")
        _check_fee(cmd.gateway_fee, payment["total"])
        payment.update(status=str(P.SUCCEEDED), previous_status=str(P.PENDING),
                       succeeded_at=now, gateway_fee=cmd.gateway_fee)
    uow.payments.insert(payment)
    uow.records.status_event("payment", payment["id"], None, P.PENDING, str(actor), None, now)
    uow.records.audit(str(actor), "payment.created", "payment", payment["id"], None,
                      _audit_view({**payment, "status": str(P.PENDING)}), now)
    if cmd.captured:
        _record_move(uow, payment, actor, None, now)
        _post_capture(uow, payment, now)
    return payment


def get_payment(uow: UnitOfWork, payment_id: str, actor: Actor) -> dict[str, Any]:
    payment = uow.payments.get(payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    check_scope(actor, payment)
    return payment


def list_payments(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                  status: str | None = None, seller_id: str | None = None,
                  customer_id: str | None = None, item_id: str | None = None,
                  created_gte: datetime | None = None,
                  created_lt: datetime | None = None) -> list[dict[str, Any]]:
    if actor.role == "seller":
        if seller_id not in (None, actor.id):
            return []  # another seller's payments do not exist for this caller
        seller_id = actor.id
    if actor.role == "customer":
        if customer_id not in (None, actor.id):
            return []
        customer_id = actor.id
    if status is not None:
        _enum(PaymentStatus, status, "status")
    return uow.payments.list(
        filters={"status": status, "seller_id": seller_id, "customer_id": customer_id,
                 "item_id": item_id},
        limit=limit, before_id=cursor, created_gte=created_gte, created_lt=created_lt,
    )


def payment_history(uow: UnitOfWork, payment_id: str, actor: Actor) -> list[dict[str, Any]]:
    get_payment(uow, payment_id, actor)
    return uow.records.status_history("payment", payment_id)


def mark_processing(uow: UnitOfWork, payment_id: str, actor: Actor) -> dict[str, Any]:
    return _move(uow, payment_id, frozenset({str(P.PENDING)}), P.PROCESSING, actor, None,
                 {"processing_at": uow.now()})


def capture_payment(uow: UnitOfWork, payment_id: str, actor: Actor, *, gateway_fee: int = 0,
                    gateway_payment_id: str | None = None,
                    reason: str | None = None) -> dict[str, Any]:
    """pending/processing -> succeeded, and post the split to the ledger."""
    actor.require_admin("capture a payment")
    _check_fee(gateway_fee, None)
    now = uow.now()
    extra: dict[str, Any] = {"succeeded_at": now, "gateway_fee": gateway_fee}
    if gateway_payment_id is not None:
        extra["gateway_payment_id"] = gateway_payment_id
    payment = _move(uow, payment_id, OPEN, P.SUCCEEDED, actor, reason, extra, now=now)
    _check_fee(gateway_fee, payment["total"])
    _post_capture(uow, payment, now)
    return payment


def _check_fee(gateway_fee: int, total: int | None) -> None:
    """A fee is a non-negative integer within the amount limit and, once the payment is
    known, no larger than its total."""
    if isinstance(gateway_fee, bool) or not isinstance(gateway_fee, int) or gateway_fee < 0:
        raise InvalidAmount("gateway_fee must be a non-negative integer of minor units",
                            field="gateway_fee")
    check_amount(gateway_fee, "gateway_fee")
    if total is not None and gateway_fee > total:
        raise InvalidAmount(f"gateway_fee {gateway_fee} is larger than the payment total "
                            f"{total}", field="gateway_fee")


def _post_capture(uow: UnitOfWork, payment: dict[str, Any], now: datetime) -> None:
    uow.ledger.post(
        capture_entry(payment_id=payment["id"], gateway=payment["gateway"],
                      seller_id=payment["seller_id"], currency=payment["currency"],
                      split=split_of(payment), gateway_fee=payment["gateway_fee"],
                      fee_bearer=Bearer(payment["gateway_fee_bearer"])),
        now,
    )


def fail_payment(uow: UnitOfWork, payment_id: str, actor: Actor, *,
                 reason: str | None = None) -> dict[str, Any]:
    actor.require_admin("fail a payment")
    now = uow.now()
    return _move(uow, payment_id, OPEN, P.FAILED, actor, reason,
                 {"failed_at": now, "failure_reason": reason}, now=now)


def cancel_payment(uow: UnitOfWork, payment_id: str, actor: Actor, *,
                   reason: str | None = None) -> dict[str, Any]:
    if actor.role not in ("admin", "system"):
        get_payment(uow, payment_id, actor)  # a customer may cancel its own pending payment
    now = uow.now()
    return _move(uow, payment_id, OPEN, P.CANCELED, actor, reason, {"canceled_at": now},
                 now=now)


def _move(uow: UnitOfWork, payment_id: str, sources: frozenset[str], target: PaymentStatus,
          actor: Actor, reason: str | None, values: dict[str, Any], *,
          now: datetime | None = None) -> dict[str, Any]:
    now = now or uow.now()
    payment = guarded_move(uow.payments, PAYMENT_TRANSITIONS, "payment", payment_id, sources,
                           str(target), {**values, "updated_at": now})
    _record_move(uow, payment, actor, reason, now)
    return payment


def _record_move(uow: UnitOfWork, payment: dict[str, Any], actor: Actor, reason: str | None,
                 now: datetime) -> None:
    previous, target = payment["previous_status"], payment["status"]
    uow.records.status_event("payment", payment["id"], previous, target, str(actor), reason, now)
    uow.records.audit(str(actor), f"payment.{target}", "payment", payment["id"],
                      {"status": previous}, _audit_view(payment), now)


def _audit_view(payment: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "currency", "total", "platform_fee", "seller_amount", "refunded_amount",
            "gateway_fee", "commission_rate")
    return {k: payment[k] for k in keys}
