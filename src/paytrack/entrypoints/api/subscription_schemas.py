# mypy: disable-error-code="valid-type, misc"
"""Request and response models of subscriptions. The answers to an application and to a
confirmation keep the subscription seed's shapes ("premium membership application",
"payment confirmation"), with the subscription under ``subscription``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints

from paytrack.domain.actors import Role
from paytrack.domain.payments import Gateway, PaymentMethod
from paytrack.domain.subscriptions import MAX_PERIOD_MONTHS, SubscriptionStatus
from paytrack.entrypoints.api import examples
from paytrack.entrypoints.api.schemas import (
    _MINOR_UNITS,
    Amount,
    Code,
    Currency,
    ExternalId,
    FullView,
    GatewayName,
    Input,
    Metadata,
    Method,
    Page,
    PositiveAmount,
    Text,
    WebUrl,
    _about,
)
from paytrack.entrypoints.api.views import _cut
from paytrack.services import permissions

if TYPE_CHECKING:
    SubscriptionStatusName: TypeAlias = str
else:
    SubscriptionStatusName = Literal[tuple(s.value for s in SubscriptionStatus)]

PeriodMonths = Annotated[StrictInt, Field(
    ge=1, le=MAX_PERIOD_MONTHS, examples=[6],
    description=f"the length of one period: a JSON integer of months, 1 to {MAX_PERIOD_MONTHS}")]
ItemType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class CreateSubscriptionIn(Input, json_schema_extra=examples.CREATE_SUBSCRIPTION):
    customer_id: ExternalId = _about(None, "stu_42")
    seller_id: ExternalId = _about(None, "inst_ada")
    item_type: ItemType = _about("what is subscribed to: a lowercase word of up to 40 "
                                 "letters, digits and `_`", "service", default="service")
    item_id: ExternalId = _about(None, "premium_membership")
    period_months: PeriodMonths
    fee: PositiveAmount = _about(f"the price of one period: {_MINOR_UNITS}, above zero",
                                 54999)
    currency: Currency
    method: Method = _about("how the customer pays: " + ", ".join(PaymentMethod), "card",
                            default="card")
    gateway: GatewayName = _about("where its payments are taken: " + ", ".join(Gateway),
                                  "stripe", default="manual")
    return_url: WebUrl | None = _about(
        "at a configured gateway, where the customer is sent back after paying",
        "https://school.example/membership/done", default=None)
    description: Text | None = _about(None, "Premium Membership - 6 months", default=None)
    metadata: Metadata = Field(default_factory=dict)


class UpgradeSubscriptionIn(Input, json_schema_extra=examples.UPGRADE_SUBSCRIPTION):
    item_id: ExternalId = _about("the dearer service of the same seller", "vip_membership")
    fee: PositiveAmount = _about(f"its price per period, above the current fee: "
                                 f"{_MINOR_UNITS}", 89999)


class CancelSubscriptionIn(Input, json_schema_extra=examples.CANCEL_SUBSCRIPTION):
    at_period_end: StrictBool = _about("true: stays active until its period ends, then "
                                       "canceled; false: canceled now", False, default=False)
    reason: Text | None = _about(None, "moving to another school", default=None)


class ConfirmSubscriptionIn(Input, json_schema_extra=examples.CONFIRM_SUBSCRIPTION):
    gateway_fee: Amount = _about(f"the fee the gateway kept: {_MINOR_UNITS}", 175, default=0)
    gateway_payment_id: Code | None = _about(
        "the gateway's own id of this payment: one line of 1 to 200 characters",
        "pi_3P9xYz2eZvKYlo2C", default=None)


class SubscriptionOut(FullView):
    id: str
    customer_id: str
    seller_id: str
    item_type: str
    item_id: str = Field(description="The service subscribed to")
    currency: str
    fee: int = Field(description="The price of one period, in minor units")
    period_months: int
    gateway: str
    method: str
    status: str = Field(description="pending_payment, active, past_due, canceled, expired "
                                    "or incomplete_expired")
    previous_status: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    open_payment_id: str | None = Field(description="The payment it waits for (first, "
                                                    "renewal or upgrade), if any")
    upgrade_item_id: str | None = Field(description="An upgrade waiting for its payment")
    upgrade_fee: int | None
    renewals: int
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None
    ended_at: datetime | None
    active: bool = Field(description="Whether the service is on (active, or past_due within "
                                     "the grace period)")
    subscription_duration: int = Field(description="The seed's name of `period_months`")
    subscription_expires_at: datetime | None = Field(
        description="The end of the current period; before activation, the end the first "
                    "period would have if paid now")
    subscription_fee: int = Field(description="The seed's name of `fee`")


assert set(SubscriptionOut.model_fields) == permissions.visible_fields(Role.ADMIN,
                                                                       "subscription")
SellerSubscriptionOut = _cut(SubscriptionOut, "subscription", Role.SELLER)
CustomerSubscriptionOut = _cut(SubscriptionOut, "subscription", Role.CUSTOMER)
SubscriptionView = Annotated[
    SubscriptionOut | SellerSubscriptionOut | CustomerSubscriptionOut,
    Field(union_mode="left_to_right")]


class SubscriptionPage(Page[SubscriptionView]):
    pass


class SubscriptionPaymentOut(BaseModel):
    payment_id: str
    status: str
    payment_url: str | None = Field(description="Where the customer pays, until `expires_at`")
    amount: int = Field(description="In minor units")
    currency: str
    expires_at: datetime | None


class SubscriptionApplicationOut(BaseModel):
    """The seed's premium membership application: the subscription and the payment it waits
    for (null when an upgrade was switched at once)."""

    status: str = Field(description="The subscription's status")
    subscription: SubscriptionView
    payment: SubscriptionPaymentOut | None


class PaymentRecordOut(BaseModel):
    id: str
    status: str
    paid_at: datetime | None
    amount: int
    payment_method: str


class SubscriptionConfirmationOut(BaseModel):
    """The seed's payment confirmation."""

    status: Literal["activated", "renewed", "upgraded"]
    subscription: SubscriptionView
    payment_id: str
    payment_record: PaymentRecordOut
