"""Orders: what a customer buys, one payment per seller, and the status its payments drive
(``services.order_status``).

An order's lines are grouped by seller in the order they were sent; each group is one
payment (kind one_time) of the group's subtotal, tax and shipping, for the group's first
item (its other lines are listed in the payment's metadata). A discount is either
``discount_percent`` (each payment gets ``round_half_up(subtotal × percent / 100)``) or a
coupon, which goes to one payment: the only one, or in a multi-seller order the one of the
only seller the coupon is limited to (by ``seller_ids`` or ``item_ids``; limited to items,
every line of that seller must be for one of them). Each payment's
discount is spread over its lines exactly; the order's totals are its payments' sums.

A cancelled order settles its other payments: open ones are canceled, paid ones get a full
refund request. ``cancel_order`` does it at once; when a lost payment cancelled the order,
the background job does (``settle_cancelled``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.actors import SYSTEM, Actor, Role
from paytrack.domain.coupons import Order as CouponOrder
from paytrack.domain.coupons import code_key, is_code
from paytrack.domain.errors import (
    CouponNotApplicable,
    InvalidAmount,
    InvalidTransition,
    ItemSellerMismatch,
    OrderTotalMismatch,
    PaytrackError,
    ValidationFailed,
)
from paytrack.domain.ids import new_id
from paytrack.domain.limits import check_amount
from paytrack.domain.money import validate_currency
from paytrack.domain.orders import (
    MAX_LINES,
    MAX_QUANTITY,
    OVERRIDABLE,
    STREAM_EXPECTED,
    STREAM_PATTERN,
    Order,
    OrderLine,
    OrderStatus,
    parse_discount_percent,
    percent_discount,
    spread,
    status_of_code,
)
from paytrack.domain.payments import Payment, PaymentKind, refundable_amount
from paytrack.domain.splits import Breakdown
from paytrack.domain.states import CAPTURED_STATES, OPEN_STATES, PaymentEvent
from paytrack.services import coupons, order_status, payments, permissions, refunds
from paytrack.services._common import fetch, require_text
from paytrack.services.permissions import Action

log = logging.getLogger("paytrack.orders")
OS = OrderStatus
OPEN = frozenset(map(str, OPEN_STATES))
CAPTURED = frozenset(map(str, CAPTURED_STATES))
_STREAM = re.compile(STREAM_PATTERN)
SETTLE_LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class LineIn:
    item_type: str
    item_id: str
    seller_id: str
    unit_price: int
    quantity: int = 1
    tax: int = 0
    shipping: int = 0


@dataclass(frozen=True, slots=True)
class CreateOrder:
    customer_id: str
    currency: str
    lines: Sequence[LineIn]
    method: str = "card"
    gateway: str = "manual"
    stream: str | None = None
    referral_code: str | None = None
    coupon_code: str | None = None
    discount_percent: str | int | Decimal | None = None
    return_url: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    total: int | None = None  # what the caller expects: the computed total must equal it


@dataclass(slots=True)
class _Group:
    """One seller's lines: one payment."""

    seller_id: str
    lines: list[tuple[int, LineIn]]  # (line_no, line)
    subtotal: int = 0
    discount: int = 0
    tax: int = 0
    shipping: int = 0
    item: LineIn | None = None  # the payment's item
    coupon: bool = False

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.tax + self.shipping


# -- create --------------------------------------------------------------------------------


def create_order(uow: UnitOfWork, cmd: CreateOrder, actor: Actor) -> dict[str, Any]:
    permissions.check(actor, Action.CREATE_ORDER)
    currency = validate_currency(cmd.currency)
    require_text(cmd.customer_id, "customer_id", max_length=100)
    _check_text(cmd)
    groups = _groups(cmd.lines)
    if cmd.coupon_code is not None and cmd.discount_percent is not None:
        raise ValidationFailed("send coupon_code or discount_percent, not both: an order has "
                               "one discount", field="discount_percent")
    percent = (None if cmd.discount_percent is None
               else parse_discount_percent(cmd.discount_percent))
    for group in groups:
        group.item = group.lines[0][1]
    coupon_code = None
    if cmd.coupon_code is not None:
        coupon_code = _place_coupon(uow, cmd, currency, groups)
    for group in groups:
        if percent is not None:
            group.discount = percent_discount(group.subtotal, percent)
        Breakdown(group.subtotal, group.discount, group.tax, group.shipping)
    totals = {name: sum(getattr(g, name) for g in groups)
              for name in ("subtotal", "discount", "tax", "shipping", "total")}
    for name, value in totals.items():
        check_amount(value, name)
    if cmd.total is not None and cmd.total != totals["total"]:
        raise OrderTotalMismatch(
            f"total {cmd.total} is not the order's computed total {totals['total']} "
            f"(subtotal {totals['subtotal']} - discount {totals['discount']} + tax "
            f"{totals['tax']} + shipping {totals['shipping']})",
            field="total", expected=totals["total"])
    now = uow.now()
    uow.parties.ensure("customer", cmd.customer_id, now)
    order: Order = {
        "id": new_id("ord"), "customer_id": cmd.customer_id, "currency": currency,
        "stream": cmd.stream, "referral_code": cmd.referral_code,
        "coupon_code": coupon_code,
        "discount_percent": None if percent is None else str(percent),
        **totals, "refunded_amount": 0, "status": str(OS.PENDING),  # type: ignore[typeddict-item]
        "previous_status": None, "description": cmd.description,
        "metadata": cmd.metadata or {}, "created_at": now, "updated_at": now,
        "confirmed_at": None, "cancelled_at": None, "refunded_at": None,
        "settle_due_at": None,
    }
    uow.orders.insert(order)
    made, lines = [], []
    for group in groups:
        payment = _pay(uow, cmd, currency, order["id"], group, actor, percent is not None)
        made.append(payment)
        shares = spread(payment["discount"], [line.quantity * line.unit_price
                                              for _, line in group.lines])
        for (line_no, line), share in zip(group.lines, shares, strict=True):
            if line is not group.item:
                _own_item(uow, line, now)
            lines.append({
                "order_id": order["id"], "line_no": line_no, "item_type": line.item_type,
                "item_id": line.item_id, "seller_id": line.seller_id, "stream": cmd.stream,
                "quantity": line.quantity, "unit_price": line.unit_price,
                "amount": line.quantity * line.unit_price, "discount": share,
                "tax": line.tax, "shipping": line.shipping, "payment_id": payment["id"],
                "created_at": now})
    assert [p["total"] for p in made] == [g.total for g in groups], "payments as computed"
    uow.orders.insert_lines(sorted(lines, key=lambda line: line["line_no"]))
    uow.records.status_event("order", order["id"], None, str(OS.PENDING), str(actor), None,
                             now)
    uow.records.audit(str(actor), "order.created", "order", order["id"], None,
                      {"status": order["status"], "total": order["total"],
                       "payments": [p["id"] for p in made]}, now)
    return order_status.with_parts(order, sorted(lines, key=lambda x: x["line_no"]), made)


def _check_text(cmd: CreateOrder) -> None:
    if cmd.stream is not None and not _STREAM.fullmatch(cmd.stream):
        raise ValidationFailed(f"stream: expected {STREAM_EXPECTED}", field="stream")
    if cmd.referral_code is not None:
        require_text(cmd.referral_code, "referral_code", max_length=64)
    if cmd.description is not None and len(cmd.description) > 500:
        raise ValidationFailed("description is longer than 500 characters",
                               field="description")


def _groups(lines: Sequence[LineIn]) -> list[_Group]:
    """The lines, checked, grouped by seller in first-appearance order."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise ValidationFailed(f"an order has 1 to {MAX_LINES} lines, not {len(lines)}",
                               field="lines")
    groups: dict[str, _Group] = {}
    for line_no, line in enumerate(lines, start=1):
        where = f"lines[{line_no - 1}]"
        for name in ("item_type", "item_id", "seller_id"):
            require_text(getattr(line, name), f"{where}.{name}", max_length=100)
        if (isinstance(line.quantity, bool) or not isinstance(line.quantity, int)
                or not 1 <= line.quantity <= MAX_QUANTITY):
            raise ValidationFailed(f"{where}.quantity must be an integer from 1 to "
                                   f"{MAX_QUANTITY}", field=f"{where}.quantity")
        for name in ("unit_price", "tax", "shipping"):
            value = getattr(line, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidAmount(f"{where}.{name} must be a non-negative integer of minor "
                                    "units", field=f"{where}.{name}")
            check_amount(value, f"{where}.{name}")
        check_amount(line.quantity * line.unit_price, f"{where} amount (quantity × unit_price)")
        group = groups.setdefault(line.seller_id, _Group(line.seller_id, []))
        group.lines.append((line_no, line))
        group.subtotal += line.quantity * line.unit_price
        group.tax += line.tax
        group.shipping += line.shipping
    for group in groups.values():
        if group.subtotal <= 0:
            raise InvalidAmount(f"the lines of seller {group.seller_id} add up to 0: each "
                                "seller's part of an order is a payment, which needs a "
                                "subtotal above zero", field="lines")
    return list(groups.values())


def _place_coupon(uow: UnitOfWork, cmd: CreateOrder, currency: str,
                  groups: list[_Group]) -> str:
    """Give the coupon to the one payment it is for, with its discount (the coupon's own
    checks refuse it as for a payment)."""
    code = cmd.coupon_code
    assert code is not None
    coupon = uow.coupons.by_code(code_key(code)) if is_code(code.strip()) else None
    if coupon is not None:
        items = set(coupon["item_ids"])
        candidates = [g for g in groups
                      if (not coupon["seller_ids"] or g.seller_id in coupon["seller_ids"])
                      and (not items or any(line.item_id in items for _, line in g.lines))]
        if len(groups) > 1 and len(candidates) != 1:
            sellers = ", ".join(g.seller_id for g in groups)
            if not coupon["seller_ids"] and not items:
                why = "it is not limited to a seller or to items"
            elif candidates:
                why = ("it applies to the items of several of them: "
                       + ", ".join(g.seller_id for g in candidates))
            else:
                why = "it applies to none of their items"
            raise CouponNotApplicable(
                f"coupon_code: coupon {coupon['code']} cannot be placed on this order of "
                f"{len(groups)} sellers ({sellers}): {why}. On an order with several sellers "
                "a coupon discounts one seller's payment, so it must be limited (seller_ids "
                "or item_ids) to the items of exactly one seller in the order",
                field="coupon_code", reason="order_seller_ambiguous")
        if candidates:
            target = candidates[0]
            if items:
                target.item = next(line for _, line in target.lines if line.item_id in items)
                others = sorted({line.item_id for _, line in target.lines} - items)
                if others:  # its discount is on the whole payment's subtotal
                    raise CouponNotApplicable(
                        f"coupon_code: coupon {coupon['code']} is for some items only, and "
                        f"seller {target.seller_id}'s payment in this order also pays for "
                        f"{', '.join(others)}: a coupon discounts a whole payment, so an "
                        "item-limited one needs every line of its seller to be for its items",
                        field="coupon_code", reason="order_other_items")
        else:
            target = groups[0]
    else:
        target = groups[0]  # an unknown code: the coupon check below says so
    assert target.item is not None
    applied = coupons.apply_to_payment(uow, code, CouponOrder(
        cmd.customer_id, target.seller_id, target.item.item_id, currency, target.subtotal))
    assert applied is not None
    target.discount = applied.discount
    target.coupon = True
    return str(applied.coupon["code"])  # as the coupon spells it


def _pay(uow: UnitOfWork, cmd: CreateOrder, currency: str, order_id: str, group: _Group,
         actor: Actor, percent: bool) -> Payment:
    item = group.item
    assert item is not None
    metadata: dict[str, Any] = {}
    if len(group.lines) > 1:
        metadata["order_lines"] = [
            {"line_no": n, "item_type": line.item_type, "item_id": line.item_id,
             "quantity": line.quantity, "unit_price": line.unit_price}
            for n, line in group.lines]
    return payments.create_payment(uow, payments.CreatePayment(
        customer_id=cmd.customer_id, seller_id=group.seller_id, item_type=item.item_type,
        item_id=item.item_id, currency=currency, subtotal=group.subtotal,
        discount=group.discount if percent else None, tax=group.tax, shipping=group.shipping,
        method=cmd.method, gateway=cmd.gateway, kind=str(PaymentKind.ONE_TIME),
        order_id=order_id, coupon_code=cmd.coupon_code if group.coupon else None,
        description=cmd.description or f"order {order_id}", metadata=metadata,
        return_url=cmd.return_url, order_ref=order_id), actor)


def _own_item(uow: UnitOfWork, line: LineIn, now: datetime) -> None:
    """A line's item belongs to its seller (created for it on first use)."""
    owner = uow.parties.ensure_item(line.item_type, line.item_id, line.seller_id, now)
    if owner not in (None, line.seller_id):
        raise ItemSellerMismatch(f"{line.item_type} {line.item_id} belongs to seller "
                                 f"{owner}, not {line.seller_id}", field="seller_id")


# -- read ----------------------------------------------------------------------------------


def get_order(uow: UnitOfWork, order_id: str, actor: Actor) -> dict[str, Any]:
    """The order as ``actor`` may see it: a seller only its own lines and payment."""
    order = fetch(uow.orders, "order", order_id)
    lines = uow.orders.lines_of([order_id])
    _check_reach(actor, Action.READ_ORDER, order, lines)
    return _scoped(actor, order, lines, uow.orders.payments_of([order_id]))


def list_orders(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                status: str | None = None, confirmed_code: int | None = None,
                customer_id: str | None = None, seller_id: str | None = None,
                item_id: str | None = None, stream: str | None = None,
                created_gte: datetime | None = None,
                created_lt: datetime | None = None) -> list[dict[str, Any]]:
    """Newest first; sellers see the orders with a line of theirs, customers their own."""
    filters = {"customer_id": customer_id, "seller_id": seller_id}
    for name, value in permissions.list_scope(actor, Action.READ_ORDER).items():
        if filters[name] not in (None, value):
            return []  # another party's orders do not exist for this caller
        filters[name] = value
    if status is not None:
        _status(status)
    if confirmed_code is not None:
        status_of_code(confirmed_code)
    rows = uow.orders.list(limit=limit, before_id=cursor, status=status,
                           confirmed_code=confirmed_code, item_id=item_id, stream=stream,
                           created_gte=created_gte, created_lt=created_lt, **filters)
    ids = [row["id"] for row in rows]
    lines: dict[str, list[OrderLine]] = {i: [] for i in ids}
    paid: dict[str, list[Payment]] = {i: [] for i in ids}
    for line in uow.orders.lines_of(ids):
        lines[line["order_id"]].append(line)
    for payment in uow.orders.payments_of(ids):
        paid[payment["order_ref"] or ""].append(payment)
    return [_scoped(actor, row, lines[row["id"]], paid[row["id"]]) for row in rows]


def order_history(uow: UnitOfWork, order_id: str, actor: Actor) -> list[PaymentEvent]:
    """Every status move with its time, actor and reason (overrides included). To a
    seller, a reason that names another seller's payment is not shown."""
    seen = get_order(uow, order_id, actor)
    others: set[str] = set()
    if actor.role is Role.SELLER:
        own = {p["id"] for p in seen["payments"]}
        others = {p["id"] for p in uow.orders.payments_of([order_id])} - own
    return [{**event, "needs_review": False,
             "reason": None if any(p in (event["reason"] or "") for p in others)
             else event["reason"]}
            for event in uow.records.status_history("order", order_id)]


def stream_stats(uow: UnitOfWork, actor: Actor, *, item_id: str | None = None,
                 item_type: str | None = None, stream: str | None = None,
                 currency: str | None = None, created_gte: datetime | None = None,
                 created_lt: datetime | None = None) -> list[dict[str, Any]]:
    """Per item, stream and currency: bookings (order lines) confirmed (code 2), pending
    (1) and cancelled (-1), and the confirmed ones' revenue net of their discounts. A
    seller sees its own lines only."""
    scope = permissions.list_scope(actor, Action.READ_ORDER_STATS)
    if currency is not None:
        currency = validate_currency(currency)
    return uow.orders.stream_stats(seller_id=scope.get("seller_id"), item_id=item_id,
                                   item_type=item_type, stream=stream, currency=currency,
                                   created_gte=created_gte, created_lt=created_lt)


def _check_reach(actor: Actor, action: Action, order: Order, lines: list[OrderLine]) -> None:
    permissions.check_object(actor, action,
                             {**order, "seller_ids": {line["seller_id"] for line in lines}},
                             f"order {order['id']}")


def _scoped(actor: Actor, order: Order, lines: list[Any], paid: list[Payment]
            ) -> dict[str, Any]:
    """A seller's order: only its lines and payment, and totals that are their sums."""
    if actor.role is not Role.SELLER:
        return order_status.with_parts(order, lines, paid)
    lines = [line for line in lines if line["seller_id"] == actor.id]
    paid = [p for p in paid if p["seller_id"] == actor.id]
    own: dict[str, Any] = {name: sum(p[name] for p in paid)
                           for name in ("subtotal", "discount", "tax", "shipping", "total",
                                        "refunded_amount")}
    # the coupon only if it discounted this seller's own payment
    own["coupon_code"] = next((p["coupon_code"] for p in paid if p["coupon_code"]), None)
    return order_status.with_parts({**order, **own}, lines, paid)  # type: ignore[typeddict-item]


def _status(value: str) -> OrderStatus:
    try:
        return OrderStatus(value)
    except ValueError:
        raise ValidationFailed(f"status {value!r} is not one of: "
                               + ", ".join(OrderStatus), field="status") from None


# -- moves ---------------------------------------------------------------------------------


def cancel_order(uow: UnitOfWork, order_id: str, actor: Actor, *,
                 reason: str | None = None) -> dict[str, Any]:
    """Cancel a pending order (an admin, or its customer): its open payments are canceled
    first (which cancels the order, through them), its paid ones get a full refund
    request, then the order is cancelled if it is not yet. Anything but pending: 409."""
    permissions.check(actor, Action.CANCEL_ORDER)
    order = fetch(uow.orders, "order", order_id)
    permissions.check_object(actor, Action.CANCEL_ORDER, order, f"order {order_id}")
    if reason is not None:
        reason = require_text(reason, "reason")
    if order["status"] != OS.PENDING:
        raise InvalidTransition(f"order is {order['status']}; only a pending order can be "
                                "cancelled", current=order["status"], target=str(OS.CANCELLED))
    why = f"order {order_id} cancelled" + (f": {reason}" if reason else "")
    _settle(uow, order_id, actor, why, strict=True)
    order = fetch(uow.orders, "order", order_id)
    now = uow.now()
    if order["status"] == OS.PENDING:  # no payment of it moved it (none was open)
        moved = uow.orders.transition(order_id, {str(OS.PENDING)}, str(OS.CANCELLED),
                                      {"cancelled_at": now, "updated_at": now})
        assert moved is not None
        order_status.record_move(uow, moved, actor, why, now)
    uow.orders.update(order_id, {"settle_due_at": None})
    return get_order(uow, order_id, actor)


def override_status(uow: UnitOfWork, order_id: str, actor: Actor, *, reason: str,
                    confirmed_code: int | None = None,
                    status: str | None = None) -> dict[str, Any]:
    """An admin sets pending, confirmed or cancelled by hand (by ``confirmed_code`` 1, 2,
    -1 or ``status``), from one of those, with a reason: recorded in the history and the
    audit as an override, and announced; no payment and no money moves. Setting the
    status it already has is a 409."""
    permissions.check(actor, Action.OVERRIDE_ORDER_STATUS)
    reason = require_text(reason, "reason")
    if (confirmed_code is None) == (status is None):
        raise ValidationFailed("send confirmed_code (2, 1 or -1) or status (confirmed, "
                               "pending or cancelled): one of them", field="status")
    target = status_of_code(confirmed_code) if status is None else _status(status)
    if target not in OVERRIDABLE:
        raise ValidationFailed(f"status {target} cannot be set by hand: only "
                               + ", ".join(sorted(OVERRIDABLE)), field="status")
    order = fetch(uow.orders, "order", order_id)
    current = order["status"]
    if current == target or current not in OVERRIDABLE:
        why = ("it already is" if current == target
               else f"a {current} order follows its payments' refunds")
        raise InvalidTransition(f"order is {current}; it cannot be set to {target} by hand: "
                                f"{why}", current=current, target=str(target))
    now = uow.now()
    values: dict[str, Any] = {"updated_at": now}
    if target is OS.CONFIRMED:
        values["confirmed_at"] = now
    elif target is OS.CANCELLED:
        values["cancelled_at"] = now
    moved = uow.orders.transition(order_id, {current}, str(target), values)
    if moved is None:  # it moved since we read it
        current = fetch(uow.orders, "order", order_id)["status"]
        raise InvalidTransition(f"order is {current}; it moved while being set by hand",
                                current=current, target=str(target))
    order_status.record_move(uow, moved, actor, f"override: {reason}", now,
                             action="order.status_overridden")
    return get_order(uow, order_id, actor)


def settle_cancelled(storage: Storage, *, limit: int = 50) -> int:
    """The background job: orders a lost payment cancelled, whose other payments are due
    to be canceled (open) or refunded (paid). Each is claimed under a lease (SKIP LOCKED),
    then settled in a transaction of its own; settling twice asks nothing twice."""
    with storage.unit_of_work() as uow:
        now = uow.now()
        claimed = uow.orders.claim_to_settle(now, now + SETTLE_LEASE, limit)
        uow.commit()
    settled = 0
    for order_id in claimed:
        try:
            with storage.unit_of_work() as uow:
                _settle(uow, order_id, SYSTEM, f"order {order_id} cancelled", strict=False)
                uow.orders.update(order_id, {"settle_due_at": None})
                uow.commit()
            settled += 1
        except PaytrackError:
            log.exception("settling order %s failed; retried after its lease", order_id)
    return settled


def _settle(uow: UnitOfWork, order_id: str, actor: Actor, reason: str, *,
            strict: bool) -> None:
    """Cancel the order's open payments, then ask a full refund of each paid one that has
    no refund request open. Payment rows are locked first, the order (by the hook) after.
    ``strict``: a payment that cannot be canceled refuses the whole (the caller's cancel);
    otherwise it is read again and refunded if it was paid meanwhile."""
    order = fetch(uow.orders, "order", order_id)
    ids = sorted(p["id"] for p in uow.orders.payments_of([order_id]))
    settling = (OS.PENDING, OS.CANCELLED) if strict else (OS.CANCELLED,)
    if order["status"] not in settling:
        return  # confirmed or set by hand since: nothing to settle
    for payment_id in ids:  # every payment row before the first move locks the order
        uow.payments.lock(payment_id)
    for payment_id in ids:
        if fetch(uow.payments, "payment", payment_id)["status"] in OPEN:
            try:
                payments.cancel_payment(uow, payment_id, actor, reason=reason)
            except InvalidTransition:
                if strict:
                    raise
    # Read after its payments: one captured meanwhile may have confirmed it.
    order = fetch(uow.orders, "order", order_id)
    if order["status"] not in settling:
        if strict:
            raise InvalidTransition(f"order is {order['status']}; only a pending order can "
                                    "be cancelled", current=order["status"],
                                    target=str(OS.CANCELLED))
        return
    for payment_id in ids:
        payment = fetch(uow.payments, "payment", payment_id)
        if (payment["status"] in CAPTURED and refundable_amount(payment) > 0
                and not uow.refunds.open_on_payment(payment_id)):
            refunds.request_refund(uow, payment_id, SYSTEM, reason=reason)
