# mypy: disable-error-code="valid-type, misc"
# (Pydantic field types here are built at run time by ``_text``: beyond a type checker.)
"""Request and response models. Inputs forbid unknown fields (no mass assignment of
``status``, ``refunded_amount`` …) and take amounts only as JSON integers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from paytrack.domain import coupons, limits
from paytrack.domain.disputes import DisputeReason
from paytrack.domain.payments import Gateway, PaymentKind, PaymentMethod
from paytrack.domain.payouts import PayoutMethod
from paytrack.domain.splits import RATE_EXPECTED, RATE_PATTERN
from paytrack.domain.states import DisputeStatus, PaymentStatus, PayoutStatus, RefundStatus
from paytrack.entrypoints.api import examples

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$"
# paytrack's own ids (``pay_01J…``, ``re_…``): what is not one names nothing, and is refused
# (422) before any lookup, as a malformed party id is; a well-formed id of nothing the
# caller may see is a 404.
OBJECT_ID_PATTERN = r"^[A-Za-z0-9_]{1,64}$"

# Every input field documents what it expects (a phrase that reads after "expected") and an
# example: the schema shows them, and a refusal quotes them (``problems.py``).

ID_EXPECTED = ("the platform's own id: 1 to 100 letters, digits and `_.:@-`, starting with a "
               "letter or digit")
ExternalId = Annotated[str, StringConstraints(pattern=ID_PATTERN), Field(description=ID_EXPECTED)]
ObjectId = Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN),
                     Field(description="a paytrack id, as paytrack returned it")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"),
                     Field(description="an ISO-4217 currency code in capital letters",
                           examples=["USD"])]

# Free text is refused with a control character or a bidirectional override in it: they
# hide or reorder what a person reads in a dashboard, a log or a terminal. Text may still
# span lines (tab and newline); a one-line value (a name, a key, a code) may not.
_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
_BIDI_OVERRIDES = r"\u202a-\u202e\u2066-\u2069"
_REFUSED_IN_TEXT = f"{_CONTROLS}{_BIDI_OVERRIDES}"
_REFUSED_IN_LINE = rf"\t\n{_REFUSED_IN_TEXT}"


def _plain(refused: str) -> tuple[Any, Any]:
    """A validator refusing the characters in the class ``refused``, naming the first one,
    and the pattern that documents the rule."""
    found = re.compile(f"[{refused}]")

    def check(value: str) -> str:
        bad = found.search(value)
        if bad is not None:
            char = bad.group()
            kind = ("a bidirectional override" if "\u202a" <= char <= "\u2069"
                    else "a line break or tab" if char in "\t\n" else "a control character")
            raise PydanticCustomError(
                "forbidden_character",
                "contains {char}, {kind}, at position {position}",
                {"char": f"U+{ord(char):04X}", "kind": kind, "position": bad.start()})
        return value

    return AfterValidator(check), Field(json_schema_extra={"pattern": f"^[^{refused}]*$"})


def _text(max_length: int, *, min_length: int = 0, line: bool = False) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length),
                     *_plain(_REFUSED_IN_LINE if line else _REFUSED_IN_TEXT)]


_TEXT_RULE = "tabs and line breaks are fine, control characters and bidirectional overrides " \
             "are not"
Text = Annotated[_text(500), Field(description=f"free text of up to 500 characters; {_TEXT_RULE}")]
Reason = Annotated[_text(500, min_length=1),
                   Field(description=f"why, in 1 to 500 characters; {_TEXT_RULE}",
                         examples=["duplicate charge"])]
Name = Annotated[_text(200, line=True),
                 Field(description="a name: one line of up to 200 characters")]
Code = Annotated[_text(200, min_length=1, line=True),
                 Field(description="one line of 1 to 200 characters")]


def _within_amount_limit(value: int) -> int:
    """The domain's limit, read when a request arrives (so the message and the check
    cannot disagree); ``maximum`` in the schema documents it."""
    if value > limits.MAX_AMOUNT_MINOR:
        raise PydanticCustomError("amount_limit_exceeded", limits.amount_limit_message())
    return value


_WITHIN_LIMIT = AfterValidator(_within_amount_limit)
_MAXIMUM = {"maximum": limits.MAX_AMOUNT_MINOR}
_MINOR_UNITS = "a JSON integer of the currency's minor units (1250 is 12.50 USD, 500 is 500 JPY)"
Amount = Annotated[int, Field(strict=True, ge=0, json_schema_extra=_MAXIMUM,
                              description=_MINOR_UNITS, examples=[0]),
                   _WITHIN_LIMIT]
PositiveAmount = Annotated[int, Field(strict=True, gt=0, json_schema_extra=_MAXIMUM,
                                      description=f"{_MINOR_UNITS}, above zero",
                                      examples=[4999]),
                           _WITHIN_LIMIT]
Rate = Annotated[str, StringConstraints(pattern=RATE_PATTERN),
                 Field(description=RATE_EXPECTED, examples=["0.10"])]
MetaKey = _text(40, min_length=1, line=True)
_META_TEXT = TypeAdapter(_text(500))
_META_INTEGER = 2**53  # what every JSON reader holds exactly


def _meta_value(value: object) -> object:
    """Text, an integer, a boolean or null: one check with one message (a union of types
    would answer with an error per type)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > _META_INTEGER:
            raise PydanticCustomError(
                "metadata_integer", f"is beyond {_META_INTEGER:,} either way, the largest "
                "integer every JSON reader holds exactly; send it as text")
        return value
    if isinstance(value, str):
        if len(value) > 500:
            raise PydanticCustomError("string_too_long", "has more than 500 characters")
        return _META_TEXT.validate_python(value)
    raise PydanticCustomError("metadata_value", "is not text, an integer, a boolean or null")


MetaValue = Annotated[Any, PlainValidator(_meta_value, json_schema_input_type=(
    _text(500) | Annotated[int, Field(ge=-_META_INTEGER, le=_META_INTEGER)] | bool | None))]
Metadata = Annotated[dict[MetaKey, MetaValue], Field(
    max_length=50, examples=[{"cohort": "2026-spring"}],
    description="your own notes: up to 50 keys of one line and 1 to 40 characters, each with "
                "text of up to 500 characters, an integer, a boolean or null")]
BillingDetails = Annotated[dict[MetaKey, _text(500) | None], Field(
    max_length=20, examples=[{"name": "Ada Lovelace", "country": "GB"}],
    description="the customer's billing details: up to 20 keys of one line and 1 to 40 "
                "characters, each with text of up to 500 characters or null")]


def _ip_address(value: str) -> str:
    """An IPv4 or IPv6 address, kept as sent (no scope id: it names the sender's own
    network interface, which means nothing here)."""
    try:
        if "%" not in value:
            ipaddress.ip_address(value)
            return value
    except ValueError:
        pass
    raise PydanticCustomError("ip_address", "is not an IP address")


IpAddress = Annotated[str, StringConstraints(max_length=45), AfterValidator(_ip_address),
                      Field(description="an IPv4 or IPv6 address",
                            examples=["203.0.113.7", "2001:db8::7"])]
Email = Annotated[EmailStr, Field(max_length=254, description="an email address",
                                  examples=["ada@example.com"])]

if TYPE_CHECKING:  # a Literal built at run time is beyond a type checker: plain strings
    Method: TypeAlias = str
    GatewayName: TypeAlias = str
    Kind: TypeAlias = str
    PaymentStatusName: TypeAlias = str
    RefundStatusName: TypeAlias = str
    PayoutMethodName: TypeAlias = str
    PayoutStatusName: TypeAlias = str
    DisputeStatusName: TypeAlias = str
    DisputeReasonName: TypeAlias = str
else:
    Method = Literal[tuple(m.value for m in PaymentMethod)]
    GatewayName = Literal[tuple(g.value for g in Gateway)]
    Kind = Literal[tuple(k.value for k in PaymentKind)]
    PaymentStatusName = Literal[tuple(s.value for s in PaymentStatus)]
    RefundStatusName = Literal[tuple(s.value for s in RefundStatus)]
    PayoutMethodName = Literal[tuple(m.value for m in PayoutMethod)]
    PayoutStatusName = Literal[tuple(s.value for s in PayoutStatus)]
    DisputeStatusName = Literal[tuple(s.value for s in DisputeStatus)]
    DisputeReasonName = Literal[tuple(r.value for r in DisputeReason)]


_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]|$)")


def _iso_only(value: object) -> object:
    """A date-time as ISO-8601 text only: never a number of seconds ("5", "+5", "5.0e1"),
    which pydantic would otherwise read as a Unix time."""
    if isinstance(value, str) and not _ISO_START.match(value):
        raise PydanticCustomError(
            "datetime_from_iso_only",
            "expected an ISO-8601 date-time, e.g. 2026-01-31T00:00:00Z (not a number of "
            "seconds)")
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


_DATE_TIME_EXPECTED = ("an ISO-8601 date-time (a date alone: its midnight); one without an "
                       "offset is UTC")
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc),
                        # A date alone is its midnight in UTC: the schema says so too.
                        WithJsonSchema({
                            "anyOf": [{"type": "string", "format": "date-time"},
                                      {"type": "string", "format": "date"}],
                            "description": _DATE_TIME_EXPECTED,
                            "examples": ["2026-01-31T00:00:00Z"]}),
                        Field(description=_DATE_TIME_EXPECTED, examples=["2026-01-31T00:00:00Z"])]


_AWARE_EXAMPLE = "2026-02-14T23:59:59Z"


def _with_offset(value: datetime) -> datetime:
    """A deadline is an instant: one without a UTC offset could be anyone's midnight."""
    if value.tzinfo is None:
        raise PydanticCustomError(
            "timezone_required", "has no UTC offset; expected an ISO-8601 date-time with "
            f"one, e.g. {_AWARE_EXAMPLE} or 2026-02-14T18:59:59-05:00")
    return value


AwareDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_with_offset),
                          AfterValidator(_in_utc),
                          Field(description="an ISO-8601 date-time with a UTC offset",
                                examples=[_AWARE_EXAMPLE])]


WebUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#][^\s]{0,2040}$"),
                   Field(description="an http or https URL of at most 2048 characters",
                         examples=["https://school.example/checkout/done"])]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _about(description: str | None = None, *examples: Any, default: Any = ...) -> Any:
    """A field's own description (else its type's) and examples."""
    about: dict[str, Any] = {"examples": list(examples)} if examples else {}
    if description is not None:
        about["description"] = description
    return Field(default, **about)


class CreatePaymentIn(Input, json_schema_extra=examples.CREATE_PAYMENT):
    customer_id: ExternalId = _about(None, "cust_1042")
    seller_id: ExternalId = _about(None, "seller_42")
    item_type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = _about(
        "what is sold: a lowercase word of up to 40 letters, digits and `_`",
        "course", "event", "product", "booking")
    item_id: ExternalId = _about(None, "course_python_101")
    order_id: ExternalId | None = _about(None, "order_5531", default=None)
    currency: Currency
    subtotal: PositiveAmount
    discount: Amount | None = _about(
        f"{_MINOR_UNITS}; with a `coupon_code` leave it out: the coupon's discount is "
        "computed (one sent must be the same)", 500, default=None)
    tax: Amount = _about(None, 400, default=0)
    shipping: Amount = 0
    coupon_code: Annotated[_text(64, min_length=1, line=True), Field(
        description="a coupon code: one line of 1 to 64 characters")] | None = _about(
        None, "SPRING25", default=None)
    method: Method = _about("how the customer paid: " + ", ".join(PaymentMethod),
                            "card", default="card")
    gateway: GatewayName = _about("the gateway that took the money: " + ", ".join(Gateway),
                                  "stripe", default="manual")
    kind: Kind = _about("what kind of payment: " + ", ".join(PaymentKind), "one_time",
                        default="one_time")
    commission_rate: Rate | None = None
    description: Text | None = _about(None, "Python 101, spring cohort", default=None)
    metadata: Metadata = Field(default_factory=dict)
    billing_details: BillingDetails | None = None
    ip_address: IpAddress | None = None
    gateway_payment_id: Code | None = _about(
        "the gateway's own id of this payment: one line of 1 to 200 characters",
        "pi_3P9xYz2eZvKYlo2C", default=None)
    captured: StrictBool = _about("true to record a payment the gateway already confirmed: "
                                  "created and captured at once", False, default=False)
    gateway_fee: Amount = _about(f"with `captured`, the fee the gateway kept: {_MINOR_UNITS}",
                                 175, default=0)
    return_url: WebUrl | None = _about(
        "at a configured gateway, where the customer is sent back after paying (default: "
        "paytrack's own page showing the payment's status)",
        "https://school.example/checkout/done", default=None)


class CaptureIn(Input, json_schema_extra=examples.CAPTURE):
    gateway_fee: Amount = _about(f"the fee the gateway kept: {_MINOR_UNITS}", 175, default=0)
    gateway_payment_id: Code | None = _about(
        "the gateway's own id of this payment: one line of 1 to 200 characters",
        "pi_3P9xYz2eZvKYlo2C", default=None)
    reason: Text | None = _about(None, "paid at the desk", default=None)


class ReasonIn(Input, json_schema_extra=examples.REASON):
    reason: Text | None = _about(None, "card declined", default=None)


class CreateRefundIn(Input, json_schema_extra=examples.CREATE_REFUND):
    payment_id: ObjectId = _about(None, "pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB")
    amount: PositiveAmount | None = _about(
        f"{_MINOR_UNITS}, above zero; leave it out to refund all that is refundable", 1500,
        default=None)
    reason: Reason
    approve: StrictBool = _about("admins only: true to approve and carry out at once", False,
                                 default=False)


class RejectRefundIn(Input, json_schema_extra=examples.REJECT_REFUND):
    reason: Reason = _about(None, "the refund window has passed")


class OpenDisputeIn(Input, json_schema_extra=examples.OPEN_DISPUTE):
    payment_id: ObjectId = _about(None, "pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB")
    amount: PositiveAmount = _about(
        f"what the customer disputes, held at once: {_MINOR_UNITS}, above zero, at most "
        "what is neither refunded nor disputed", 4859)
    reason: Reason = _about(None, "the cardholder says the course was never delivered")
    reason_code: DisputeReasonName = _about(
        "the card network's reason: " + ", ".join(DisputeReason), "product_not_received",
        default=str(DisputeReason.GENERAL))
    due_by: AwareDateTime | None = _about(
        "the gateway's deadline for evidence: an ISO-8601 date-time with a UTC offset",
        _AWARE_EXAMPLE, default=None)
    gateway_dispute_id: Code | None = _about(
        "the gateway's own id of this dispute: one line of 1 to 200 characters, recorded "
        "once per gateway", "du_1QxKp2eZvKYlo2C", default=None)
    fee: Amount = _about(
        f"the gateway's dispute fee, borne by the platform whatever the outcome: "
        f"{_MINOR_UNITS}", 1500, default=0)


Reference = Annotated[_text(500, min_length=1, line=True), Field(
    description="a file id or URL: one line of 1 to 500 characters",
    examples=["file_1QxReceipt"])]


class EvidenceIn(Input, json_schema_extra=examples.EVIDENCE):
    text: Annotated[_text(5000, min_length=1), Field(
        description=f"what shows the charge was right, in 1 to 5000 characters; {_TEXT_RULE}",
        examples=["Course accessed 14 times from the customer's account; logs attached."])]
    references: Annotated[list[Reference], Field(max_length=20)] = Field(
        default_factory=list, description="up to 20 file ids or URLs backing the text",
        examples=[["file_1QxReceipt"]])


class DisputeDecisionIn(Input, json_schema_extra=examples.DISPUTE_DECISION):
    reason: Text | None = _about(None, "the issuer accepted the delivery logs", default=None)


class SellerIn(Input, json_schema_extra=examples.SELLER):
    name: Name | None = _about(None, "Grace Hopper", default=None)
    email: Email | None = _about(None, "grace@example.com", default=None)
    commission_rate: Rate | None = _about(
        f"the seller's own rate, in place of the platform's: {RATE_EXPECTED}", "0.15",
        default=None)
    clear_commission_rate: StrictBool = _about("true to go back to the platform's rate",
                                               False, default=False)
    hold_days: Annotated[StrictInt, Field(ge=0, le=3650)] | None = _about(
        "days the seller's earnings stay pending after a capture before they become "
        "available, in place of the platform's hold (`PAYTRACK_HOLD_DAYS`): 0 to 3650", 14,
        default=None)
    clear_hold_days: StrictBool = _about("true to go back to the platform's hold period",
                                         False, default=False)
    metadata: Metadata | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> SellerIn:
        if self.clear_commission_rate and self.commission_rate is not None:
            raise PydanticCustomError(
                "conflicting_fields", "send commission_rate to set the seller's own rate, or "
                "clear_commission_rate: true to go back to the platform's: not both")
        if self.clear_hold_days and self.hold_days is not None:
            raise PydanticCustomError(
                "conflicting_fields", "send hold_days to set the seller's own hold period, "
                "or clear_hold_days: true to go back to the platform's: not both")
        return self


class CustomerIn(Input, json_schema_extra=examples.CUSTOMER):
    name: Name | None = _about(None, "Ada Lovelace", default=None)
    email: Email | None = _about(None, "ada@example.com", default=None)
    metadata: Metadata | None = None


class CreatePayoutIn(Input, json_schema_extra=examples.CREATE_PAYOUT):
    seller_id: ExternalId | None = _about(
        f"the seller to pay (admins; a seller key pays itself): {ID_EXPECTED}", "inst_ada",
        default=None)
    amount: PositiveAmount = _about(
        f"{_MINOR_UNITS}, at least the payout minimum (10.00 in the currency unless "
        "configured otherwise) and at most the seller's available balance", 2500)
    currency: Currency
    method: PayoutMethodName = _about(
        "how the seller is paid: " + ", ".join(PayoutMethod) + " (the seller's payout "
        "account for it is used)", "bank_transfer")


class PayPayoutIn(Input, json_schema_extra=examples.PAY_PAYOUT):
    reference: Code = _about("the provider's reference of the transfer: one line of 1 to 200 "
                             "characters", "tr_1PqA2bL5x0Yz9KQ1")


class FailPayoutIn(Input, json_schema_extra=examples.FAIL_PAYOUT):
    reason: Reason = _about(None, "the bank returned the transfer: account closed")


# Payout account details are secret: their types check only length and characters, and no
# refusal quotes a value (domain/payouts.py checks what each one must be).
def _secret(max_length: int, description: str, example: str) -> Any:
    return Annotated[_text(max_length, min_length=1, line=True) | None,
                     Field(description=description, examples=[example])]


class PayoutAccountIn(Input, json_schema_extra=examples.PAYOUT_ACCOUNT):
    method: PayoutMethodName = _about("which account: " + ", ".join(PayoutMethod) +
                                      "; each takes its own details", "bank_transfer")
    account_holder: _secret(200, "bank_transfer: the account holder's name",
                            "Ada Lovelace") = None
    iban: _secret(42, "bank_transfer: an IBAN (spaces allowed); or account_number with "
                      "routing_number or sort_code", "DE89 3704 0044 0532 0130 00") = None
    account_number: _secret(20, "bank_transfer without an IBAN: the account number",
                            "000123456789") = None
    routing_number: _secret(9, "bank_transfer with account_number (US): the 9-digit ABA "
                               "routing number", "011000015") = None
    sort_code: _secret(8, "bank_transfer with account_number (UK): the 6-digit sort code",
                       "12-34-56") = None
    bank_name: _secret(200, "bank_transfer: the bank's name (optional)",
                       "Deutsche Bank") = None
    email: _secret(254, "paypal: the PayPal account's email address",
                   "ada@example.com") = None
    account_id: _secret(69, "stripe_connect: the connected account's id, `acct_…`",
                        "acct_1Nv0FGQ9RKHgCVdK") = None


CouponCode = Annotated[str, StringConstraints(pattern=coupons.CODE_PATTERN),
                       Field(description=coupons.CODE_EXPECTED, examples=["SPRING25"])]
PercentOff = Annotated[str, StringConstraints(pattern=coupons.PERCENT_PATTERN,
                                              max_length=coupons.PERCENT_MAX_LENGTH),
                       Field(description=coupons.PERCENT_EXPECTED, examples=["0.15"])]
UsageLimit = Annotated[int, Field(strict=True, ge=1, le=coupons.MAX_REDEMPTIONS, examples=[100],
                                  description="a count from 1 to "
                                              f"{coupons.MAX_REDEMPTIONS:,}")]
Targets = Annotated[list[ExternalId], Field(max_length=coupons.MAX_TARGETS)]

if TYPE_CHECKING:
    CouponKindName: TypeAlias = str
    FundedByName: TypeAlias = str
else:
    CouponKindName = Literal[tuple(k.value for k in coupons.CouponKind)]
    FundedByName = Literal[tuple(f.value for f in coupons.FundedBy)]


class CreateCouponIn(Input, json_schema_extra=examples.CREATE_COUPON):
    code: CouponCode
    kind: CouponKindName = _about("`percent` (takes `percent_off`, optionally `max_discount`) "
                                  "or `fixed` (takes `amount_off` and `currency`)", "percent")
    percent_off: PercentOff | None = _about(None, "0.15", default=None)
    amount_off: PositiveAmount | None = _about(
        f"a fixed coupon's discount: {_MINOR_UNITS}, above zero", 500, default=None)
    currency: Currency | None = _about(
        "the currency of the coupon's amounts: required for a fixed coupon and with "
        "`min_order_amount` or `max_discount`; the coupon then applies to payments in it "
        "only (a percent coupon without one applies in any currency)", "USD", default=None)
    max_discount: PositiveAmount | None = _about(
        f"a percent coupon's cap: {_MINOR_UNITS}, above zero", 2000, default=None)
    min_order_amount: PositiveAmount | None = _about(
        f"the smallest subtotal it applies to: {_MINOR_UNITS}, above zero", 2000,
        default=None)
    max_redemptions: UsageLimit | None = _about(
        "how many payments may use it in all (reserved or redeemed)", 500, default=None)
    max_redemptions_per_customer: UsageLimit | None = _about(
        "how many payments one customer may use it for", 1, default=None)
    item_ids: Targets = _about("only for these items (none: any item)", ["course_python"],
                               default=[])
    seller_ids: Targets = _about("only for these sellers' items (none: any seller); a seller "
                                 "sees the coupons that name it", ["inst_ada"], default=[])
    starts_at: AwareDateTime | None = _about("valid from", "2027-03-01T00:00:00Z", default=None)
    expires_at: AwareDateTime | None = _about("valid until (not at)", "2027-06-01T00:00:00Z",
                                              default=None)
    funded_by: FundedByName = _about(
        "who bears the discount: `platform` (the seller is paid as if undiscounted) or "
        "`seller` (the split is computed on the discounted total)", "platform",
        default="platform")
    active: StrictBool = _about("false to create it deactivated", True, default=True)
    description: Text | None = _about(None, "Spring sale", default=None)


class ValidateCouponIn(Input, json_schema_extra=examples.VALIDATE_COUPON):
    code: Annotated[_text(64, min_length=1, line=True), Field(
        description="a coupon code: one line of 1 to 64 characters")] = _about(
        None, "SPRING25")
    customer_id: ExternalId = _about(None, "stu_42")
    seller_id: ExternalId = _about(None, "inst_ada")
    item_id: ExternalId = _about(None, "course_python")
    currency: Currency
    subtotal: PositiveAmount


class DeactivateCouponIn(Input, json_schema_extra=examples.DEACTIVATE_COUPON):
    reason: Text | None = _about(None, "the spring sale is over", default=None)


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
    subscription_id: str | None = Field(description="The subscription whose first period, "
                                                    "renewal or upgrade it pays, if any")
    coupon_code: str | None
    coupon_id: str | None = Field(description="The coupon that gave the discount, if one did")
    discount_funded_by: str | None = Field(
        description="With a coupon: who bears its discount, `platform` (the seller is paid "
                    "as if undiscounted) or `seller` (the split is on the discounted total)")
    commission_rate: str
    commission_base: str
    platform_fee: int
    seller_amount: int
    tax_collected: int
    shipping_collected: int
    gateway_fee: int
    refunded_amount: int
    refund_reserved_amount: int = Field(description="Held by open refund requests "
                                                    "(requested or approved) until decided")
    disputed_amount: int = Field(description="Held by open disputes and taken by lost ones")
    refundable_amount: int = Field(description="What a new refund may still ask for: "
                                               "total - refunded - reserved - disputed; 0 "
                                               "while the payment cannot be refunded "
                                               "(not captured, disputed, charged back)")
    platform_discount: int = Field(description="The part of `discount` the platform funds: "
                                               "the split is computed as if undiscounted "
                                               "by it (debited to `platform:discounts`)")
    gateway_payment_id: str | None = Field(
        description="The provider's payment: a Stripe PaymentIntent, a Razorpay payment, a "
                    "PayPal capture")
    gateway_order_id: str | None = Field(
        description="The provider's checkout: a Stripe Checkout Session, a Razorpay or "
                    "PayPal order")
    payment_url: str | None = Field(description="Where the customer pays (a gateway's "
                                                "checkout), until `payment_url_expires_at`")
    payment_url_expires_at: datetime | None = Field(
        description="When the checkout expires: an unpaid payment is then canceled")
    description: str | None
    metadata: dict[str, Any]
    billing_details: dict[str, Any] | None
    ip_address: str | None
    failure_reason: str | None
    reconciled: bool = Field(description="Checked against the gateway's settlement report: "
                                         "by an admin, or by an import whose line matched it")
    reconciled_at: datetime | None = Field(description="When it was marked reconciled")
    reconciled_by: str | None = Field(description="Who marked it reconciled (an admin's key, "
                                                  "`role:id`)")
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
    cancellation_reason: str | None
    seller_part: int | None
    platform_part: int | None
    tax_part: int | None
    shipping_part: int | None
    discount_part: int | None = Field(description="What returned to `platform:discounts`: "
                                                  "a platform-funded discount, refunded in "
                                                  "proportion (the parts sum to `amount` "
                                                  "plus it)")
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    rejected_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    canceled_at: datetime | None
    decision_rule: str | None = Field(
        description="The refund rule that made its latest decision: `manual_review` while "
                    "it waits for an admin, `customer_small_recent`, `seller_own_sale`, "
                    "`admin`, `admin_one_step`. Null to a seller or customer on a request it "
                    "did not make")
    decision_detail: str | None = Field(description="Why the rule decided so (admins only)")
    gateway_refund_id: str | None = Field(description="The provider's refund, once sent")
    next_submit_at: datetime | None = Field(
        description="When it is (next) sent to the gateway; null once sent or when no "
                    "gateway carries it out")
    submitted_at: datetime | None = Field(description="When the gateway accepted it")
    submit_attempts: int = Field(description="How often it was sent to the gateway")
    last_error: str | None = Field(description="The gateway's last refusal or error")


class PayoutOut(FullView):
    id: str
    seller_id: str
    currency: str
    amount: int
    method: str
    destination: str = Field(description="The payout account it goes to, masked: its last "
                                         "four characters")
    status: str
    requested_by: str
    decided_by: str | None
    reference: str | None = Field(description="The provider's reference, once paid")
    failure_reason: str | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    paid_at: datetime | None
    failed_at: datetime | None
    canceled_at: datetime | None
    gateway: str | None = Field(description="The gateway that pays it out (`stripe` for "
                                            "`stripe_connect`), if one does")
    gateway_payout_id: str | None = Field(description="The provider's transfer or payout")
    next_submit_at: datetime | None = Field(
        description="When it is (next) sent to the gateway (admins only)")
    submitted_at: datetime | None = Field(description="When the gateway accepted it")
    submit_attempts: int = Field(description="How often it was sent to the gateway")
    last_error: str | None = Field(description="The gateway's last refusal or error")


class PayoutAccountOut(FullView):
    seller_id: str
    method: str
    last4: str = Field(description="The last four characters of the IBAN, account number, "
                                   "email or account id: all that is ever shown")
    masked: str = Field(description="`****` and the last four characters")
    created_at: datetime
    updated_at: datetime


class EvidenceOut(BaseModel):
    text: str
    references: list[str]
    submitted_by: str = Field(description="The role that submitted it: `admin` or `seller`")
    submitted_at: datetime


class DisputeOut(FullView):
    id: str
    payment_id: str
    seller_id: str
    customer_id: str
    currency: str
    gateway: str
    gateway_dispute_id: str | None
    amount: int = Field(description="Held from the payment while open, in minor units")
    fee: int = Field(description="The gateway's dispute fee: the platform's, whatever the "
                                 "outcome")
    reason: str
    reason_code: str
    status: str = Field(description="open, under_review, won or lost")
    due_by: datetime | None
    evidence: list[EvidenceOut]
    seller_part: int = Field(description="Of `amount`, taken from the seller (held earning, "
                                         "then available, then debt)")
    platform_part: int
    tax_part: int
    shipping_part: int
    discount_part: int = Field(description="A platform-funded discount that returns to "
                                           "`platform:discounts` if lost (the parts sum to "
                                           "`amount` plus it)")
    payment_status_before: str = Field(description="Where a won dispute returns the payment")
    decision_reason: str | None
    created_at: datetime
    updated_at: datetime
    opened_at: datetime
    under_review_at: datetime | None
    won_at: datetime | None
    lost_at: datetime | None


class CouponOut(FullView):
    id: str
    code: str
    kind: str
    percent_off: str | None
    amount_off: int | None
    currency: str | None
    max_discount: int | None
    min_order_amount: int | None
    max_redemptions: int | None
    max_redemptions_per_customer: int | None
    redemptions_held: int = Field(description="Payments holding a place against "
                                              "`max_redemptions` (counted only with a limit)")
    item_ids: list[str]
    seller_ids: list[str]
    starts_at: datetime | None
    expires_at: datetime | None
    funded_by: str
    active: bool
    description: str | None
    deactivated_at: datetime | None
    deactivation_reason: str | None
    created_at: datetime
    updated_at: datetime


class CouponCheckOut(BaseModel):
    code: str
    valid: bool
    discount: int = Field(description="What the coupon takes off the subtotal, in minor "
                                      "units (0 when it does not apply)")
    currency: str
    reason: str | None = Field(description="Why it does not apply: " + ", ".join(
        r.value for r in coupons.Reason))
    detail: str | None = Field(description="The reason in words")


class CouponCurrencyUsageOut(BaseModel):
    currency: str
    redemptions: int = Field(description="Payments redeemed: succeeded, not fully refunded")
    reserved: int = Field(description="Payments not yet paid holding a place")
    discount_given: int
    revenue: int = Field(description="The redeemed payments' totals")
    refunded: int = Field(description="What was refunded of them")


class CouponUsageOut(BaseModel):
    coupon_id: str
    code: str
    redemptions: int
    reserved: int
    currencies: list[CouponCurrencyUsageOut]


class SellerOut(Output):
    id: str
    name: str | None
    email: str | None
    commission_rate: str | None
    hold_days: int | None = Field(description="The seller's own hold period in days; null: "
                                              "the platform's")
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
    pending: int = Field(description="Earned, still in its hold period")
    available: int = Field(description="Released: may be paid out")
    in_transit: int = Field(description="Requested or approved payouts not yet paid")
    paid_out: int = Field(description="Paid payouts, all time")
    debt: int = Field(description="Owed by the seller (a refund or lost dispute its "
                                  "available balance could not cover), recovered from its "
                                  "next releases")


class SellerBalanceOut(BaseModel):
    seller_id: str
    balances: list[BalanceRow]


class EarningOut(BaseModel):
    payment_id: str
    currency: str
    gross: int = Field(description="The payment's total")
    commission: int = Field(description="The platform's fee on it")
    net: int = Field(description="Credited to the seller's pending balance at capture")
    refunded: int = Field(description="The seller's part of refunds and lost disputes")
    pending: int = Field(description="Still held until `available_on`")
    captured_at: datetime
    released: int = Field(description="Released from the hold: to available, after "
                                      "recovering any debt the seller had from it")
    available_on: datetime = Field(description="When its hold ends: the capture plus the "
                                                "seller's hold days (its own, or the "
                                                "platform's, as they are now)")
    released_at: datetime | None
    status: Literal["pending", "released"]


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
    held_differences: list[dict[str, Any]] = Field(
        description="Sellers whose pending balance is not what their held earnings add up to")
    revenue_checked: bool = Field(
        description="Whether the analytics rollups were checked (false while they await "
                    "their first build over existing history)")
    revenue_differences: list[dict[str, Any]] = Field(
        description="Per rollup, currency and measure (and `period`, a local day or month, "
                    "where the totals agree but a day does not; `group`, a seller, item, "
                    "method and gateway, or coupon, where one of those does not), where "
                    "the rollup plus the "
                    "deltas not yet folded differ from the figure recomputed from postings "
                    "and payments")


T = TypeVar("T")
Row = TypeVar("Row", bound=Mapping[str, Any])


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


def page(rows: Sequence[Row], limit: int, shape: Callable[[Row], Any],
         cursor_key: str = "id") -> dict[str, Any]:
    """Shape ``limit + 1`` fetched rows into a page, each row with ``shape``."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {"data": [shape(r) for r in rows], "has_more": has_more,
            "next_cursor": str(rows[-1][cursor_key]) if has_more and rows else None}


class EarningPage(Page[EarningOut]):
    pass
# -- refund rules (domain/refund_rules.py) ---------------------------------------------

Days = Annotated[int, Field(strict=True, ge=0, le=3650, examples=[14],
                            description="a whole number of days, 0 to 3650")]


class RefundPolicyIn(Input, json_schema_extra=examples.REFUND_POLICY):
    """The whole policy: a field left out is off."""

    auto_approve_max_amount: Annotated[dict[Currency, PositiveAmount], Field(
        max_length=200, examples=[{"USD": 2000}],
        description="per currency, the largest customer request approved at once, in minor "
                    "units; a currency not listed is never approved automatically")] = Field(
        default_factory=dict)
    auto_approve_within_days: Days | None = _about(
        "approve a customer's request automatically only this many days after the capture "
        "at most", 14, default=None)
    auto_approve_max_refund_rate: Rate | None = _about(
        "approve a customer's request automatically only while its past refund rate is at "
        f"most this: {RATE_EXPECTED}", "0.10", default=None)
    customer_refund_window_days: Days | None = _about(
        "refuse (409 `refund_window_closed`) a customer's request made more than this many "
        "days after the capture", 30, default=None)
    seller_requests_auto_approve: StrictBool = _about(
        "approve a seller's request on its own sale at once", True, default=False)


class RefundPolicyOut(BaseModel):
    auto_approve_max_amount: dict[str, int]
    auto_approve_within_days: int | None
    auto_approve_max_refund_rate: str | None
    customer_refund_window_days: int | None
    seller_requests_auto_approve: bool
    source: Literal["configuration", "admin"] = Field(
        description="`configuration` (the `PAYTRACK_REFUND_*` settings) until an admin sets "
                    "a policy here")
    version: int = Field(description="How many times it was changed through the API")
    updated_by: str | None
    updated_at: datetime | None


class PayoutAccountPage(Page[PayoutAccountOut]):
    pass


# -- gateways and webhooks ---------------------------------------------------------------

SecretValue = Annotated[str, StringConstraints(min_length=1, max_length=4096,
                                               pattern=r"^[\x21-\x7e]+$"),
                        Field(description="a credential: 1 to 4096 printable characters "
                                          "without spaces")]


class GatewayConfigIn(Input, json_schema_extra={"examples": [{
        "credentials": {"secret_key": "sk_test_51HxKyoto0403", "webhook_secret":
                        "whsec_3fA9bC8dE7fG6hI5"},
        "active": True}]}):
    credentials: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")],
                      SecretValue | None] = Field(
        description="stripe: `secret_key`, `webhook_secret`; razorpay: `key_id`, "
                    "`key_secret`, `webhook_secret`; paypal: `client_id`, `client_secret`, "
                    "`webhook_id`, `verification` (`local` or `online`); simulator: "
                    "`webhook_secret` (made for you). A field left out keeps its stored "
                    "value; null removes it", max_length=10)
    active: StrictBool = _about("new checkouts use this mode (the gateway's other mode "
                                "stays for webhooks still arriving)", True, default=True)


class GatewayConfigOut(BaseModel):
    gateway: str
    mode: str
    active: bool
    configured: list[str] = Field(description="which credentials are set (never their values)")
    hints: dict[str, str] = Field(description="each secret's last four characters, to tell "
                                              "two apart")
    webhook_url: str = Field(description="where to point the gateway's webhooks")
    updated_by: str
    created_at: datetime
    updated_at: datetime


class WebhookReceipt(BaseModel):
    id: str = Field(description="the stored delivery")
    status: str = Field(description="`processed`, `ignored` (a type paytrack does not act on) "
                                    "or `failed`")
    event_id: str | None
    duplicate: bool = Field(description="an event already processed: nothing was done again")


class WebhookDeliveryOut(BaseModel):
    id: str
    gateway: str
    mode: str | None
    event_id: str | None
    event_type: str | None
    status: str = Field(description="`processed`, `ignored`, `failed` (retried by the gateway, "
                                    "or replay it) or `rejected` (not signed by the gateway)")
    signature_valid: bool
    body: str = Field(description="the raw body as received")
    headers: dict[str, str] = Field(description="as received, without credentials")
    events: list[dict[str, Any]] = Field(description="what the body said, in paytrack's terms")
    result: list[dict[str, Any]] = Field(description="what each event did")
    error: str | None
    needs_review: bool = Field(description="something a person should look at: a payment "
                                           "confirmed after it was canceled, an amount that "
                                           "differs, a refund paytrack could not record")
    payment_id: str | None
    times_received: int = Field(description="how often the gateway delivered it")
    attempts: int = Field(description="how often it was processed")
    received_at: datetime
    last_received_at: datetime
    processed_at: datetime | None


class WebhookDeliveryPage(Page[WebhookDeliveryOut]):
    pass


_SIGNATURE = "9ef4dffbfd84f1318f6739a3ce19f9d85851857ae648f114332d8401e0949a3d"


class RazorpayVerifyIn(Input, json_schema_extra={"examples": [{
        "razorpay_order_id": "order_NcWcDMZ2PZT5nD",
        "razorpay_payment_id": "pay_NcWcZ4wDjJRTNm", "razorpay_signature": _SIGNATURE}]}):
    razorpay_order_id: Code = _about("the order Razorpay Checkout paid",
                                     "order_NcWcDMZ2PZT5nD")
    razorpay_payment_id: Code = _about("Razorpay's payment", "pay_NcWcZ4wDjJRTNm")
    razorpay_signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")] = \
        _about("hex HMAC-SHA256 of `order_id|payment_id` with the key secret",
               _SIGNATURE)
