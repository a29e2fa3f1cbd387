"""Coupons: create, read, deactivate, check, and each payment's redemption.

A payment that carries a coupon code holds a place in the coupon's limits from the moment
it is created, in the same transaction (one conditional UPDATE per limit), so concurrent
payments can never pass a limit; its redemption then follows the payment:

    payment created        reserved   a place is held (or the payment is refused: used_up,
                                      customer_limit)
    payment succeeded      redeemed
    failed / canceled      released   the place is given back
    fully refunded         released   (a partial refund keeps it redeemed)
    captured after cancel  redeemed   a place is taken again if one is free; if not, it is
                                      recorded without one: a capture is never refused

Each move is one UPDATE guarded by the status it comes from: done twice, the second
changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.coupons import (
    MAX_REDEMPTIONS,
    MAX_TARGETS,
    Coupon,
    CouponKind,
    FundedBy,
    Order,
    Reason,
    Redemption,
    RedemptionStatus,
    check_code,
    code_key,
    discount_for,
    explain,
    is_code,
    parse_percent,
    reason_not_applicable,
)
from paytrack.domain.errors import (
    CouponCodeTaken,
    CouponNotApplicable,
    InvalidAmount,
    InvalidTransition,
    ValidationFailed,
)
from paytrack.domain.ids import new_id
from paytrack.domain.limits import check_amount
from paytrack.domain.money import validate_currency
from paytrack.domain.payments import Payment
from paytrack.domain.states import PaymentStatus
from paytrack.services import permissions
from paytrack.services._common import fetch, require_text
from paytrack.services.permissions import Action

RS = RedemptionStatus


@dataclass(frozen=True, slots=True)
class CreateCoupon:
    code: str
    kind: str
    percent_off: str | None = None
    amount_off: int | None = None
    currency: str | None = None
    max_discount: int | None = None
    min_order_amount: int | None = None
    max_redemptions: int | None = None
    max_redemptions_per_customer: int | None = None
    item_ids: list[str] = field(default_factory=list)
    seller_ids: list[str] = field(default_factory=list)
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    funded_by: str = FundedBy.PLATFORM
    active: bool = True
    description: str | None = None


class CouponCheck(TypedDict):
    """Whether a coupon applies to an order, the discount it gives, and if not, why."""

    code: str
    valid: bool
    discount: int
    currency: str
    reason: str | None  # a Reason value
    detail: str | None  # the reason in words


class CurrencyUsage(TypedDict):
    currency: str
    redemptions: int  # payments redeemed (succeeded, not fully refunded)
    reserved: int  # payments not yet paid holding a place
    discount_given: int  # the discounts of the redeemed payments
    revenue: int  # their totals
    refunded: int  # what was refunded of them


class CouponUsage(TypedDict):
    coupon_id: str
    code: str
    redemptions: int
    reserved: int
    currencies: list[CurrencyUsage]


@dataclass(frozen=True, slots=True)
class Applied:
    """A coupon that applies to a new payment, and the discount it gives."""

    coupon: Coupon
    discount: int

    @property
    def platform_funded(self) -> bool:
        return self.coupon["funded_by"] == FundedBy.PLATFORM


# -- managing coupons ---------------------------------------------------------------------


def create_coupon(uow: UnitOfWork, cmd: CreateCoupon, actor: Actor) -> Coupon:
    permissions.check(actor, Action.MANAGE_COUPONS)
    code = check_code(cmd.code)
    kind = _kind(cmd.kind)
    funded_by = _funded_by(cmd.funded_by)
    currency = None if cmd.currency is None else validate_currency(cmd.currency)
    for name in ("amount_off", "max_discount", "min_order_amount"):
        _positive(getattr(cmd, name), name, amount=True)
    for name in ("max_redemptions", "max_redemptions_per_customer"):
        _positive(getattr(cmd, name), name, amount=False)
    percent_off = None
    if kind is CouponKind.PERCENT:
        if cmd.percent_off is None:
            raise ValidationFailed("a percent coupon needs percent_off", field="percent_off")
        percent_off = cmd.percent_off
        parse_percent(percent_off)
        if cmd.amount_off is not None:
            raise ValidationFailed("amount_off is for fixed coupons; a percent coupon takes "
                                   "percent_off", field="amount_off")
    else:
        if cmd.amount_off is None:
            raise ValidationFailed("a fixed coupon needs amount_off", field="amount_off")
        if cmd.percent_off is not None:
            raise ValidationFailed("percent_off is for percent coupons; a fixed coupon takes "
                                   "amount_off", field="percent_off")
        if cmd.max_discount is not None:
            raise ValidationFailed("max_discount caps percent coupons; a fixed coupon's "
                                   "discount is its amount_off", field="max_discount")
        if currency is None:
            raise ValidationFailed("a fixed coupon needs the currency of its amount_off",
                                   field="currency")
    for name in ("min_order_amount", "max_discount"):
        if getattr(cmd, name) is not None and currency is None:
            raise ValidationFailed(f"{name} is an amount: give the coupon a currency (it then "
                                   "applies to payments in that currency only)", field="currency")
    if funded_by is FundedBy.SELLER and not cmd.seller_ids:
        raise ValidationFailed(
            "a seller-funded coupon names the sellers who fund it in seller_ids (each sees it "
            "and its usage on its own sales); a coupon for every seller is platform-funded",
            field="seller_ids")
    if (cmd.max_redemptions is not None and cmd.max_redemptions_per_customer is not None
            and cmd.max_redemptions_per_customer > cmd.max_redemptions):
        raise ValidationFailed("max_redemptions_per_customer is larger than max_redemptions",
                               field="max_redemptions_per_customer")
    for name in ("starts_at", "expires_at"):
        value = getattr(cmd, name)
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"{name} needs a time zone offset", field=name)
    if cmd.starts_at and cmd.expires_at and cmd.starts_at >= cmd.expires_at:
        raise ValidationFailed("expires_at must be after starts_at", field="expires_at")
    description = None if cmd.description is None else require_text(
        cmd.description, "description")
    now = uow.now()
    coupon: Coupon = {
        "id": new_id("cpn"), "code": code, "code_key": code_key(code), "kind": str(kind),
        "percent_off": percent_off, "amount_off": cmd.amount_off, "currency": currency,
        "max_discount": cmd.max_discount, "min_order_amount": cmd.min_order_amount,
        "max_redemptions": cmd.max_redemptions,
        "max_redemptions_per_customer": cmd.max_redemptions_per_customer,
        "redemptions_held": 0, "starts_at": cmd.starts_at, "expires_at": cmd.expires_at,
        "funded_by": str(funded_by), "active": cmd.active, "description": description,
        "deactivated_at": None if cmd.active else now, "deactivation_reason": None,
        "created_at": now, "updated_at": now,
        "item_ids": _targets(cmd.item_ids, "item_ids"),
        "seller_ids": _targets(cmd.seller_ids, "seller_ids"),
    }
    if not uow.coupons.insert(coupon):
        raise CouponCodeTaken(f"another coupon has the code {code_key(code)} (codes are the "
                              "same whatever their case)", field="code")
    uow.records.audit(str(actor), "coupon.created", "coupon", coupon["id"], None,
                      _audit_view(coupon), now)
    return coupon


def get_coupon(uow: UnitOfWork, coupon_id: str, actor: Actor) -> Coupon:
    permissions.check(actor, Action.READ_COUPON)
    coupon = fetch(uow.coupons, "coupon", coupon_id)
    permissions.check_object(actor, Action.READ_COUPON, coupon, f"coupon {coupon_id}")
    return coupon


def list_coupons(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                 active: bool | None = None, code: str | None = None) -> list[Coupon]:
    """Newest first; a seller sees only the coupons limited to it."""
    scope = permissions.list_scope(actor, Action.READ_COUPON)
    if code is not None and not is_code(code.strip()):
        return []  # no coupon can have it
    return uow.coupons.newest(limit=limit, before_id=cursor, active=active,
                            code_key=None if code is None else code_key(code),
                            seller_id=scope.get("seller_id"))


def deactivate_coupon(uow: UnitOfWork, coupon_id: str, actor: Actor, *,
                      reason: str | None = None) -> Coupon:
    """No new payment may use it; payments already holding it keep their discount."""
    permissions.check(actor, Action.MANAGE_COUPONS)
    if reason is not None:
        reason = require_text(reason, "reason")
    now = uow.now()
    coupon = uow.coupons.deactivate(coupon_id, reason, now)
    if coupon is None:
        fetch(uow.coupons, "coupon", coupon_id)
        raise InvalidTransition(f"coupon {coupon_id} is already inactive", current="inactive",
                                target="inactive")
    uow.records.audit(str(actor), "coupon.deactivated", "coupon", coupon_id,
                      {"active": True}, {"active": False, "reason": reason}, now)
    return coupon


def coupon_usage(uow: UnitOfWork, coupon_id: str, actor: Actor) -> CouponUsage:
    """Redemptions, discount given and revenue per currency; a seller's figures come from
    its own payments only."""
    coupon = get_coupon(uow, coupon_id, actor)
    scope = permissions.list_scope(actor, Action.READ_COUPON_USAGE)
    currencies: list[CurrencyUsage] = [
        {"currency": row["currency"], "redemptions": row["redemptions"],
         "reserved": row["reserved"], "discount_given": row["discount_given"],
         "revenue": row["revenue"], "refunded": row["refunded"]}
        for row in uow.coupons.usage(coupon_id, scope.get("seller_id"))]
    return {"coupon_id": coupon_id, "code": coupon["code"],
            "redemptions": sum(c["redemptions"] for c in currencies),
            "reserved": sum(c["reserved"] for c in currencies), "currencies": currencies}


# -- checking a code ----------------------------------------------------------------------


def validate_coupon(uow: UnitOfWork, code: str, order: Order, actor: Actor) -> CouponCheck:
    """Whether ``code`` applies to ``order`` now, and its discount: what a payment with the
    code would get (unless another payment takes the last place first)."""
    permissions.check(actor, Action.VALIDATE_COUPON)
    for name, value in (("customer_id", order.customer_id), ("seller_id", order.seller_id),
                        ("item_id", order.item_id)):
        require_text(value, name, max_length=100)
    owner = {"customer_id": order.customer_id, "seller_id": order.seller_id}
    permissions.check_object(actor, Action.VALIDATE_COUPON, owner,
                             f"{actor.role} {owner.get(f'{actor.role}_id')}")
    currency = validate_currency(order.currency)
    if isinstance(order.subtotal, bool) or not isinstance(order.subtotal, int) \
            or order.subtotal <= 0:
        raise InvalidAmount("subtotal must be a positive integer of minor units",
                            field="subtotal")
    check_amount(order.subtotal, "subtotal")
    coupon, reason = _look_up(uow, code, order)
    if reason is not None:
        return {"code": code, "valid": False, "discount": 0, "currency": currency,
                "reason": str(reason), "detail": explain(reason, coupon, order)}
    assert coupon is not None
    return {"code": coupon["code"], "valid": True, "currency": currency,
            "discount": discount_for(coupon, order.subtotal), "reason": None, "detail": None}


def _look_up(uow: UnitOfWork, code: str, order: Order) -> tuple[Coupon | None, Reason | None]:
    """The coupon with ``code`` and the first reason it does not apply to ``order`` (its
    limits as they stand now), if any."""
    coupon = uow.coupons.by_code(code_key(code)) if is_code(code.strip()) else None
    if coupon is None:
        return None, Reason.UNKNOWN_CODE
    reason = reason_not_applicable(coupon, order, uow.now())
    if reason is None:
        reason = _limit_reached(uow, coupon, order.customer_id)
    return coupon, reason


def _limit_reached(uow: UnitOfWork, coupon: Coupon, customer_id: str) -> Reason | None:
    limit = coupon["max_redemptions"]
    if limit is not None and coupon["redemptions_held"] >= limit:
        return Reason.USED_UP
    limit = coupon["max_redemptions_per_customer"]
    if limit is not None and uow.coupons.customer_held(coupon["id"], customer_id) >= limit:
        return Reason.CUSTOMER_LIMIT
    return None


# -- a payment's redemption ---------------------------------------------------------------


def apply_to_payment(uow: UnitOfWork, code: str | None, order: Order) -> Applied | None:
    """The coupon ``code`` names and its discount on a new payment for ``order``;
    CouponNotApplicable (422, with the ``reason``) if it does not apply."""
    if code is None:
        return None
    coupon, reason = _look_up(uow, code, order)
    if reason is not None:
        raise _not_applicable(reason, coupon, order)
    assert coupon is not None
    return Applied(coupon, discount_for(coupon, order.subtotal))


def reserve_for_payment(uow: UnitOfWork, applied: Applied | None, payment: Payment) -> None:
    """Hold the payment's place in the coupon's limits (in the transaction that records
    the payment) or refuse the payment if another took the last place; a payment recorded
    as already captured is redeemed at once."""
    if applied is None:
        return
    coupon = applied.coupon
    full = uow.coupons.hold_place(coupon, payment["customer_id"])
    if full is not None:
        reason = Reason.USED_UP if full == "total" else Reason.CUSTOMER_LIMIT
        raise _not_applicable(reason, coupon, _order_of(payment))
    now = uow.now()
    succeeded = payment["status"] == PaymentStatus.SUCCEEDED
    uow.coupons.add_redemption({
        "payment_id": payment["id"], "coupon_id": coupon["id"],
        "customer_id": payment["customer_id"],
        "status": str(RS.REDEEMED if succeeded else RS.RESERVED), "counted": True,
        "created_at": now, "updated_at": now, "redeemed_at": now if succeeded else None,
        "released_at": None})


def payment_captured(uow: UnitOfWork, payment: Payment) -> None:
    """The payment succeeded: its redemption is redeemed. After a cancel or a failure
    released it, it takes a place again if one is free, and is redeemed without one if
    not: the gateway took the money, so the capture stands."""
    if payment["coupon_id"] is None:
        return
    now = uow.now()
    moved = uow.coupons.move_redemption(payment["id"], RS.RESERVED, RS.REDEEMED,
                                        {"redeemed_at": now, "updated_at": now})
    if moved is not None:
        return
    coupon = uow.coupons.get(payment["coupon_id"])
    assert coupon is not None
    released = uow.coupons.move_redemption(payment["id"], RS.RELEASED, RS.REDEEMED,
                                           {"redeemed_at": now, "updated_at": now,
                                            "released_at": None})
    if released is not None and uow.coupons.hold_place(coupon, payment["customer_id"]) is None:
        uow.coupons.move_redemption(payment["id"], RS.REDEEMED, RS.REDEEMED, {"counted": True})


def payment_released(uow: UnitOfWork, payment: Payment) -> None:
    """The payment failed, was cancelled or was fully refunded: its redemption gives its
    place back. Any other payment (a partial refund) keeps its coupon."""
    if payment["coupon_id"] is None or payment["status"] not in _RELEASING:
        return
    now = uow.now()
    values = {"released_at": now, "updated_at": now, "counted": False}
    source = RS.REDEEMED if payment["status"] == PaymentStatus.REFUNDED else RS.RESERVED
    before = uow.coupons.redemption(payment["id"])
    moved = uow.coupons.move_redemption(payment["id"], source, RS.RELEASED, values)
    if moved is None or before is None or not before["counted"]:
        return
    coupon = uow.coupons.get(payment["coupon_id"])
    assert coupon is not None
    uow.coupons.give_back_place(coupon, payment["customer_id"])


def redemption_of(uow: UnitOfWork, payment_id: str) -> Redemption | None:
    return uow.coupons.redemption(payment_id)


_RELEASING = frozenset(map(str, (PaymentStatus.FAILED, PaymentStatus.CANCELED,
                                 PaymentStatus.REFUNDED)))


# -- helpers ------------------------------------------------------------------------------


def _order_of(payment: Payment) -> Order:
    return Order(payment["customer_id"], payment["seller_id"], payment["item_id"],
                 payment["currency"], payment["subtotal"])


def _not_applicable(reason: Reason, coupon: Coupon | None, order: Order) -> CouponNotApplicable:
    return CouponNotApplicable(f"coupon_code: {explain(reason, coupon, order)} "
                               f"(reason: {reason})", field="coupon_code", reason=str(reason))


def _kind(value: str) -> CouponKind:
    try:
        return CouponKind(value)
    except ValueError:
        raise ValidationFailed(f"kind {value!r} is not one of: percent, fixed",
                               field="kind") from None


def _funded_by(value: str) -> FundedBy:
    try:
        return FundedBy(value)
    except ValueError:
        raise ValidationFailed(f"funded_by {value!r} is not one of: platform, seller",
                               field="funded_by") from None


def _positive(value: object, name: str, *, amount: bool) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidAmount(f"{name} must be a positive integer", field=name)
    if amount:
        check_amount(value, name)
    elif value > MAX_REDEMPTIONS:
        raise ValidationFailed(f"{name} is above {MAX_REDEMPTIONS:,}", field=name)


def _targets(ids: list[str], name: str) -> list[str]:
    unique = sorted(set(ids))
    if len(unique) > MAX_TARGETS:
        raise ValidationFailed(f"{name} names more than {MAX_TARGETS}", field=name)
    for value in unique:
        require_text(value, name, max_length=100)
    return unique


def _audit_view(coupon: Coupon) -> dict[str, Any]:
    fields: Mapping[str, Any] = coupon
    return {name: fields[name] for name in (
        "code", "kind", "percent_off", "amount_off", "currency", "max_discount",
        "min_order_amount", "max_redemptions", "max_redemptions_per_customer",
        "funded_by", "active", "item_ids", "seller_ids")}
