"""The Stripe gateway: Checkout Sessions, PaymentIntents, refunds, Connect transfers for
payouts, and webhooks, through the official ``stripe`` SDK.

Every request goes through the SDK's httpx transport with a timeout and no automatic retry:
paytrack retries on its own schedule, with the same idempotency key (the payment, refund or
payout id), so a retried request is never carried out twice. Amounts cross in Stripe's units
(``stripe_units``); webhooks are read by ``stripe_events``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import stripe

from paytrack.adapters.gateways.base import (
    CheckoutRequest,
    GatewaySettings,
    PayoutRequest,
    RefundRequest,
)
from paytrack.adapters.gateways.stripe_events import (
    PAYMENT_KEY,
    PAYOUT_KEY,
    REFUND_KEY,
    intent_state,
    notification,
)
from paytrack.adapters.gateways.stripe_units import to_stripe_amount
from paytrack.domain.errors import (
    GatewayError,
    GatewayNotConfigured,
    GatewayUnsupported,
    ValidationFailed,
    WebhookSignatureInvalid,
)
from paytrack.domain.gateways import (
    Checkout,
    Mode,
    Notification,
    Outcome,
    PaymentState,
    PayoutResult,
    RefundResult,
    RemoteStatus,
)

if TYPE_CHECKING:
    from stripe.params import RefundCreateParams, TransferCreateParams
    from stripe.params.checkout import SessionCreateParams

TIMEOUT = httpx.Timeout(30.0, connect=5.0)  # every request to Stripe
MAX_NETWORK_RETRIES = 0
WEBHOOK_TOLERANCE_S = 300
# Stripe takes a Checkout Session's expiry 30 minutes to 24 hours after its creation, by its
# own clock: a minute's margin on each side for the request's travel and clock skew.
CHECKOUT_EXPIRY_MIN = timedelta(minutes=31)
CHECKOUT_EXPIRY_MAX = timedelta(hours=24) - timedelta(minutes=1)


class StripeGateway:
    name = "stripe"

    def __init__(self, settings: GatewaySettings, *, http: httpx.Client | None = None,
                 clock: Callable[[], datetime]) -> None:
        self._settings, self._http, self._clock = settings, http, clock
        self._sdk: stripe.StripeClient | None = None
        self._transport: _Transport | None = None

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        now = self._clock()
        expires_at = min(max(request.expires_at, now + CHECKOUT_EXPIRY_MIN),
                         now + CHECKOUT_EXPIRY_MAX)
        metadata = {**request.metadata, PAYMENT_KEY: request.payment_id}
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": request.currency.lower(),
                "unit_amount": to_stripe_amount(request.amount, request.currency),
                "product_data": {"name": request.description or f"Payment {request.payment_id}"},
            }}],
            "expires_at": math.floor(expires_at.timestamp()),
            "success_url": request.return_url,
            "cancel_url": request.return_url,
            "client_reference_id": request.payment_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        with _answer("create a Checkout Session"):
            session = self._api().v1.checkout.sessions.create(
                params, {"idempotency_key": request.payment_id}).to_dict()
        url, session_id = session.get("url"), session.get("id")
        if not isinstance(url, str) or not isinstance(session_id, str):
            raise GatewayError("Stripe returned a Checkout Session without an id or URL",
                               retryable=False)
        expiry = session.get("expires_at")
        intent = session.get("payment_intent")
        return Checkout(
            payment_url=url,
            expires_at=datetime.fromtimestamp(
                expiry if isinstance(expiry, int) else math.floor(expires_at.timestamp()), UTC),
            gateway_order_id=session_id,
            gateway_payment_id=intent if isinstance(intent, str) else None)

    def fetch_status(self, gateway_payment_id: str | None,
                     gateway_order_id: str | None) -> PaymentState:
        expand = ["latest_charge.balance_transaction"]
        with _answer("read a payment"):
            if gateway_payment_id:
                return intent_state(self._api().v1.payment_intents.retrieve(
                    gateway_payment_id, {"expand": expand}).to_dict())
            session = self._session(gateway_order_id, ["payment_intent." + expand[0]])
            intent = session.get("payment_intent")
            # Stripe creates the PaymentIntent only when the customer tries to pay.
            state = (intent_state(intent) if isinstance(intent, Mapping)
                     else PaymentState(RemoteStatus.PENDING))
        if session.get("status") == "expired" and state.status is RemoteStatus.PENDING:
            return PaymentState(RemoteStatus.CANCELED, gateway_payment_id=state.gateway_payment_id,
                                reason="checkout expired")
        return state

    def capture(self, gateway_payment_id: str | None, gateway_order_id: str | None,
                amount: int, currency: str) -> PaymentState:
        stripe_amount = to_stripe_amount(amount, currency)
        with _answer("capture a payment"):
            intent_id = gateway_payment_id or self._intent_of(gateway_order_id)
            return intent_state(self._api().v1.payment_intents.capture(
                intent_id,
                {"amount_to_capture": stripe_amount,
                 "expand": ["latest_charge.balance_transaction"]},
                {"idempotency_key": f"{intent_id}-capture"}).to_dict())

    def refund(self, request: RefundRequest) -> RefundResult:
        params: RefundCreateParams = {
            "amount": to_stripe_amount(request.amount, request.currency),
            "metadata": {REFUND_KEY: request.refund_id, PAYMENT_KEY: request.payment_id},
        }
        with _answer("refund a payment"):
            params["payment_intent"] = (request.gateway_payment_id
                                        or self._intent_of(request.gateway_order_id))
            refund = self._api().v1.refunds.create(
                params, {"idempotency_key": request.refund_id}).to_dict()
        status, refund_id = refund.get("status"), refund.get("id")
        if status == "succeeded":
            return RefundResult(Outcome.SUCCEEDED, gateway_refund_id=refund_id)
        if status in ("failed", "canceled"):
            return RefundResult(Outcome.FAILED, gateway_refund_id=refund_id,
                                reason=refund.get("failure_reason") or status)
        return RefundResult(Outcome.PENDING, gateway_refund_id=refund_id)

    def payout(self, request: PayoutRequest) -> PayoutResult:
        if request.method != "stripe_connect":
            raise GatewayUnsupported(f"Stripe pays out through Connect transfers only, not "
                                     f"{request.method}")
        account = request.destination.get("account_id")
        if not isinstance(account, str) or not account.startswith("acct_"):
            raise GatewayError("A Stripe Connect payout needs the seller's connected account id "
                               "(destination account_id, acct_…)", retryable=False)
        params: TransferCreateParams = {
            "amount": to_stripe_amount(request.amount, request.currency, payout=True),
            "currency": request.currency.lower(),
            "destination": account,
            "metadata": {PAYOUT_KEY: request.payout_id, "paytrack_seller_id": request.seller_id},
        }
        with _answer("transfer a payout"):
            transfer = self._api().v1.transfers.create(
                params, {"idempotency_key": request.payout_id}).to_dict()
        return PayoutResult(Outcome.SUCCEEDED, gateway_payout_id=transfer.get("id"))

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        secret = self._settings.webhook_secret
        if not secret:
            raise GatewayNotConfigured("Stripe needs a webhook signing secret (whsec_…)")
        signature = next((value for name, value in headers.items()
                          if name.lower() == "stripe-signature"), None)
        try:
            stripe.Webhook.construct_event(body, signature, secret,
                                           tolerance=WEBHOOK_TOLERANCE_S)
            event = json.loads(body)
        except stripe.SignatureVerificationError as exc:
            raise WebhookSignatureInvalid(f"Stripe signature refused: {exc.user_message}") from None
        except Exception:  # not UTF-8, not JSON, not an event: whatever the SDK raises
            raise WebhookSignatureInvalid("The body is not a Stripe event") from None
        data = event.get("data") if isinstance(event, dict) else None
        obj = data.get("object") if isinstance(data, dict) else None
        if not (isinstance(obj, dict) and isinstance(event.get("id"), str)
                and isinstance(event.get("type"), str)):
            raise WebhookSignatureInvalid("The body is not a Stripe event")
        return notification(event, obj)

    def close(self) -> None:
        """Close the connections the SDK opened (a client passed in stays its owner's)."""
        if self._transport is not None and self._http is None:
            self._transport.close()

    def _api(self) -> stripe.StripeClient:
        if self._sdk is None:
            key = self._settings.credentials.get("secret_key")
            if not key:
                raise GatewayNotConfigured("Stripe needs a secret key (sk_…)")
            live = key.startswith(("sk_live_", "rk_live_"))
            if live != (self._settings.mode is Mode.LIVE):
                raise GatewayNotConfigured(f"The Stripe key configured for {self._settings.mode} "
                                           f"mode is a {'live' if live else 'test'} key")
            self._transport = _Transport(self._http)
            self._sdk = stripe.StripeClient(key, http_client=self._transport,
                                            max_network_retries=MAX_NETWORK_RETRIES)
        return self._sdk

    def _session(self, session_id: str | None, expand: list[str]) -> dict[str, Any]:
        if not session_id:
            raise GatewayError("The payment has no Stripe PaymentIntent or Checkout Session",
                               retryable=False)
        return self._api().v1.checkout.sessions.retrieve(session_id, {"expand": expand}).to_dict()

    def _intent_of(self, session_id: str | None) -> str:
        intent = self._session(session_id, []).get("payment_intent")
        if not isinstance(intent, str):
            raise GatewayError(f"Stripe Checkout Session {session_id} has no payment yet",
                               retryable=False)
        return intent


class _Transport(stripe.HTTPXClient):
    """The SDK's httpx transport, with paytrack's timeout, on the given client if any."""

    def __init__(self, client: httpx.Client | None) -> None:
        super().__init__(timeout=TIMEOUT, allow_sync_methods=True)
        if client is not None:
            assert self._client is not None
            self._client.close()
            self._client = client


@contextmanager
def _answer(doing: str) -> Iterator[None]:
    """Stripe's exceptions as paytrack's: ``GatewayError`` says whether a retry (with the same
    idempotency key) may succeed."""
    try:
        yield
    except stripe.StripeError as exc:
        code = f" ({exc.code})" if exc.code else ""
        status = f"HTTP {exc.http_status}" if exc.http_status else "no answer"
        raise GatewayError(f"Stripe could not {doing}: {status}{code}: "
                           f"{exc.user_message or type(exc).__name__}",
                           retryable=_retryable(exc)) from exc
    except ValidationFailed as exc:  # an answer not shaped like Stripe's own
        raise GatewayError(f"Stripe's answer to {doing}: {exc.detail}", retryable=False) from exc


def _retryable(exc: stripe.StripeError) -> bool:
    """Unreachable, rate-limited, a conflict or Stripe's own failure; not a refusal."""
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    status = exc.http_status
    return isinstance(exc, stripe.APIError) and (status is None or status >= 500
                                                 or status == 409)
