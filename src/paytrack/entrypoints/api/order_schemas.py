# mypy: disable-error-code="valid-type, misc"
"""Request and response models of orders (bookings): create, cancel, set a status by hand,
the order with its lines and payments, and the per-stream statistics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BeforeValidator, Field, StrictInt, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from paytrack.domain.orders import (
    MAX_LINES,
    MAX_QUANTITY,
    STREAM_EXPECTED,
    STREAM_PATTERN,
    OrderStatus,
)
from paytrack.domain.payments import Gateway, PaymentMethod
from paytrack.entrypoints.api import examples
from paytrack.entrypoints.api.schemas import (
    _MINOR_UNITS,
    Amount,
    Currency,
    ExternalId,
    FullView,
    GatewayName,
    Input,
    Metadata,
    Method,
    Page,
    PositiveAmount,
    Reason,
    Text,
    WebUrl,
    _about,
    _text,
)

if TYPE_CHECKING:
    OrderStatusName: TypeAlias = str
else:
    OrderStatusName = Literal[tuple(s.value for s in OrderStatus)]

Stream = Annotated[str, StringConstraints(pattern=STREAM_PATTERN),
                   Field(description=f"a course cohort or session: {STREAM_EXPECTED}",
                         examples=["2026-spring"])]


def _integer(value: object) -> object:
    """A Literal of ints takes true (as 1) and 2.0: only a JSON integer is a code."""
    if type(value) is not int:
        raise PydanticCustomError("int_type", "Input should be an integer: 2, 1 or -1")
    return value


ConfirmedCode = Annotated[Literal[2, 1, -1], BeforeValidator(_integer), Field(
    description="the booking code: 2 confirmed, 1 pending, -1 cancelled", examples=[2])]
_PERCENT = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"
DiscountPercent = Annotated[str, StringConstraints(pattern=_PERCENT),
                            Field(description="a percent of each payment's subtotal, 0 to 100 "
                                              'with at most 2 decimals, as text: "10", "12.5"',
                                  examples=["10"])]


class OrderLineIn(Input):
    item_type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = _about(
        "what is sold: a lowercase word of up to 40 letters, digits and `_`", "course")
    item_id: ExternalId = _about(None, "course_python")
    seller_id: ExternalId = _about(None, "inst_ada")
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)] = _about(
        f"how many: 1 to {MAX_QUANTITY:,}", 1, default=1)
    unit_price: Amount = _about(f"the price of one: {_MINOR_UNITS}", 4999)
    tax: Amount = _about(f"the line's tax: {_MINOR_UNITS}", 360, default=0)
    shipping: Amount = _about(f"the line's shipping: {_MINOR_UNITS}", 0, default=0)


class CreateOrderIn(Input, json_schema_extra=examples.CREATE_ORDER):
    customer_id: ExternalId = _about(None, "stu_42")
    currency: Currency
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_LINES)] = _about(
        f"1 to {MAX_LINES} lines; one payment is made per seller")
    stream: Stream | None = None
    referral_code: Annotated[_text(64, min_length=1, line=True), Field(
        description="who referred the customer: one line of 1 to 64 characters")] | None = \
        _about(None, "FRIEND-ADA", default=None)
    coupon_code: Annotated[_text(64, min_length=1, line=True), Field(
        description="a coupon code: one line of 1 to 64 characters")] | None = _about(
        "a coupon for one seller's payment (with several sellers it must be limited to "
        "the items of exactly one of them); not with `discount_percent`", "SPRING25",
        default=None)
    discount_percent: DiscountPercent | None = None
    method: Method = _about("how the customer pays: " + ", ".join(PaymentMethod), "card",
                            default="card")
    gateway: GatewayName = _about("the gateway of its payments: " + ", ".join(Gateway),
                                  "simulator", default="manual")
    return_url: WebUrl | None = _about(
        "at a configured gateway, where the customer is sent back after paying",
        "https://school.example/checkout/done", default=None)
    description: Text | None = _about(None, "Python for Data Science, spring cohort",
                                      default=None)
    metadata: Metadata = Field(default_factory=dict)
    total: PositiveAmount | None = _about(
        f"the total you expect ({_MINOR_UNITS}): the order is refused (422 "
        "`order_total_mismatch`) unless its computed total is this", 4859, default=None)

    @model_validator(mode="after")
    def _one_discount(self) -> CreateOrderIn:
        if self.coupon_code is not None and self.discount_percent is not None:
            raise PydanticCustomError("conflicting_fields", "send coupon_code or "
                                      "discount_percent, not both: an order has one discount")
        return self


class CancelOrderIn(Input, json_schema_extra=examples.CANCEL_ORDER):
    reason: Text | None = _about(None, "the student moved to the autumn stream", default=None)


class OrderStatusIn(Input, json_schema_extra=examples.ORDER_STATUS):
    """`confirmed_code` or `status`: one of them."""

    confirmed_code: ConfirmedCode | None = None
    status: Literal["pending", "confirmed", "cancelled"] | None = _about(
        "pending, confirmed or cancelled", "confirmed", default=None)
    reason: Reason = _about(None, "paid in cash at the front desk")

    @model_validator(mode="after")
    def _one_of(self) -> OrderStatusIn:
        if (self.confirmed_code is None) == (self.status is None):
            raise PydanticCustomError("conflicting_fields", "send confirmed_code (2, 1 or -1) "
                                      "or status (confirmed, pending or cancelled): one of them")
        return self


class OrderLineOut(FullView):
    line_no: int
    item_type: str
    item_id: str
    seller_id: str
    quantity: int
    unit_price: int
    amount: int = Field(description="quantity × unit_price")
    discount: int = Field(description="Its share of its payment's discount")
    tax: int
    shipping: int
    payment_id: str = Field(description="The payment of its seller's part")


class OrderPaymentOut(FullView):
    id: str
    seller_id: str
    status: str
    total: int
    refunded_amount: int
    payment_url: str | None
    payment_url_expires_at: datetime | None
    platform_fee: int
    seller_amount: int


class OrderOut(FullView):
    id: str
    status: OrderStatusName
    confirmed_code: int = Field(description="2 confirmed (or partially refunded), 1 pending, "
                                            "-1 cancelled (or refunded)")
    customer_id: str
    currency: str
    stream: str | None
    referral_code: str | None
    coupon_code: str | None
    discount_percent: str | None
    subtotal: int = Field(description="To a seller, the sums of its own payment")
    discount: int
    tax: int
    shipping: int
    total: int
    refunded_amount: int
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None
    lines: list[OrderLineOut] = Field(description="To a seller, its own lines only")
    payments: list[OrderPaymentOut] = Field(description="One per seller; to a seller, its own")


class StreamStatsRow(FullView):
    item_type: str
    item_id: str
    stream: str | None
    currency: str
    bookings: int = Field(description="Its order lines, whatever their status")
    confirmed: int = Field(description="Bookings of confirmed orders (code 2)")
    pending: int = Field(description="Bookings of pending orders (code 1)")
    cancelled: int = Field(description="Bookings of cancelled or refunded orders (code -1)")
    booked_amount: int = Field(description="Σ amount − discount of all its bookings")
    confirmed_revenue: int = Field(description="Σ amount − discount of its confirmed "
                                               "bookings, minor units")


class StreamStatsOut(FullView):
    data: list[StreamStatsRow]


class OrderPageBase(Page[OrderOut]):
    pass
