"""Razorpay: orders for checkout, the checkout signature, captures, refunds and webhooks.

Built on the official ``razorpay`` SDK, which speaks through ``requests``: its session here
puts a timeout on every request and remembers the answer's HTTP status, which the SDK's
errors do not carry (4xx: refused for good; 408/409/429, 5xx, no answer: worth retrying).

Amounts are converted in ``razorpay_units``. A payment's ``fee`` (tax included) is in its
``base_currency`` (INR) when the payment is in another currency: it is reported only when
it is in the payment's own currency.

Razorpay orders have no hosted page: paytrack serves ``/checkout/razorpay/{payment_id}``,
which opens Razorpay Checkout on the order; Checkout's answer is checked with
``verify_checkout``. Payouts belong to RazorpayX, a separate product: not supported.

Webhooks are signed with a hex HMAC-SHA256 of the raw body (``X-Razorpay-Signature``) and
carry no signed timestamp. Razorpay retries a failed delivery for 24 hours after the
event's ``created_at``, so an event older than ``WEBHOOK_TOLERANCE`` (24 h and an hour's
margin) can only be a replay and is refused; Razorpay's manual re-sends of older events
(up to 15 days) are refused too. ``X-Razorpay-Event-Id`` is the deduplication key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import razorpay  # type: ignore[import-untyped]
import requests
from razorpay import errors as sdk_errors

from paytrack.adapters.gateways.base import (
    CheckoutRequest,
    GatewaySettings,
    PayoutRequest,
    RefundRequest,
)
from paytrack.adapters.gateways.razorpay_events import money, text, translate
from paytrack.adapters.gateways.razorpay_units import to_razorpay_amount
from paytrack.domain.errors import (
    GatewayError,
    GatewayNotConfigured,
    GatewayUnsupported,
    ValidationFailed,
    WebhookSignatureInvalid,
)
from paytrack.domain.gateways import (
    Checkout,
    Notification,
    Outcome,
    PaymentState,
    PayoutResult,
    RefundResult,
    RemoteStatus,
)

API_TIMEOUT_S = 20.0
WEBHOOK_TOLERANCE = timedelta(hours=25)
NOTES_MAX = 15  # Razorpay keeps at most 15 notes on an order or refund

_PAYMENT_STATUS = {
    "created": RemoteStatus.PENDING,
    "authorized": RemoteStatus.PROCESSING,  # approved, not captured yet
    "captured": RemoteStatus.SUCCEEDED,
    "refunded": RemoteStatus.SUCCEEDED,  # it was captured; refunds are tracked apart
    "failed": RemoteStatus.FAILED,
}
# Which of an order's payments tells its state: a capture beats an authorization, which
# beats an attempt in progress, which beats a failed attempt.
_PAYMENT_RANK = {"captured": 4, "refunded": 4, "authorized": 3, "created": 2, "failed": 1}
_REFUND_OUTCOME = {"processed": Outcome.SUCCEEDED, "failed": Outcome.FAILED}
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")


class _Session(requests.Session):
    """The SDK's session: every request has a timeout, and the status of the last answer
    (per thread) is kept for the error mapping."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s
        self._seen = threading.local()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        response = super().send(request, **kwargs)
        self._seen.status = response.status_code
        return response

    def forget_status(self) -> None:
        self._seen.status = None

    def last_status(self) -> int | None:
        return getattr(self._seen, "status", None)


class RazorpayGateway:
    name = "razorpay"

    def __init__(self, settings: GatewaySettings, *, http: httpx.Client | None = None,
                 clock: Callable[[], datetime], timeout_s: float = API_TIMEOUT_S,
                 webhook_tolerance: timedelta = WEBHOOK_TOLERANCE) -> None:
        # ``http`` is unused: the SDK brings its own ``requests`` session.
        self._settings = settings
        self._clock = clock
        self._timeout_s = timeout_s
        self._webhook_tolerance = webhook_tolerance
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The SDK's client (``razorpay.Client``), built on first use."""
        if self._client is None:
            auth = (self._credential("key_id"), self._credential("key_secret"))
            self._client = razorpay.Client(session=_Session(self._timeout_s), auth=auth)
        return self._client

    # -- checkout ------------------------------------------------------------------------

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        amount = to_razorpay_amount(request.amount, request.currency)
        notes = {**request.metadata, "paytrack_payment_id": request.payment_id}
        if len(notes) > NOTES_MAX:
            raise ValidationFailed(f"Razorpay keeps at most {NOTES_MAX} notes on an order: "
                                   f"send at most {NOTES_MAX - 1} metadata keys")
        order = self._call("the order", lambda: self.client.order.create({
            "amount": amount, "currency": request.currency, "receipt": request.payment_id,
            "notes": notes, "payment_capture": 1}))
        order_id = text(order, "id")
        if order_id is None:
            raise GatewayError("Razorpay answered the order without its id", retryable=True)
        return Checkout(
            payment_url=f"{self._settings.public_url.rstrip('/')}/checkout/razorpay/"
                        f"{request.payment_id}",
            expires_at=request.expires_at, gateway_order_id=order_id)

    def verify_checkout(self, order_id: str, payment_id: str, signature: str) -> bool:
        """Whether Checkout's ``razorpay_signature`` is the HMAC-SHA256 of
        ``order_id|payment_id`` with the key secret. The caller compares ``order_id`` with
        the order it stored. Anything malformed is ``False``."""
        secret = self._credential("key_secret")
        parts = (order_id, payment_id, signature)
        if not all(isinstance(part, str) and part for part in parts):
            return False
        if "|" in order_id or "|" in payment_id:  # the message would be ambiguous
            return False
        message = f"{order_id}|{payment_id}".encode("utf-8", "surrogatepass")
        return _same_hex(_hmac_hex(secret, message), signature)

    # -- payments and refunds -------------------------------------------------------------

    def fetch_status(self, gateway_payment_id: str | None,
                     gateway_order_id: str | None) -> PaymentState:
        if gateway_payment_id:
            payment_id = gateway_payment_id
            return _payment_state(self._call(
                "the payment lookup", lambda: self.client.payment.fetch(payment_id)))
        if gateway_order_id:
            payments = self._order_payments(gateway_order_id)
            if not payments:
                return PaymentState(status=RemoteStatus.PENDING)
            return _payment_state(max(payments, key=_payment_rank))
        raise GatewayError("no Razorpay payment or order id to look up", retryable=False)

    def capture(self, gateway_payment_id: str | None, gateway_order_id: str | None,
                amount: int, currency: str) -> PaymentState:
        amount_rzp = to_razorpay_amount(amount, currency)
        payment_id = gateway_payment_id or self._order_payment(gateway_order_id, {"authorized"})
        try:
            payment = self._call("the capture", lambda: self.client.payment.capture(
                payment_id, amount_rzp, {"currency": currency}))
        except GatewayError as refused:
            if refused.extra.get("retryable"):
                raise
            # Orders ask Razorpay to capture by itself, and it refuses a second capture.
            current = self.fetch_status(payment_id, None)
            if current.status is RemoteStatus.SUCCEEDED:
                return current
            raise
        return _payment_state(payment)

    def refund(self, request: RefundRequest) -> RefundResult:
        amount = to_razorpay_amount(request.amount, request.currency)
        payment_id = request.gateway_payment_id or self._order_payment(
            request.gateway_order_id, {"captured", "refunded"})
        notes = {"paytrack_refund_id": request.refund_id,
                 "paytrack_payment_id": request.payment_id}
        if request.reason:
            notes["reason"] = request.reason[:256]  # Razorpay's longest note
        body = {"amount": amount, "notes": notes, "receipt": request.refund_id}
        headers = {"X-Refund-Idempotency": _idempotency_key(request.refund_id)}
        answer = self._call("the refund", lambda: self.client.payment.refund(
            payment_id, body, headers=headers))
        outcome = _REFUND_OUTCOME.get(str(answer.get("status")), Outcome.PENDING)
        return RefundResult(outcome=outcome, gateway_refund_id=text(answer, "id"),
                            reason="Razorpay could not process the refund"
                            if outcome is Outcome.FAILED else None)

    def payout(self, request: PayoutRequest) -> PayoutResult:
        raise GatewayUnsupported(
            "Razorpay pays out only through RazorpayX, a separate product with its own "
            "account and API; pay this seller another way (bank transfer) and mark the "
            "payout paid")

    # -- webhooks ------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        secret = self._settings.webhook_secret
        if not secret:
            raise GatewayNotConfigured(
                f"Razorpay has no webhook secret configured ({self._settings.mode} mode)")
        named = {str(key).lower(): value for key, value in headers.items()}
        signature = named.get("x-razorpay-signature")
        if not isinstance(signature, str) or not signature.strip():
            raise WebhookSignatureInvalid("the X-Razorpay-Signature header is missing")
        if not _same_hex(_hmac_hex(secret, body), signature.strip()):
            raise WebhookSignatureInvalid("X-Razorpay-Signature is not the body's signature "
                                          "with the configured webhook secret")
        try:
            event = json.loads(body)
        except ValueError:  # also undecodable bytes
            raise WebhookSignatureInvalid("the signed body is not JSON") from None
        if (not isinstance(event, dict) or event.get("entity") != "event"
                or not isinstance(event.get("event"), str)):
            raise WebhookSignatureInvalid("the signed body is not a Razorpay event")
        occurred_at = _event_time(event.get("created_at"))
        now = self._clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        if now - occurred_at > self._webhook_tolerance:
            raise WebhookSignatureInvalid(
                f"the event was created at {occurred_at.isoformat()}, longer ago than "
                "Razorpay retries a delivery: a replay")
        event_id = named.get("x-razorpay-event-id")
        if not isinstance(event_id, str) or not event_id.strip():
            # Razorpay always sends one; without it a re-delivery still dedupes by body.
            event_id = "sha256:" + hashlib.sha256(body).hexdigest()
        return Notification(event_id=event_id.strip(), event_type=event["event"],
                            events=translate(event, occurred_at))

    # -- helpers -------------------------------------------------------------------------

    def _credential(self, name: str) -> str:
        value = self._settings.credentials.get(name)
        if not isinstance(value, str) or not value:
            raise GatewayNotConfigured(
                f"Razorpay has no {name} configured ({self._settings.mode} mode)")
        return value

    def _call(self, what: str, send: Callable[[], Any]) -> dict[str, Any]:
        session = self.client.session
        session.forget_status()
        try:
            answer = send()
        except (sdk_errors.BadRequestError, sdk_errors.GatewayError,
                sdk_errors.ServerError) as exc:
            status = session.last_status()
            raise GatewayError(f"Razorpay refused {what}: {exc} (HTTP {status})",
                               retryable=_retryable(status)) from None
        except requests.RequestException as exc:  # no answer, or one that is not JSON
            status = session.last_status()
            raise GatewayError(
                f"Razorpay did not answer {what} usefully ({type(exc).__name__}, "
                f"HTTP {status})", retryable=_retryable(status)) from None
        if not isinstance(answer, dict):
            raise GatewayError(f"Razorpay answered {what} with no JSON object", retryable=True)
        return answer

    def _order_payments(self, order_id: str) -> list[dict[str, Any]]:
        answer = self._call("the order's payments", lambda: self.client.order.payments(order_id))
        items = answer.get("items")
        return [item for item in items if isinstance(item, dict)] if isinstance(
            items, list) else []

    def _order_payment(self, order_id: str | None, statuses: Iterable[str]) -> str:
        """The id of an order's payment in one of ``statuses``."""
        wanted = set(statuses)
        for payment in self._order_payments(order_id) if order_id else []:
            if payment.get("status") in wanted and text(payment, "id"):
                return str(payment["id"])
        raise GatewayError(f"Razorpay has no {' or '.join(sorted(wanted))} payment for "
                           f"order {order_id}", retryable=False)


def _payment_state(payment: Mapping[str, Any]) -> PaymentState:
    status = _PAYMENT_STATUS.get(str(payment.get("status")), RemoteStatus.PENDING)
    amount, currency, fee = money(payment, with_fee=status is RemoteStatus.SUCCEEDED)
    reason = None
    if status is RemoteStatus.FAILED:
        reason = text(payment, "error_description") or text(payment, "error_code")
    return PaymentState(status=status, gateway_payment_id=text(payment, "id"), amount=amount,
                        currency=currency, fee=fee, reason=reason)


def _payment_rank(payment: Mapping[str, Any]) -> tuple[int, int]:
    created = payment.get("created_at")
    return (_PAYMENT_RANK.get(str(payment.get("status")), 0),
            created if isinstance(created, int) else 0)


def _retryable(status: int | None) -> bool:
    return status is None or status >= 500 or status in _RETRYABLE_STATUS or status < 400


def _idempotency_key(refund_id: str) -> str:
    """Razorpay takes 10+ letters, digits, ``-`` or ``_``: the refund id, or its digest."""
    if _IDEMPOTENCY_KEY.match(refund_id):
        return refund_id
    return hashlib.sha256(refund_id.encode()).hexdigest()


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _same_hex(expected: str, given: str) -> bool:
    """Constant-time comparison that accepts any text (``compare_digest`` refuses non-ASCII
    ``str``)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def _event_time(created_at: object) -> datetime:
    if isinstance(created_at, bool) or not isinstance(created_at, int):
        raise WebhookSignatureInvalid("the signed event has no created_at time")
    try:
        return datetime.fromtimestamp(created_at, UTC)
    except (OverflowError, OSError, ValueError):
        raise WebhookSignatureInvalid("the signed event's created_at is not a time") from None
