"""Request and response models. Inputs forbid unknown fields (no mass assignment of
``status``, ``refunded_amount`` …) and take amounts only as JSON integers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from paytrack.domain import limits
from paytrack.domain.payments import Gateway, PaymentKind, PaymentMethod
from paytrack.domain.states import PaymentStatus, RefundStatus

NO_NUL = r"^[^\x00]*$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$"
# paytrack's own ids (``pay_01J…``, ``re_…``): what is not one names nothing, and is refused
# (422) before any lookup, as a malformed party id is; a well-formed id of nothing the
# caller may see is a 404.
OBJECT_ID_PATTERN = r"^[A-Za-z0-9_]{1,64}$"

ExternalId = Annotated[str, StringConstraints(pattern=ID_PATTERN),
                       Field(description="The platform's own id (letters, digits, `_.:@-`)")]
Text = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_NUL)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"),
                     Field(description="ISO-4217 code", examples=["USD"])]


def _within_amount_limit(value: int) -> int:
    """The domain's limit, read when a request arrives (so the message and the check
    cannot disagree); ``maximum`` in the schema documents it."""
    if value > limits.MAX_AMOUNT_MINOR:
        raise PydanticCustomError("amount_limit_exceeded", limits.amount_limit_message())
    return value


_WITHIN_LIMIT = AfterValidator(_within_amount_limit)
_MAXIMUM = {"maximum": limits.MAX_AMOUNT_MINOR}
Amount = Annotated[int, Field(strict=True, ge=0, json_schema_extra=_MAXIMUM,
                              description="Integer minor units (1250 = 12.50 USD)"),
                   _WITHIN_LIMIT]
PositiveAmount = Annotated[int, Field(strict=True, gt=0, json_schema_extra=_MAXIMUM,
                                      description="Integer minor units, above zero"),
                           _WITHIN_LIMIT]
Rate = Annotated[str, StringConstraints(pattern=r"^(0(\.\d{1,6})?|1(\.0{1,6})?)$"),
                 Field(description="Decimal fraction as a string, e.g. '0.10'",
                       examples=["0.10"])]
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL)]
MetaValue = (Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]
             | Annotated[int, Field(strict=True, ge=-(2**53), le=2**53)] | StrictBool | None)
Metadata = Annotated[dict[MetaKey, MetaValue], Field(max_length=50)]
BillingDetails = Annotated[dict[MetaKey, Annotated[str, StringConstraints(
    max_length=500, pattern=NO_NUL)] | None], Field(max_length=20)]

Method = Literal[tuple(m.value for m in PaymentMethod)]  # type: ignore[valid-type]
GatewayName = Literal[tuple(g.value for g in Gateway)]  # type: ignore[valid-type]
Kind = Literal[tuple(k.value for k in PaymentKind)]  # type: ignore[valid-type]
PaymentStatusName = Literal[tuple(s.value for s in PaymentStatus)]  # type: ignore[valid-type]
RefundStatusName = Literal[tuple(s.value for s in RefundStatus)]  # type: ignore[valid-type]


def _iso_only(value: object) -> object:
    if isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit():
        raise ValueError("use an ISO-8601 date-time, e.g. 2026-01-31T00:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """The instant in UTC (a date-time without an offset is read as UTC); one whose UTC
    date falls outside years 1 to 9999 cannot be compared with anything stored."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_out_of_range",
            "this instant falls outside 0001-01-01 to 9999-12-31 in UTC; expected an "
            "ISO-8601 date-time within those years, e.g. 2026-01-31T00:00:00Z") from None


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreatePaymentIn(Input):
    customer_id: ExternalId
    seller_id: ExternalId
    item_type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"),
                         Field(examples=["course", "event", "product", "booking"])]
    item_id: ExternalId
    order_id: ExternalId | None = None
    currency: Currency
    subtotal: PositiveAmount
    discount: Amount = 0
    tax: Amount = 0
    shipping: Amount = 0
    coupon_code: Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)] | None = None
    method: Method = "card"
    gateway: GatewayName = "manual"
    kind: Kind = "one_time"
    commission_rate: Rate | None = None
    description: Text | None = None
    metadata: Metadata = Field(default_factory=dict)
    billing_details: BillingDetails | None = None
    ip_address: Annotated[str, StringConstraints(max_length=45, pattern=r"^[0-9A-Fa-f:.]+$")] \
        | None = None
    gateway_payment_id: Annotated[str, StringConstraints(min_length=1, max_length=200,
                                                         pattern=NO_NUL)] | None = None
    captured: StrictBool = Field(False, description="Record a payment the gateway already "
                                              "confirmed: created and captured at once")
    gateway_fee: Amount = Field(0, description="With `captured`: the fee the gateway kept")


class CaptureIn(Input):
    gateway_fee: Amount = 0
    gateway_payment_id: Annotated[str, StringConstraints(min_length=1, max_length=200,
                                                         pattern=NO_NUL)] | None = None
    reason: Text | None = None


class ReasonIn(Input):
    reason: Text | None = None


class CreateRefundIn(Input):
    payment_id: Annotated[str, StringConstraints(max_length=40, pattern=NO_NUL)]
    amount: PositiveAmount | None = Field(None, description="Omit for the whole refundable "
                                                            "amount")
    reason: Reason
    approve: StrictBool = Field(False, description="Admins only: approve and carry out at once")


class RejectRefundIn(Input):
    reason: Reason


class SellerIn(Input):
    name: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = None
    email: Annotated[str, StringConstraints(max_length=320, pattern=NO_NUL)] | None = None
    commission_rate: Rate | None = Field(None, description="Override of the platform rate")
    clear_commission_rate: StrictBool = Field(False, description="Go back to the platform rate")
    metadata: Metadata | None = None


class CustomerIn(Input):
    name: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = None
    email: Annotated[str, StringConstraints(max_length=320, pattern=NO_NUL)] | None = None
    metadata: Metadata | None = None


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FullView(BaseModel):
    """Everything there is to see of an object (an admin's view; ``views.py`` cuts it down
    for the other roles). Other fields are refused, so nothing is shown by accident."""

    model_config = ConfigDict(extra="forbid")


class PaymentOut(FullView):
    id: str
    status: str
    customer_id: str
    seller_id: str
    item_type: str
    item_id: str
    order_id: str | None
    currency: str
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    method: str
    gateway: str
    kind: str
    coupon_code: str | None
    commission_rate: str
    commission_base: str
    platform_fee: int
    seller_amount: int
    tax_collected: int
    shipping_collected: int
    gateway_fee: int
    refunded_amount: int
    gateway_payment_id: str | None
    description: str | None
    metadata: dict[str, Any]
    billing_details: dict[str, Any] | None
    ip_address: str | None
    failure_reason: str | None
    reconciled: bool
    created_at: datetime
    updated_at: datetime
    processing_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    canceled_at: datetime | None
    refunded_at: datetime | None


class StatusEventOut(FullView):
    from_status: str | None
    to_status: str
    actor: str = Field(description="Who moved it: to an admin `role:id` (an admin's key "
                                   "id), to anyone else the role alone")
    reason: str | None
    created_at: datetime
    needs_review: bool = Field(description="A gateway's confirmation that arrived after a "
                                           "cancel or a failure: recorded, to be reviewed")


class RefundOut(FullView):
    id: str
    payment_id: str
    currency: str
    amount: int
    status: str
    reason: str
    requested_by: str
    decided_by: str | None
    rejection_reason: str | None
    failure_reason: str | None
    seller_part: int | None
    platform_part: int | None
    tax_part: int | None
    shipping_part: int | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    rejected_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None


class SellerOut(Output):
    id: str
    name: str | None
    email: str | None
    commission_rate: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class CustomerOut(Output):
    id: str
    name: str | None
    email: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class BalanceRow(BaseModel):
    currency: str
    pending: int
    available: int
    in_transit: int
    paid_out: int


class SellerBalanceOut(BaseModel):
    seller_id: str
    balances: list[BalanceRow]


class TrialBalanceRow(BaseModel):
    currency: str
    debits: int
    credits: int


class TrialBalanceOut(BaseModel):
    balanced: bool
    currencies: list[TrialBalanceRow]


class AccountOut(BaseModel):
    code: str
    currency: str
    balance: int = Field(description="In the account's normal direction")


class PostingOut(BaseModel):
    account: str
    currency: str
    amount: int = Field(description="Debit positive, credit negative")


class EntryOut(Output):
    id: str
    kind: str
    description: str
    payment_id: str | None
    refund_id: str | None
    created_at: datetime
    postings: list[PostingOut]


class VerifyOut(BaseModel):
    ok: bool
    trial_balance: TrialBalanceOut
    differences: list[dict[str, Any]]
    unbalanced_entries: list[dict[str, Any]]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


def page(rows: list[dict], limit: int, shape: Callable[[dict], Any],
         cursor_key: str = "id") -> dict:
    """Shape ``limit + 1`` fetched rows into a page, each row with ``shape``."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {"data": [shape(r) for r in rows], "has_more": has_more,
            "next_cursor": str(rows[-1][cursor_key]) if has_more and rows else None}
