"""The one interface every gateway adapter implements.

An adapter is built from its ``GatewaySettings`` (decrypted credentials for one mode) and
speaks to its provider through the provider's official SDK. It holds no business rule: it
sends what it is asked, in the provider's units, and translates answers and webhooks into
``paytrack.domain.gateways`` terms. It never logs a credential or a card detail.

Errors: ``WebhookSignatureInvalid`` for a webhook not signed with the configured secret (or
too old); ``GatewayError(detail, retryable=…)`` when the provider refuses or cannot be
reached; ``GatewayUnsupported`` for what the provider cannot do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from paytrack.domain.gateways import (
    Checkout,
    Mode,
    Notification,
    PaymentState,
    PayoutResult,
    RefundResult,
)


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """One gateway's configuration in one mode, decrypted.

    ``credentials`` by provider:
      simulator  (none needed)
      stripe     secret_key (``sk_test_…``)
      razorpay   key_id, key_secret
      paypal     client_id, client_secret, webhook_id; ``verification`` "local" (default)
                 or "online"
    ``webhook_secret``: stripe ``whsec_…``; razorpay the webhook secret; simulator a
    Standard Webhooks secret (``whsec_`` + base64); paypal none (it signs with a
    certificate)."""

    gateway: str
    mode: Mode
    credentials: Mapping[str, str] = field(default_factory=dict)
    webhook_secret: str | None = None
    # paytrack's own address as customers and providers reach it (PAYTRACK_PUBLIC_URL):
    # hosted pages and return URLs are built on it.
    public_url: str = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    payment_id: str
    amount: int  # the payment's total, ISO minor units
    currency: str
    description: str
    customer_id: str
    seller_id: str
    expires_at: datetime
    return_url: str  # where the provider sends the customer back
    metadata: Mapping[str, str] = field(default_factory=dict)  # echoed back in webhooks


@dataclass(frozen=True, slots=True)
class RefundRequest:
    refund_id: str  # also the idempotency key at the provider
    payment_id: str
    gateway_payment_id: str | None
    gateway_order_id: str | None
    amount: int
    currency: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    payout_id: str  # also the idempotency key at the provider
    seller_id: str
    amount: int
    currency: str
    method: str  # stripe_connect, paypal, bank_transfer
    destination: Mapping[str, Any]  # the payout account's decrypted details


class GatewayAdapter(Protocol):
    name: str

    def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def fetch_status(self, gateway_payment_id: str | None,
                     gateway_order_id: str | None) -> PaymentState: ...

    def capture(self, gateway_payment_id: str | None, gateway_order_id: str | None,
                amount: int, currency: str) -> PaymentState: ...

    def refund(self, request: RefundRequest) -> RefundResult: ...

    def payout(self, request: PayoutRequest) -> PayoutResult: ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify the signature over the raw ``body`` (headers by lower-case name) and
        translate; raises ``WebhookSignatureInvalid`` when it is not the provider's."""
        ...


# An adapter factory: settings, an httpx client for what the adapter fetches itself
# (PayPal's certificate, the simulator's deliveries), and the clock.
AdapterFactory = Callable[[GatewaySettings, httpx.Client | None, Callable[[], datetime]],
                          GatewayAdapter]
