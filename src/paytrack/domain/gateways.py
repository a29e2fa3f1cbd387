"""What every gateway's webhooks and answers are translated into, whatever the provider.

An adapter (``adapters/gateways/<provider>.py``) verifies a webhook and turns it into a
``Notification``: the provider's event id (the deduplication key), its own type, and the
``GatewayEvent``s paytrack acts on. Amounts are ISO 4217 minor units here, converted from the
provider's units in the adapter. Objects are named by the provider's ids and, where the
provider echoes the metadata paytrack sent, by paytrack's own ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict


class EventKind(StrEnum):
    # The customer approved, the money is not taken yet: paytrack captures it now (a PayPal
    # order after CHECKOUT.ORDER.APPROVED; a Stripe PaymentIntent with manual capture).
    PAYMENT_APPROVED = "payment.approved"
    PAYMENT_PROCESSING = "payment.processing"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELED = "payment.canceled"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_WON = "dispute.won"
    DISPUTE_LOST = "dispute.lost"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_FAILED = "payout.failed"


class Mode(StrEnum):
    TEST = "test"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """One thing that happened at the provider, in paytrack's terms."""

    kind: EventKind
    # The payment it concerns: any the provider gives. ``gateway_payment_id`` is the
    # provider's payment (Stripe PaymentIntent, Razorpay payment, PayPal capture);
    # ``gateway_order_id`` its checkout (Razorpay order, PayPal order, Stripe Checkout
    # Session); ``payment_id`` paytrack's own, echoed from the metadata it sent.
    gateway_payment_id: str | None = None
    gateway_order_id: str | None = None
    payment_id: str | None = None
    amount: int | None = None  # of the payment, refund, dispute or payout (minor units)
    currency: str | None = None  # ISO 4217, upper case
    fee: int | None = None  # the provider's fee on a capture or a dispute (minor units)
    gateway_refund_id: str | None = None
    refund_id: str | None = None  # paytrack's, from the refund's metadata
    gateway_dispute_id: str | None = None
    gateway_payout_id: str | None = None
    payout_id: str | None = None  # paytrack's, from the payout's metadata
    reason: str | None = None  # a failure or dispute reason, as the provider words it
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified webhook delivery: ``events`` is empty for a type paytrack does not act on
    (it is stored and marked ignored)."""

    event_id: str  # the provider's, unique per gateway: duplicates are processed once
    event_type: str  # the provider's own ("payment_intent.succeeded", "payment.captured")
    livemode: bool | None = None
    events: tuple[GatewayEvent, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Checkout:
    """Where the customer pays: ``payment_url`` until ``expires_at``."""

    payment_url: str
    expires_at: datetime
    gateway_payment_id: str | None = None  # known at once for a PaymentIntent
    gateway_order_id: str | None = None  # a Razorpay or PayPal order, a Checkout Session
    client_secret: str | None = None  # for the provider's own client-side checkout
    mode: str | None = None  # test or live: set by paytrack, not the adapter


class RemoteStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class PaymentState:
    """A payment as the provider sees it now (``fetch_status``, ``capture``)."""

    status: RemoteStatus
    gateway_payment_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    fee: int | None = None
    reason: str | None = None


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"  # done: a refund paid back, a payout paid
    PENDING = "pending"  # accepted; a webhook (or a later fetch) will tell
    FAILED = "failed"  # refused for good


@dataclass(frozen=True, slots=True)
class RefundResult:
    outcome: Outcome
    gateway_refund_id: str | None = None
    reason: str | None = None  # why it failed


@dataclass(frozen=True, slots=True)
class PayoutResult:
    outcome: Outcome
    gateway_payout_id: str | None = None  # a Stripe transfer, a PayPal payout batch
    reason: str | None = None


# -- records ---------------------------------------------------------------------------


class StoredGatewayConfig(TypedDict):
    """A gateway's configuration in one mode, as stored: the secrets in one Fernet token."""

    gateway: str
    mode: str
    active: bool
    credentials_encrypted: str
    hints: dict[str, str]  # masked tails of each secret, for people to tell them apart
    updated_by: str
    created_at: datetime
    updated_at: datetime


class WebhookStatus(StrEnum):
    PROCESSED = "processed"  # every event applied (or already applied: never regresses)
    IGNORED = "ignored"  # a type paytrack does not act on
    FAILED = "failed"  # processing raised: a retry or a replay runs it again
    REJECTED = "rejected"  # not signed by the gateway: nothing was done


class WebhookDelivery(TypedDict):
    id: str
    gateway: str
    mode: str | None
    event_id: str | None
    event_type: str | None
    status: str
    signature_valid: bool
    body: str
    headers: dict[str, str]
    events: list[dict[str, Any]]
    result: list[dict[str, Any]]
    error: str | None
    needs_review: bool
    payment_id: str | None
    times_received: int
    attempts: int
    received_at: datetime
    last_received_at: datetime
    processed_at: datetime | None


# What each gateway's configuration holds: (required, optional) credential names. The
# webhook secret is set apart (``webhook_secret``): PayPal has none (it signs with a
# certificate named in each delivery), the simulator makes its own.
CREDENTIALS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "simulator": (frozenset(), frozenset()),
    "stripe": (frozenset({"secret_key"}), frozenset()),
    "razorpay": (frozenset({"key_id", "key_secret"}), frozenset()),
    "paypal": (frozenset({"client_id", "client_secret", "webhook_id"}),
               frozenset({"verification"})),
}
NEEDS_WEBHOOK_SECRET = frozenset({"stripe", "razorpay"})
# What a payout method is paid through, where a provider can pay out.
PAYOUT_GATEWAYS = {"stripe_connect": "stripe", "paypal": "paypal"}
