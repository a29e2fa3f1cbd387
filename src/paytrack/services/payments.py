"""Payments: create with a checked breakdown and a fixed split, then move through the
state machine. Capturing posts the split to the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, AuditRecord
from paytrack.domain.analytics import RevenueTags, ended_unpaid
from paytrack.domain.coupons import Order
from paytrack.domain.errors import (
    DiscountMismatch,
    DuplicateGatewayPayment,
    Forbidden,
    InvalidAmount,
    ItemSellerMismatch,
    ValidationFailed,
)
from paytrack.domain.events import EventType
from paytrack.domain.ids import new_id
from paytrack.domain.limits import check_amount
from paytrack.domain.money import validate_currency
from paytrack.domain.payments import Gateway, Payment, PaymentKind, PaymentMethod, capture_entry
from paytrack.domain.splits import Bearer, Breakdown, Split, compute_split, parse_rate
from paytrack.domain.states import (
    CAPTURABLE_STATES,
    LATE_CAPTURE_STATES,
    OPEN_STATES,
    PAYMENT_TRANSITIONS,
    REVIEW_REASONS,
    PaymentEvent,
    PaymentStatus,
    needs_review,
)
from paytrack.services import coupons, fulfilment, gateways, permissions, seller_funds
from paytrack.services._common import fetch, guarded_move, require_text
from paytrack.services.events import emit
from paytrack.services.permissions import Action

P = PaymentStatus
OPEN = frozenset(map(str, OPEN_STATES))
CAPTURABLE = frozenset(map(str, CAPTURABLE_STATES))


@dataclass(frozen=True, slots=True)
class CreatePayment:
    customer_id: str
    seller_id: str
    item_type: str
    item_id: str
    currency: str
    subtotal: int
    # With a coupon_code the coupon's discount is computed; one sent along must agree.
    discount: int | None = None
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
    # At a configured gateway: where the provider sends the customer back after paying.
    return_url: str | None = None
    # Set only by the orders and subscriptions services: what the payment pays for.
    order_ref: str | None = None
    subscription_id: str | None = None


def _enum(enum: type[StrEnum], value: str, name: str) -> str:
    try:
        return str(enum(value))
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationFailed(f"{name} {value!r} is not one of: {allowed}", field=name) from None


def split_of(payment: Payment) -> Split:
    return Split(payment["seller_amount"], payment["platform_fee"],
                 payment["tax_collected"], payment["shipping_collected"])


def create_payment(uow: UnitOfWork, cmd: CreatePayment, actor: Actor) -> Payment:
    permissions.check(actor, Action.CREATE_PAYMENT)
    currency = validate_currency(cmd.currency)
    Breakdown(cmd.subtotal, cmd.discount or 0, cmd.tax, cmd.shipping)  # the amounts, first
    values = {
        "method": _enum(PaymentMethod, cmd.method, "method"),
        "gateway": _enum(Gateway, cmd.gateway, "gateway"),
        "kind": _enum(PaymentKind, cmd.kind, "kind"),
    }
    for name in ("customer_id", "seller_id", "item_type", "item_id"):
        require_text(getattr(cmd, name), name, max_length=100)
    if cmd.gateway_payment_id is not None:
        _refuse_recorded(uow, cmd.gateway_payment_id, gateway=values["gateway"])
    now = uow.now()

    found = uow.parties.lookup(cmd.customer_id, cmd.seller_id, cmd.item_type, cmd.item_id)
    if found["customer"] is None:
        uow.parties.ensure("customer", cmd.customer_id, now)
    if found["seller"] is None:
        uow.parties.ensure("seller", cmd.seller_id, now)
    owner = found["item_seller"]
    if owner is None:  # new, unless another request created it since the lookup
        owner = uow.parties.ensure_item(cmd.item_type, cmd.item_id, cmd.seller_id, now)
    if owner not in (None, cmd.seller_id):
        raise ItemSellerMismatch(
            f"{cmd.item_type} {cmd.item_id} belongs to seller {owner}, not {cmd.seller_id}",
            field="seller_id",
        )

    applied = coupons.apply_to_payment(uow, cmd.coupon_code, Order(
        cmd.customer_id, cmd.seller_id, cmd.item_id, currency, cmd.subtotal))
    discount = _discount(cmd.discount, applied)
    breakdown = Breakdown(cmd.subtotal, discount, cmd.tax, cmd.shipping)

    if cmd.commission_rate is not None:
        rate = parse_rate(cmd.commission_rate)
    elif found["seller_rate"] is not None:
        rate = parse_rate(found["seller_rate"])
    else:
        rate = uow.policy.commission_rate
    # A platform-funded coupon: the seller is paid as if undiscounted (platform:discounts).
    platform_discount = discount if applied and applied.platform_funded else 0
    split = compute_split(breakdown, rate, uow.policy, platform_discount=platform_discount)

    payment: Payment = {
        "id": new_id("pay"),
        "customer_id": cmd.customer_id, "seller_id": cmd.seller_id,
        "item_type": cmd.item_type, "item_id": cmd.item_id, "order_id": cmd.order_id,
        "currency": currency,
        "subtotal": breakdown.subtotal, "discount": breakdown.discount, "tax": breakdown.tax,
        "shipping": breakdown.shipping, "total": breakdown.total,
        "method": values["method"], "gateway": values["gateway"], "kind": values["kind"],
        "status": str(P.PENDING), "previous_status": None,
        "coupon_code": applied.coupon["code"] if applied else cmd.coupon_code,
        "coupon_id": applied.coupon["id"] if applied else None,
        "discount_funded_by": applied.coupon["funded_by"] if applied else None,
        "commission_rate": str(rate), "commission_base": str(uow.policy.commission_base),
        "platform_fee": split.platform_fee, "seller_amount": split.seller_amount,
        "tax_collected": split.tax_collected, "shipping_collected": split.shipping_collected,
        "gateway_fee": 0, "gateway_fee_bearer": str(uow.policy.gateway_fee_bearer),
        "refunded_amount": 0, "refund_reserved_amount": 0, "disputed_amount": 0,
        "platform_discount": platform_discount,
        "gateway_payment_id": cmd.gateway_payment_id, "gateway_order_id": None,
        "payment_url": None, "payment_url_expires_at": None, "gateway_mode": None,
        "order_ref": cmd.order_ref, "subscription_id": cmd.subscription_id,
        "description": cmd.description, "metadata": cmd.metadata or {},
        "billing_details": cmd.billing_details, "ip_address": cmd.ip_address,
        "provider_response": None, "failure_reason": None, "reconciled": False,
        "reconciled_at": None, "reconciled_by": None,
        "created_at": now, "updated_at": now,
        "processing_at": None, "succeeded_at": None, "failed_at": None,
        "canceled_at": None, "refunded_at": None,
    }
    if cmd.captured:
        _check_fee(cmd.gateway_fee, payment["total"])
        payment.update({"status": str(P.SUCCEEDED), "previous_status": str(P.PENDING),
                        "succeeded_at": now, "gateway_fee": cmd.gateway_fee})
    elif cmd.gateway_payment_id is None:  # a new payment: its checkout at the gateway
        checkout = gateways.open_checkout(uow, payment, cmd.return_url)
        if checkout is not None:
            payment.update({"payment_url": checkout.payment_url,
                            "payment_url_expires_at": checkout.expires_at,
                            "gateway_mode": checkout.mode,
                            "gateway_payment_id": checkout.gateway_payment_id,
                            "gateway_order_id": checkout.gateway_order_id})
    uow.payments.insert(payment)
    coupons.reserve_for_payment(uow, applied, payment)
    uow.records.status_event("payment", payment["id"], None, P.PENDING, str(actor), None, now)
    uow.records.audit(str(actor), "payment.created", "payment", payment["id"], None,
                      _audit_view({**payment, "status": str(P.PENDING)}), now)
    if cmd.captured:
        _record_move(uow, payment, actor, None, now)
        _post_capture(uow, payment, now)
        emit(uow, EventType.PAYMENT_SUCCEEDED, "payment", payment)
        fulfilment.payment_moved(uow, payment, actor, now)
    return payment


def get_payment(uow: UnitOfWork, payment_id: str, actor: Actor) -> Payment:
    payment = fetch(uow.payments, "payment", payment_id)
    permissions.check_object(actor, Action.READ_PAYMENT, payment, f"payment {payment_id}")
    return payment


def list_payments(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                  status: str | None = None, seller_id: str | None = None,
                  customer_id: str | None = None, item_id: str | None = None,
                  currency: str | None = None, method: str | None = None,
                  gateway: str | None = None, kind: str | None = None,
                  created_gte: datetime | None = None,
                  created_lt: datetime | None = None,
                  needs_review: bool | None = None,
                  gateway_payment_id: str | None = None,
                  reconciled: bool | None = None) -> list[Payment]:
    """Newest first. ``needs_review``: only payments confirmed after a cancel or a failure
    (True), or only the others (False). ``gateway_payment_id``: the provider's id of the
    payment or of its checkout (order, session). ``reconciled``: marked so, or not."""
    filters: dict[str, Any] = {"status": status, "seller_id": seller_id, "customer_id": customer_id,
               "item_id": item_id, "currency": currency, "method": method,
               "gateway": gateway, "kind": kind, "reconciled": reconciled}
    if reconciled is not None and "reconciled" not in permissions.visible_fields(
            actor.role, "payment"):
        raise Forbidden("filtering by reconciled is for those who are shown it")
    for name, value in permissions.list_scope(actor, Action.READ_PAYMENT).items():
        if filters[name] not in (None, value):
            return []  # another party's payments do not exist for this caller
        filters[name] = value
    for name, enum in (("status", PaymentStatus), ("method", PaymentMethod),
                       ("gateway", Gateway), ("kind", PaymentKind)):
        wanted = filters[name]
        if wanted is not None:
            _enum(enum, wanted, name)
    if currency is not None:
        validate_currency(currency)
    return uow.payments.list(filters=filters, limit=limit, before_id=cursor,
                             created_gte=created_gte, created_lt=created_lt,
                             needs_review=needs_review, gateway_ref=gateway_payment_id)


def payment_history(uow: UnitOfWork, payment_id: str, actor: Actor) -> list[PaymentEvent]:
    """Every status move with its time, actor and reason; ``needs_review`` marks a
    confirmation that arrived after a cancel or a failure."""
    get_payment(uow, payment_id, actor)
    return [{**event, "needs_review": needs_review(event["from_status"], event["to_status"])}
            for event in uow.records.status_history("payment", payment_id)]


def payment_audit_trail(uow: UnitOfWork, payment_id: str, actor: Actor) -> list[AuditRecord]:
    """Who did what to the payment, oldest first (an admin's read)."""
    permissions.check(actor, Action.READ_AUDIT)
    get_payment(uow, payment_id, actor)
    return uow.records.audit_trail("payment", payment_id)


def mark_processing(uow: UnitOfWork, payment_id: str, actor: Actor) -> Payment:
    permissions.check(actor, Action.MARK_PROCESSING)
    return _move(uow, payment_id, frozenset({str(P.PENDING)}), P.PROCESSING, actor, None,
                 {"processing_at": uow.now()})


def capture_payment(uow: UnitOfWork, payment_id: str, actor: Actor, *, gateway_fee: int = 0,
                    gateway_payment_id: str | None = None,
                    reason: str | None = None) -> Payment:
    """The gateway's confirmation: -> succeeded, and post the split to the ledger.

    Money really taken is never lost: a confirmation that arrives after a cancel or a
    failure is recorded all the same, and its status event says it needs review. One
    conditional UPDATE guarded by the capturable states decides, so a capture racing a
    cancel either lands first (the cancel is refused) or moves the canceled payment."""
    permissions.check(actor, Action.CAPTURE_PAYMENT)
    _check_fee(gateway_fee, None)
    now = uow.now()
    extra: dict[str, Any] = {"succeeded_at": now, "gateway_fee": gateway_fee,
                             "updated_at": now}
    if gateway_payment_id is not None:
        _refuse_recorded(uow, gateway_payment_id, like=payment_id)
        extra["gateway_payment_id"] = gateway_payment_id
    payment = guarded_move(uow.payments, PAYMENT_TRANSITIONS, "payment", payment_id,
                           CAPTURABLE, str(P.SUCCEEDED), extra)
    late = REVIEW_REASONS.get(payment["previous_status"])
    if late is not None:
        reason = f"{late}; {reason}"[:500] if reason else late
    _record_move(uow, payment, actor, reason, now)
    _check_fee(gateway_fee, payment["total"])
    _post_capture(uow, payment, now)
    if payment["previous_status"] in LATE_CAPTURE_STATES:  # it no longer ended unpaid
        ended = payment["canceled_at" if payment["previous_status"] == P.CANCELED
                        else "failed_at"]
        uow.analytics.append(RevenueTags.of(payment), ended or now, ended_unpaid(-1))
    coupons.payment_captured(uow, payment)
    emit(uow, EventType.PAYMENT_SUCCEEDED, "payment", payment)
    fulfilment.payment_moved(uow, payment, actor, now)  # after its event: the order's follow
    return payment


def _discount(sent: int | None, applied: coupons.Applied | None) -> int:
    """The payment's discount: the coupon's, if it has one (a ``sent`` one must agree)."""
    if applied is None:
        return sent or 0
    if sent is not None and sent != applied.discount:
        raise DiscountMismatch(
            f"discount {sent} is not what coupon {applied.coupon['code']} gives on this "
            f"subtotal, {applied.discount}; leave discount out and it is computed",
            field="discount", expected=applied.discount)
    return applied.discount


def _refuse_recorded(uow: UnitOfWork, gateway_payment_id: str, *, gateway: str | None = None,
                     like: str | None = None) -> None:
    """Refuse a gateway payment id another payment at the same gateway already has, naming
    that payment. (Should two requests race past this, the unique key refuses the second.)"""
    holder = uow.payments.holding_gateway_id(gateway_payment_id, gateway=gateway, like=like)
    if holder is not None:
        raise DuplicateGatewayPayment(
            f"gateway payment id {gateway_payment_id!r} is already recorded on payment "
            f"{holder}", field="gateway_payment_id", payment_id=holder)


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


def _post_capture(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    uow.ledger.post(
        capture_entry(payment_id=payment["id"], gateway=payment["gateway"],
                      seller_id=payment["seller_id"], currency=payment["currency"],
                      split=split_of(payment), gateway_fee=payment["gateway_fee"],
                      fee_bearer=Bearer(payment["gateway_fee_bearer"]),
                      platform_discount=payment["platform_discount"],
                      about=RevenueTags.of(payment)),
        now,
    )
    seller_funds.record_earning(uow, payment, now)


def fail_payment(uow: UnitOfWork, payment_id: str, actor: Actor, *,
                 reason: str | None = None) -> Payment:
    permissions.check(actor, Action.FAIL_PAYMENT)
    now = uow.now()
    payment = _move(uow, payment_id, OPEN, P.FAILED, actor, reason,
                    {"failed_at": now, "failure_reason": reason}, now=now)
    uow.analytics.append(RevenueTags.of(payment), now, ended_unpaid())
    coupons.payment_released(uow, payment)
    emit(uow, EventType.PAYMENT_FAILED, "payment", payment)
    fulfilment.payment_moved(uow, payment, actor, now)
    return payment


def cancel_payment(uow: UnitOfWork, payment_id: str, actor: Actor, *,
                   reason: str | None = None) -> Payment:
    """Cancel a payment not yet paid, in the states the actor's grant allows (an admin:
    pending or processing; a seller or customer: its own pending payment)."""
    grant = permissions.check(actor, Action.CANCEL_PAYMENT)
    if grant.reach is not permissions.Reach.ALL:
        permissions.check_object(actor, Action.CANCEL_PAYMENT,
                                 fetch(uow.payments, "payment", payment_id),
                                 f"payment {payment_id}")
    sources = OPEN if grant.states is None else grant.states
    refusal = f"a {actor.role} may cancel only a {' or '.join(sorted(sources))} payment"
    now = uow.now()
    payment = _move(uow, payment_id, sources, P.CANCELED, actor, reason, {"canceled_at": now},
                    now=now, refusal=refusal)
    uow.analytics.append(RevenueTags.of(payment), now, ended_unpaid())
    coupons.payment_released(uow, payment)
    emit(uow, EventType.PAYMENT_CANCELED, "payment", payment)
    fulfilment.payment_moved(uow, payment, actor, now)
    return payment


def _move(uow: UnitOfWork, payment_id: str, sources: frozenset[str], target: PaymentStatus,
          actor: Actor, reason: str | None, values: dict[str, Any], *,
          now: datetime | None = None, refusal: str | None = None) -> Payment:
    now = now or uow.now()
    payment = guarded_move(uow.payments, PAYMENT_TRANSITIONS, "payment", payment_id, sources,
                           str(target), {**values, "updated_at": now}, refusal=refusal)
    _record_move(uow, payment, actor, reason, now)
    return payment


def _record_move(uow: UnitOfWork, payment: Payment, actor: Actor, reason: str | None,
                 now: datetime) -> None:
    previous, target = payment["previous_status"], payment["status"]
    uow.records.status_event("payment", payment["id"], previous, target, str(actor), reason, now)
    uow.records.audit(str(actor), f"payment.{target}", "payment", payment["id"],
                      {"status": previous}, _audit_view(payment), now)


def _audit_view(payment: Payment) -> dict[str, Any]:
    return {"status": payment["status"], "currency": payment["currency"],
            "total": payment["total"], "platform_fee": payment["platform_fee"],
            "seller_amount": payment["seller_amount"],
            "refunded_amount": payment["refunded_amount"],
            "gateway_fee": payment["gateway_fee"], "commission_rate": payment["commission_rate"]}
