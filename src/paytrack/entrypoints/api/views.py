"""Each role's view of a payment, a refund, a dispute and a status event, as response models.

``paytrack.services.permissions`` decides which fields each role sees and shows actors to
non-admins as roles; here each full model of ``schemas.py`` is cut down to those fields, one
model per role, and every route answers through ``present``. The models forbid any other
field, so an answer fits only a model with exactly its role's fields, and the OpenAPI schema
documents them as ``anyOf`` (a customer's payment simply has no ``platform_fee``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, cast, overload

from pydantic import BaseModel, ConfigDict, Field, create_model

from paytrack.domain.actors import Actor, Role
from paytrack.domain.coupons import Coupon
from paytrack.domain.disputes import Dispute
from paytrack.domain.events import Event, EventDelivery, EventEndpoint
from paytrack.domain.payments import Payment, refundable_amount
from paytrack.domain.payouts import Payout
from paytrack.domain.refunds import Refund
from paytrack.domain.states import PaymentEvent
from paytrack.domain.subscriptions import Subscription, seed_fields
from paytrack.entrypoints.api.event_schemas import (
    EventDeliveryOut,
    EventEndpointOut,
    EventOut,
    EventPayloadOut,
)
from paytrack.entrypoints.api.order_schemas import OrderOut, OrderPaymentOut
from paytrack.entrypoints.api.schemas import (
    CouponOut,
    DisputeOut,
    Page,
    PaymentOut,
    PayoutAccountOut,
    PayoutOut,
    RefundOut,
    StatusEventOut,
    page,
)
from paytrack.services import permissions


class _RoleView(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _cut(full: type[BaseModel], kind: str, role: Role) -> type[BaseModel]:
    """``full`` with only the fields ``role`` may see of a ``kind``."""
    visible = permissions.visible_fields(role, kind)
    fields: dict[str, Any] = {name: (info.annotation, info)
                              for name, info in full.model_fields.items() if name in visible}
    return create_model(f"{role.value.capitalize()}{full.__name__}", __base__=_RoleView,
                        __doc__=f"A {kind} as a {role} sees it.", **fields)


for _full, _kind in ((PaymentOut, "payment"), (RefundOut, "refund"), (DisputeOut, "dispute"),
                     (StatusEventOut, "status_event"), (PayoutOut, "payout"),
                     (PayoutAccountOut, "payout_account"), (CouponOut, "coupon"),
                     (EventEndpointOut, "event_endpoint"), (EventOut, "event"),
                     (EventDeliveryOut, "event_delivery"), (OrderOut, "order"),
                     (OrderPaymentOut, "order_payment")):
    assert set(_full.model_fields) == permissions.visible_fields(Role.ADMIN, _kind), (
        f"{_full.__name__} and permissions.FIELDS[{_kind!r}] must list the same fields")

SellerPaymentOut = _cut(PaymentOut, "payment", Role.SELLER)
CustomerPaymentOut = _cut(PaymentOut, "payment", Role.CUSTOMER)
SellerRefundOut = _cut(RefundOut, "refund", Role.SELLER)
CustomerRefundOut = _cut(RefundOut, "refund", Role.CUSTOMER)
SellerDisputeOut = _cut(DisputeOut, "dispute", Role.SELLER)  # customers see no disputes
SellerCouponOut = _cut(CouponOut, "coupon", Role.SELLER)
SellerPayoutOut = _cut(PayoutOut, "payout", Role.SELLER)

# Tried in order, the first that fits is used (a seller's refund has the full fields).
PaymentView = Annotated[PaymentOut | SellerPaymentOut | CustomerPaymentOut,  # type: ignore[valid-type]
                        Field(union_mode="left_to_right")]
RefundView = Annotated[RefundOut | SellerRefundOut | CustomerRefundOut,  # type: ignore[valid-type]
                       Field(union_mode="left_to_right")]

DisputeView = Annotated[DisputeOut | SellerDisputeOut,  # type: ignore[valid-type]
                        Field(union_mode="left_to_right")]
CouponView = Annotated[CouponOut | SellerCouponOut,  # type: ignore[valid-type]
                       Field(union_mode="left_to_right")]
PayoutView = Annotated[PayoutOut | SellerPayoutOut,  # type: ignore[valid-type]
                       Field(union_mode="left_to_right")]


# An order: a seller sees all an admin does (of its own part); a customer no metadata and
# no split of its payments.
CustomerOrderPaymentOut = _cut(OrderPaymentOut, "order_payment", Role.CUSTOMER)
CustomerOrderOut = create_model(
    "CustomerOrderOut", __base__=_cut(OrderOut, "order", Role.CUSTOMER),
    __doc__="An order as a customer sees it.",
    payments=(list[CustomerOrderPaymentOut], OrderOut.model_fields["payments"]))  # type: ignore[valid-type]
OrderView = Annotated[OrderOut | CustomerOrderOut,  # type: ignore[valid-type]
                      Field(union_mode="left_to_right")]


class OrderPage(Page[OrderView]):
    pass


class PaymentPage(Page[PaymentView]):
    pass


class RefundPage(Page[RefundView]):
    pass


class DisputePage(Page[DisputeView]):
    pass


class CouponPage(Page[CouponView]):
    pass


class PayoutPage(Page[PayoutView]):
    pass


@overload
def present(actor: Actor, kind: Literal["order"], row: Mapping[str, Any]) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["payment"], row: Payment) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["refund"], row: Refund) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["dispute"], row: Dispute) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["status_event"], row: PaymentEvent) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["payout"], row: Payout) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["payout_account"], row: Any) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["coupon"], row: Coupon) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["event_endpoint"], row: EventEndpoint
            ) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["event"], row: Event) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["event_delivery"], row: EventDelivery
            ) -> dict[str, Any]: ...
@overload
def present(actor: Actor, kind: Literal["subscription"], row: Subscription
            ) -> dict[str, Any]: ...


def present(actor: Actor, kind: Any, row: Any) -> dict[str, Any]:
    """What ``actor`` may see of ``row``: every payment, refund and status event a route
    answers with goes through here."""
    if kind == "payment":
        row = {**row, "refundable_amount": refundable_amount(row)}
    if kind == "subscription":
        row = {**row, **seed_fields(row)}
    if kind == "event":
        return {**permissions.view(actor, kind, row), "data": {"object": _object_of(row)}}
    return permissions.view(actor, kind, row)


# -- events to the platform --------------------------------------------------------------

_PLATFORM = Actor(Role.SYSTEM)  # what an endpoint sees: the admin's view
_present_any = cast(Callable[[Actor, str, Mapping[str, Any]], dict[str, Any]], present)


def _object_of(event: Event) -> dict[str, Any]:
    """The event's object as an admin sees it, from the snapshot taken when it happened
    (a field added to the view since then shows as null)."""
    kind = event["object_type"]
    fields = permissions.visible_fields(Role.ADMIN, kind)
    return _present_any(_PLATFORM, kind, {**dict.fromkeys(fields), **event["data"]})


def event_payload(event: Event) -> bytes:
    """The body of every delivery of ``event``: ``{"id", "type", "created_at", "data":
    {"object"}}``, the same bytes on every retry."""
    return EventPayloadOut.model_validate({
        "id": event["id"], "type": event["type"], "created_at": event["created_at"],
        "data": {"object": _object_of(event)}}).model_dump_json().encode()


@overload
def present_page(actor: Actor, kind: Literal["order"], rows: Sequence[Mapping[str, Any]],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["payment"], rows: Sequence[Payment],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["refund"], rows: Sequence[Refund],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["payout"], rows: Sequence[Payout],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["dispute"], rows: Sequence[Dispute],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["coupon"], rows: Sequence[Coupon],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["event_endpoint"], rows: Sequence[EventEndpoint],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["event"], rows: Sequence[Event],
                 limit: int) -> dict[str, Any]: ...
@overload
def present_page(actor: Actor, kind: Literal["subscription"], rows: Sequence[Subscription],
                 limit: int) -> dict[str, Any]: ...


def present_page(actor: Actor, kind: Any, rows: Sequence[Any], limit: int) -> dict[str, Any]:
    """A page of ``limit + 1`` fetched rows, each as ``actor`` may see it."""
    return page(rows, limit, lambda row: present(actor, kind, row))


# What a seller's transaction history shows of each payment (all in its ``order`` and
# ``split`` views).
TRANSACTION_FIELDS = ("id", "status", "currency", "total", "seller_amount", "platform_fee",
                      "refunded_amount", "created_at", "customer_id", "order_id",
                      "item_type", "item_id")


def present_transactions(actor: Actor, rows: Sequence[Payment], limit: int
                         ) -> dict[str, Any]:
    """A page of a seller's payments (``limit + 1`` fetched), each as ``actor`` may see
    it, cut to the history's fields."""
    def shape(row: Payment) -> dict[str, Any]:
        seen = present(actor, "payment", row)
        return {name: seen.get(name) for name in TRANSACTION_FIELDS}

    return page(rows, limit, shape)
