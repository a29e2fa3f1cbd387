"""The Razorpay adapter, offline: Razorpay's HTTP is a fake transport mounted on the SDK's
own ``requests`` session, and webhooks are signed here as Razorpay signs them (hex
HMAC-SHA256 of the raw body with the webhook secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from paytrack.adapters.gateways.base import (
    CheckoutRequest,
    GatewaySettings,
    PayoutRequest,
    RefundRequest,
)
from paytrack.adapters.gateways.razorpay import RazorpayGateway
from paytrack.adapters.gateways.razorpay_units import from_razorpay_amount, to_razorpay_amount
from paytrack.domain.errors import (
    GatewayError,
    GatewayNotConfigured,
    GatewayUnsupported,
    InvalidAmount,
    InvalidCurrency,
    ValidationFailed,
    WebhookSignatureInvalid,
)
from paytrack.domain.gateways import EventKind, Mode, Outcome, RemoteStatus

KEY_ID = "rzp_test_1DP5mmOlF5G5ag"
KEY_SECRET = "thisisthekeysecret"
WEBHOOK_SECRET = "thisisthewebhooksecret"
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
CREATED = int(NOW.timestamp()) - 60
EXPIRES = NOW + timedelta(minutes=30)


# -- a fake Razorpay at the SDK's HTTP boundary ---------------------------------------------


@dataclass
class Sent:
    method: str
    url: str
    body: Any
    headers: CaseInsensitiveDict
    timeout: Any


class FakeRazorpay(BaseAdapter):
    """Answers queued in order; each is ``(status, json-able or bytes)`` or an exception."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.answers: list[Any] = []

    def answer(self, status: int, body: Any) -> None:
        self.answers.append((status, body))

    def fail(self, exc: Exception) -> None:
        self.answers.append(exc)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = json.loads(request.body) if request.body else None
        self.sent.append(Sent(request.method, request.url, body, request.headers, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, content = answer
        response = requests.Response()
        response.status_code = status
        response._content = content if isinstance(content, bytes) else json.dumps(
            content).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def settings(**overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "gateway": "razorpay", "mode": Mode.TEST,
        "credentials": {"key_id": KEY_ID, "key_secret": KEY_SECRET},
        "webhook_secret": WEBHOOK_SECRET, "public_url": "https://pay.example.com/"}
    values.update(overrides)
    return GatewaySettings(**values)


@pytest.fixture
def fake() -> FakeRazorpay:
    return FakeRazorpay()


@pytest.fixture
def gateway(fake: FakeRazorpay) -> RazorpayGateway:
    gw = RazorpayGateway(settings(), clock=lambda: NOW)
    gw.client.session.mount("https://", fake)
    return gw


def checkout_request(amount: int = 49900, currency: str = "INR",
                     metadata: dict[str, str] | None = None) -> CheckoutRequest:
    return CheckoutRequest(payment_id="pay_01HXYZ", amount=amount, currency=currency,
                           description="Course: Rust in a week", customer_id="c1",
                           seller_id="s1", expires_at=EXPIRES,
                           return_url="https://shop.example.com/done",
                           metadata=metadata or {})


def refund_request(**overrides: Any) -> RefundRequest:
    values: dict[str, Any] = {
        "refund_id": "re_01HREFUND", "payment_id": "pay_01HXYZ",
        "gateway_payment_id": "pay_G8VQzjPLoAvm6D", "gateway_order_id": "order_G8VPOayFxWEU28",
        "amount": 10000, "currency": "INR"}
    values.update(overrides)
    return RefundRequest(**values)


def payment_entity(status: str = "captured", **overrides: Any) -> dict[str, Any]:
    entity = {
        "id": "pay_G8VQzjPLoAvm6D", "entity": "payment", "amount": 49900, "currency": "INR",
        "status": status, "order_id": "order_G8VPOayFxWEU28", "invoice_id": None,
        "international": False, "method": "card", "amount_refunded": 0,
        "refund_status": None, "captured": status == "captured", "description": None,
        "email": "gaurav.kumar@example.com", "contact": "+919000090000",
        "notes": {"paytrack_payment_id": "pay_01HXYZ"}, "fee": 1178, "tax": 180,
        "error_code": None, "error_description": None, "created_at": CREATED - 30}
    entity.update(overrides)
    return entity


# -- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount_minor", "currency"), [
    (49900, "INR"),  # 499.00 INR in paise
    (2000, "USD"),  # 20.00 USD in cents
    (295, "JPY"),  # zero-decimal: whole yen
    (295990, "KWD"),  # three decimals, the last one 0
    (1250, "BHD"),
    (7770, "OMR"),
])
def test_razorpay_takes_iso_minor_units_and_gives_them_back(amount_minor, currency):
    assert to_razorpay_amount(amount_minor, currency) == amount_minor
    assert from_razorpay_amount(amount_minor, currency) == amount_minor


@pytest.mark.parametrize(("amount_minor", "currency", "says"), [
    (295991, "KWD", "295.991 KWD cannot be sent to Razorpay: it takes KWD in multiples of "
                    "0.010"),
    (1001, "OMR", "multiples of 0.010"),
    (12345, "JOD", "JOD in multiples of 0.010"),
    (0, "INR", "positive whole number"),
    (-100, "INR", "positive whole number"),
])
def test_an_amount_razorpay_cannot_take_is_refused_not_rounded(amount_minor, currency, says):
    with pytest.raises(InvalidAmount, match=says):
        to_razorpay_amount(amount_minor, currency)


def test_an_amount_in_a_currency_that_is_not_iso_is_refused():
    with pytest.raises(InvalidCurrency):
        to_razorpay_amount(100, "XYZ")


@pytest.mark.parametrize("value", [-1, "100", 1.5, True])
def test_a_razorpay_amount_that_is_not_a_count_is_refused(value):
    with pytest.raises(InvalidAmount):
        from_razorpay_amount(value, "INR")


# -- checkout -----------------------------------------------------------------------------------


def test_checkout_creates_an_order_in_razorpay_units_with_paytracks_ids(gateway, fake):
    fake.answer(200, {"id": "order_G8VPOayFxWEU28", "entity": "order", "amount": 295990,
                      "currency": "KWD", "receipt": "pay_01HXYZ", "status": "created",
                      "notes": {"paytrack_payment_id": "pay_01HXYZ"}, "attempts": 0})

    checkout = gateway.create_checkout(checkout_request(
        amount=295990, currency="KWD",
        metadata={"course": "rust-101", "paytrack_payment_id": "not-this-one"}))

    (sent,) = fake.sent
    assert (sent.method, sent.url) == ("POST", "https://api.razorpay.com/v1/orders")
    assert sent.body == {"amount": 295990, "currency": "KWD", "receipt": "pay_01HXYZ",
                         "notes": {"course": "rust-101", "paytrack_payment_id": "pay_01HXYZ"},
                         "payment_capture": 1}
    basic = base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {basic}"
    assert sent.timeout == 20.0
    assert checkout.gateway_order_id == "order_G8VPOayFxWEU28"
    assert checkout.payment_url == "https://pay.example.com/checkout/razorpay/pay_01HXYZ"
    assert checkout.expires_at == EXPIRES


def test_every_request_carries_the_configured_timeout(fake):
    gw = RazorpayGateway(settings(), clock=lambda: NOW, timeout_s=3.5)
    gw.client.session.mount("https://", fake)
    fake.answer(200, payment_entity())
    gw.fetch_status("pay_G8VQzjPLoAvm6D", None)
    assert fake.sent[0].timeout == 3.5


def test_an_amount_razorpay_cannot_take_sends_no_order(gateway, fake):
    with pytest.raises(InvalidAmount):
        gateway.create_checkout(checkout_request(amount=295991, currency="KWD"))
    assert fake.sent == []


def test_more_metadata_than_razorpay_notes_hold_is_refused_before_sending(gateway, fake):
    metadata = {f"key{i}": "v" for i in range(15)}  # + paytrack_payment_id = 16 notes
    with pytest.raises(ValidationFailed, match="at most 15 notes"):
        gateway.create_checkout(checkout_request(metadata=metadata))
    assert fake.sent == []


def test_without_api_keys_the_gateway_is_not_configured():
    gw = RazorpayGateway(settings(credentials={"key_id": KEY_ID}), clock=lambda: NOW)
    with pytest.raises(GatewayNotConfigured, match="key_secret"):
        gw.create_checkout(checkout_request())
    with pytest.raises(GatewayNotConfigured):
        gw.verify_checkout("order_1", "pay_1", "00")


def test_payouts_are_not_razorpays_to_make(gateway, fake):
    with pytest.raises(GatewayUnsupported, match="RazorpayX"):
        gateway.payout(PayoutRequest(payout_id="po_1", seller_id="s1", amount=100000,
                                     currency="INR", method="bank_transfer", destination={}))
    assert fake.sent == []


# -- the checkout signature ---------------------------------------------------------------------


def checkout_signature(order_id: str, payment_id: str, secret: str = KEY_SECRET) -> str:
    return hmac.new(secret.encode(), f"{order_id}|{payment_id}".encode(),
                    hashlib.sha256).hexdigest()


def test_checkouts_signature_of_order_and_payment_is_accepted(gateway):
    signature = checkout_signature("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D")
    assert gateway.verify_checkout("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D", signature)


@pytest.mark.parametrize(("order_id", "payment_id", "signature"), [
    # signed for another order
    ("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D",
     checkout_signature("order_OTHER", "pay_G8VQzjPLoAvm6D")),
    # signed for another payment
    ("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D",
     checkout_signature("order_G8VPOayFxWEU28", "pay_OTHER")),
    # signed with another secret
    ("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D",
     checkout_signature("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D", "not-the-secret")),
    # the same message split differently
    ("order_A|pay", "B", checkout_signature("order_A", "pay|B")),
    ("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D", "garbage"),
    ("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D", "é" * 64),
    ("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D", ""),
    ("order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D", None),
    (None, "pay_G8VQzjPLoAvm6D", checkout_signature("None", "pay_G8VQzjPLoAvm6D")),
    ("order_\udcff", "pay_1", "00"),
])
def test_any_other_checkout_signature_is_refused_without_an_error(gateway, order_id, payment_id,
                                                                  signature):
    assert gateway.verify_checkout(order_id, payment_id, signature) is False


# -- payment status and capture -------------------------------------------------------------------


@pytest.mark.parametrize(("status", "remote"), [
    ("created", RemoteStatus.PENDING),
    ("authorized", RemoteStatus.PROCESSING),
    ("captured", RemoteStatus.SUCCEEDED),
    ("refunded", RemoteStatus.SUCCEEDED),
    ("failed", RemoteStatus.FAILED),
])
def test_a_payments_status_is_read_from_razorpay(gateway, fake, status, remote):
    fake.answer(200, payment_entity(status))
    state = gateway.fetch_status("pay_G8VQzjPLoAvm6D", None)
    assert fake.sent[0].method == "GET"
    assert fake.sent[0].url == "https://api.razorpay.com/v1/payments/pay_G8VQzjPLoAvm6D"
    assert state.status is remote
    assert (state.gateway_payment_id, state.amount, state.currency) == (
        "pay_G8VQzjPLoAvm6D", 49900, "INR")


def test_a_captured_payment_reports_razorpays_fee_tax_included(gateway, fake):
    fake.answer(200, payment_entity("captured", fee=1178, tax=180))
    assert gateway.fetch_status("pay_G8VQzjPLoAvm6D", None).fee == 1178


def test_a_fee_charged_in_inr_on_a_dollar_payment_is_not_reported_as_dollars(gateway, fake):
    fake.answer(200, payment_entity("captured", amount=100, currency="USD", base_amount=7129,
                                    base_currency="INR", fee=207))
    state = gateway.fetch_status("pay_G8VQzjPLoAvm6D", None)
    assert (state.amount, state.currency, state.fee) == (100, "USD", None)


def test_a_failed_payment_says_why(gateway, fake):
    fake.answer(200, payment_entity("failed", error_code="BAD_REQUEST_ERROR",
                                    error_description="Payment failed due to insufficient "
                                                      "balance"))
    state = gateway.fetch_status("pay_G8VQzjPLoAvm6D", None)
    assert state.reason == "Payment failed due to insufficient balance"


def test_an_orders_status_is_its_most_advanced_payment(gateway, fake):
    fake.answer(200, {"entity": "collection", "count": 2, "items": [
        payment_entity("failed", id="pay_first", created_at=CREATED - 90),
        payment_entity("captured", id="pay_second", created_at=CREATED - 60),
    ]})
    state = gateway.fetch_status(None, "order_G8VPOayFxWEU28")
    assert fake.sent[0].url == "https://api.razorpay.com/v1/orders/order_G8VPOayFxWEU28/payments"
    assert (state.status, state.gateway_payment_id) == (RemoteStatus.SUCCEEDED, "pay_second")


def test_an_order_nobody_has_paid_yet_is_pending(gateway, fake):
    fake.answer(200, {"entity": "collection", "count": 0, "items": []})
    assert gateway.fetch_status(None, "order_G8VPOayFxWEU28").status is RemoteStatus.PENDING


def test_capture_sends_the_amount_and_currency(gateway, fake):
    fake.answer(200, payment_entity("captured"))
    state = gateway.capture("pay_G8VQzjPLoAvm6D", None, 49900, "INR")
    (sent,) = fake.sent
    assert sent.url == "https://api.razorpay.com/v1/payments/pay_G8VQzjPLoAvm6D/capture"
    assert sent.body == {"amount": 49900, "currency": "INR"}
    assert state.status is RemoteStatus.SUCCEEDED


def test_capturing_a_payment_razorpay_already_captured_succeeds(gateway, fake):
    fake.answer(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                "description": "This payment has already been captured"}})
    fake.answer(200, payment_entity("captured"))
    state = gateway.capture("pay_G8VQzjPLoAvm6D", None, 49900, "INR")
    assert state.status is RemoteStatus.SUCCEEDED
    assert [s.method for s in fake.sent] == ["POST", "GET"]


def test_a_refused_capture_of_an_uncaptured_payment_is_an_error(gateway, fake):
    fake.answer(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                "description": "Capture amount must be equal to the amount "
                                               "authorized"}})
    fake.answer(200, payment_entity("authorized"))
    with pytest.raises(GatewayError, match="Capture amount must be equal") as refused:
        gateway.capture("pay_G8VQzjPLoAvm6D", None, 100, "INR")
    assert refused.value.extra["retryable"] is False


# -- refunds --------------------------------------------------------------------------------------


def refund_answer(status: str) -> dict[str, Any]:
    return {"id": "rfnd_FP8QHiV938haTz", "entity": "refund", "amount": 10000,
            "currency": "INR", "payment_id": "pay_G8VQzjPLoAvm6D",
            "notes": {"paytrack_refund_id": "re_01HREFUND"}, "receipt": "re_01HREFUND",
            "status": status, "speed_processed": "normal", "speed_requested": "normal",
            "created_at": CREATED}


def test_a_refund_is_sent_with_paytracks_ids_and_its_own_idempotency_key(gateway, fake):
    fake.answer(200, refund_answer("processed"))
    result = gateway.refund(refund_request(reason="requested_by_customer"))
    (sent,) = fake.sent
    assert (sent.method, sent.url) == (
        "POST", "https://api.razorpay.com/v1/payments/pay_G8VQzjPLoAvm6D/refund")
    assert sent.body == {"amount": 10000, "receipt": "re_01HREFUND",
                         "notes": {"paytrack_refund_id": "re_01HREFUND",
                                   "paytrack_payment_id": "pay_01HXYZ",
                                   "reason": "requested_by_customer"}}
    assert sent.headers["X-Refund-Idempotency"] == "re_01HREFUND"
    assert (result.outcome, result.gateway_refund_id) == (Outcome.SUCCEEDED,
                                                          "rfnd_FP8QHiV938haTz")


@pytest.mark.parametrize(("status", "outcome"), [
    ("processed", Outcome.SUCCEEDED),
    ("pending", Outcome.PENDING),
    ("failed", Outcome.FAILED),
])
def test_razorpays_refund_status_is_the_outcome(gateway, fake, status, outcome):
    fake.answer(200, refund_answer(status))
    assert gateway.refund(refund_request()).outcome is outcome


def test_a_refund_known_only_by_its_order_goes_to_the_orders_captured_payment(gateway, fake):
    fake.answer(200, {"entity": "collection", "count": 2, "items": [
        payment_entity("failed", id="pay_failed"), payment_entity("captured", id="pay_won")]})
    fake.answer(200, refund_answer("pending"))
    gateway.refund(refund_request(gateway_payment_id=None))
    assert fake.sent[1].url == "https://api.razorpay.com/v1/payments/pay_won/refund"


def test_a_three_decimal_refund_razorpay_cannot_take_is_refused_before_sending(gateway, fake):
    with pytest.raises(InvalidAmount):
        gateway.refund(refund_request(amount=1001, currency="KWD"))
    assert fake.sent == []


@pytest.mark.parametrize(("status", "body", "retryable"), [
    (400, {"error": {"code": "BAD_REQUEST_ERROR",
                     "description": "The refund amount provided is greater than amount "
                                    "captured"}}, False),
    (401, {"error": {"code": "BAD_REQUEST_ERROR",
                     "description": "Authentication failed"}}, False),
    (429, {"error": {"code": "BAD_REQUEST_ERROR", "description": "Too many requests"}}, True),
    (409, {"error": {"code": "BAD_REQUEST_ERROR",
                     "description": "request is being processed"}}, True),
    (500, {"error": {"code": "SERVER_ERROR", "description": "We are facing some trouble"}},
     True),
    (502, {"error": {"code": "GATEWAY_ERROR", "description": "Bank is down"}}, True),
    (502, b"<html>Bad Gateway</html>", True),
])
def test_razorpays_refusals_are_gateway_errors_retryable_unless_4xx(gateway, fake, status, body,
                                                                    retryable):
    fake.answer(status, body)
    with pytest.raises(GatewayError) as refused:
        gateway.refund(refund_request())
    assert refused.value.extra["retryable"] is retryable
    assert KEY_SECRET not in refused.value.detail


@pytest.mark.parametrize("exc", [requests.ConnectionError("connection refused"),
                                 requests.ReadTimeout("read timed out")])
def test_no_answer_from_razorpay_is_a_retryable_gateway_error(gateway, fake, exc):
    fake.fail(exc)
    with pytest.raises(GatewayError) as failed:
        gateway.refund(refund_request())
    assert failed.value.extra["retryable"] is True


# -- webhooks: the signature ----------------------------------------------------------------------


def event(name: str, contains: dict[str, dict[str, Any]], created_at: int = CREATED) -> bytes:
    return json.dumps({
        "entity": "event", "account_id": "acc_BFQ7uQEaa7j2z7", "event": name,
        "contains": list(contains),
        "payload": {key: {"entity": value} for key, value in contains.items()},
        "created_at": created_at}).encode()


def signed(body: bytes, secret: str = WEBHOOK_SECRET, event_id: str | None = "Hd3mP2HnDfJOVy"
           ) -> dict[str, str]:
    headers = {"x-razorpay-signature": hmac.new(secret.encode(), body,
                                                hashlib.sha256).hexdigest()}
    if event_id is not None:
        headers["x-razorpay-event-id"] = event_id
    return headers


CAPTURED = event("payment.captured", {"payment": payment_entity("captured")})


def test_a_correctly_signed_delivery_is_accepted_with_razorpays_event_id(gateway):
    notification = gateway.parse_webhook(CAPTURED, signed(CAPTURED))
    assert notification.event_id == "Hd3mP2HnDfJOVy"
    assert notification.event_type == "payment.captured"


def test_header_names_are_matched_in_any_case(gateway):
    headers = {key.title(): value for key, value in signed(CAPTURED).items()}
    assert gateway.parse_webhook(CAPTURED, headers).event_id == "Hd3mP2HnDfJOVy"


def test_without_an_event_id_the_body_digest_dedupes_redeliveries(gateway):
    first = gateway.parse_webhook(CAPTURED, signed(CAPTURED, event_id=None))
    again = gateway.parse_webhook(CAPTURED, signed(CAPTURED, event_id=None))
    assert first.event_id == again.event_id == "sha256:" + hashlib.sha256(CAPTURED).hexdigest()


def tampered() -> tuple[bytes, dict[str, str]]:
    return CAPTURED.replace(b'"amount": 49900', b'"amount": 1'), signed(CAPTURED)


def with_signature(value: str) -> tuple[bytes, dict[str, str]]:
    return CAPTURED, {"x-razorpay-signature": value, "x-razorpay-event-id": "evt"}


@pytest.mark.parametrize(("body", "headers"), [
    tampered(),
    (CAPTURED, signed(CAPTURED, secret="not-the-webhook-secret")),
    (CAPTURED, {"x-razorpay-event-id": "Hd3mP2HnDfJOVy"}),  # no signature
    with_signature(""),
    with_signature("garbage"),
    with_signature("é" * 64),
    with_signature(signed(CAPTURED)["x-razorpay-signature"][:-1]),
    (b"not json", signed(b"not json")),
    (b"\xff\xfe", signed(b"\xff\xfe")),
    (b"[]", signed(b"[]")),
    (b'{"event": "payment.captured"}', signed(b'{"event": "payment.captured"}')),  # no entity
], ids=["tampered", "wrong-secret", "missing", "empty", "garbage", "non-ascii", "truncated",
        "not-json", "not-utf8", "not-an-object", "not-an-event"])
def test_anything_but_razorpays_signature_over_an_event_is_refused(gateway, body, headers):
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(body, headers)


def test_an_event_older_than_razorpays_retry_window_is_refused_as_a_replay(gateway):
    stale = event("payment.captured", {"payment": payment_entity()},
                  created_at=int((NOW - timedelta(hours=25, seconds=1)).timestamp()))
    with pytest.raises(WebhookSignatureInvalid, match="replay"):
        gateway.parse_webhook(stale, signed(stale))


def test_a_retry_late_in_razorpays_24_hour_window_is_accepted(gateway):
    late = event("payment.captured", {"payment": payment_entity()},
                 created_at=int((NOW - timedelta(hours=24)).timestamp()))
    assert gateway.parse_webhook(late, signed(late)).events


@pytest.mark.parametrize("created_at", [None, "1617900495", 10**20])
def test_an_event_without_a_usable_time_is_refused(gateway, created_at):
    body = json.dumps({"entity": "event", "event": "payment.captured", "payload": {},
                       "created_at": created_at}).encode()
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(body, signed(body))


def test_without_a_webhook_secret_no_delivery_is_trusted():
    gw = RazorpayGateway(settings(webhook_secret=None), clock=lambda: NOW)
    with pytest.raises(GatewayNotConfigured):
        gw.parse_webhook(CAPTURED, signed(CAPTURED))


# -- webhooks: the events -----------------------------------------------------------------------


def parse(gateway: RazorpayGateway, body: bytes):
    return gateway.parse_webhook(body, signed(body)).events


def test_payment_captured_is_a_succeeded_payment_with_its_fee(gateway):
    (e,) = parse(gateway, CAPTURED)
    assert e.kind is EventKind.PAYMENT_SUCCEEDED
    assert (e.gateway_payment_id, e.gateway_order_id, e.payment_id) == (
        "pay_G8VQzjPLoAvm6D", "order_G8VPOayFxWEU28", "pay_01HXYZ")
    assert (e.amount, e.currency, e.fee) == (49900, "INR", 1178)
    assert e.occurred_at == datetime.fromtimestamp(CREATED, UTC)


def test_payment_authorized_is_an_approved_payment(gateway):
    (e,) = parse(gateway, event("payment.authorized",
                                {"payment": payment_entity("authorized", fee=None)}))
    assert (e.kind, e.gateway_payment_id, e.amount, e.fee) == (
        EventKind.PAYMENT_APPROVED, "pay_G8VQzjPLoAvm6D", 49900, None)


def test_payment_failed_carries_razorpays_reason(gateway):
    (e,) = parse(gateway, event("payment.failed", {"payment": payment_entity(
        "failed", fee=None, error_code="BAD_REQUEST_ERROR",
        error_description="Your payment didn't go through as it was declined by the bank.")}))
    assert e.kind is EventKind.PAYMENT_FAILED
    assert e.reason == "Your payment didn't go through as it was declined by the bank."
    assert e.gateway_order_id == "order_G8VPOayFxWEU28"


def test_a_failure_without_a_description_gives_its_code(gateway):
    (e,) = parse(gateway, event("payment.failed", {"payment": payment_entity(
        "failed", error_code="GATEWAY_ERROR", error_description=None)}))
    assert e.reason == "GATEWAY_ERROR"


def test_order_paid_is_a_succeeded_payment_known_by_the_orders_notes(gateway):
    order = {"id": "order_G8VPOayFxWEU28", "entity": "order", "amount": 49900,
             "amount_paid": 49900, "amount_due": 0, "currency": "INR", "receipt": "pay_01HXYZ",
             "status": "paid", "attempts": 1, "notes": {"paytrack_payment_id": "pay_01HXYZ"},
             "created_at": CREATED - 100}
    body = event("order.paid", {"payment": payment_entity("captured", notes=[]),
                                "order": order})
    (e,) = parse(gateway, body)
    assert e.kind is EventKind.PAYMENT_SUCCEEDED
    assert (e.gateway_order_id, e.gateway_payment_id, e.payment_id, e.amount) == (
        "order_G8VPOayFxWEU28", "pay_G8VQzjPLoAvm6D", "pay_01HXYZ", 49900)


def test_a_payment_without_notes_is_known_by_razorpays_ids_only(gateway):
    (e,) = parse(gateway, event("payment.captured", {"payment": payment_entity(notes=[])}))
    assert (e.payment_id, e.gateway_order_id) == (None, "order_G8VPOayFxWEU28")


def refund_entity(status: str) -> dict[str, Any]:
    return {"id": "rfnd_Heax5rxucwf2aS", "entity": "refund", "amount": 4000,
            "currency": "INR", "payment_id": "pay_G8VQzjPLoAvm6D",
            "notes": {"paytrack_refund_id": "re_01HREFUND",
                      "paytrack_payment_id": "pay_01HXYZ"},
            "receipt": "re_01HREFUND", "acquirer_data": {"arn": None},
            "created_at": CREATED, "batch_id": None, "status": status,
            "speed_processed": "normal", "speed_requested": "normal"}


@pytest.mark.parametrize(("name", "kind"), [("refund.processed", EventKind.REFUND_SUCCEEDED),
                                            ("refund.failed", EventKind.REFUND_FAILED)])
def test_refund_events_name_both_refunds_and_the_payment(gateway, name, kind):
    status = "processed" if name == "refund.processed" else "failed"
    (e,) = parse(gateway, event(name, {"refund": refund_entity(status),
                                       "payment": payment_entity("refunded")}))
    assert e.kind is kind
    assert (e.gateway_refund_id, e.refund_id, e.gateway_payment_id, e.payment_id) == (
        "rfnd_Heax5rxucwf2aS", "re_01HREFUND", "pay_G8VQzjPLoAvm6D", "pay_01HXYZ")
    assert (e.amount, e.currency) == (4000, "INR")


def test_a_refund_without_its_currency_takes_the_payments(gateway):
    (e,) = parse(gateway, event("refund.processed", {
        "refund": {**refund_entity("processed"), "currency": ""},
        "payment": payment_entity("refunded")}))
    assert (e.amount, e.currency) == (4000, "INR")


def dispute_entity(status: str, amount_deducted: int = 0) -> dict[str, Any]:
    return {"id": "disp_EsIAlDcoUr8CaQ", "entity": "dispute",
            "payment_id": "pay_G8VQzjPLoAvm6D", "amount": 39000, "currency": "INR",
            "amount_deducted": amount_deducted,
            "reason_code": "processed_invalid_expired_card", "respond_by": CREATED + 86400,
            "status": status, "phase": "chargeback", "created_at": CREATED}


@pytest.mark.parametrize(("name", "status", "kind"), [
    ("payment.dispute.created", "open", EventKind.DISPUTE_OPENED),
    ("payment.dispute.won", "won", EventKind.DISPUTE_WON),
    ("payment.dispute.lost", "lost", EventKind.DISPUTE_LOST),
])
def test_dispute_events_are_translated(gateway, name, status, kind):
    (e,) = parse(gateway, event(name, {"payment": payment_entity(),
                                       "dispute": dispute_entity(status)}))
    assert e.kind is kind
    assert (e.gateway_dispute_id, e.gateway_payment_id, e.payment_id) == (
        "disp_EsIAlDcoUr8CaQ", "pay_G8VQzjPLoAvm6D", "pay_01HXYZ")
    assert (e.amount, e.currency, e.reason) == (39000, "INR", "processed_invalid_expired_card")


@pytest.mark.parametrize(("status", "deducted", "kind"), [
    ("won", 0, EventKind.DISPUTE_WON),
    ("lost", 39000, EventKind.DISPUTE_LOST),
    ("closed", 0, EventKind.DISPUTE_WON),  # closed after an answer: nothing taken
    ("closed", 39000, EventKind.DISPUTE_LOST),
])
def test_a_closed_dispute_is_won_or_lost_by_its_outcome(gateway, status, deducted, kind):
    (e,) = parse(gateway, event("payment.dispute.closed", {
        "payment": payment_entity(), "dispute": dispute_entity(status, deducted)}))
    assert e.kind is kind


@pytest.mark.parametrize("name", ["payment.dispute.under_review", "refund.created",
                                  "order.notification.delivered", "subscription.charged"])
def test_other_events_are_acknowledged_with_nothing_to_do(gateway, name):
    body = event(name, {"payment": payment_entity()})
    notification = gateway.parse_webhook(body, signed(body))
    assert (notification.event_type, notification.events) == (name, ())


def test_a_signed_event_with_odd_fields_translates_what_it_can(gateway):
    odd = payment_entity(amount="49900", currency="rupees", fee=True, notes="n", order_id=7)
    (e,) = parse(gateway, event("payment.captured", {"payment": odd}))
    assert e.kind is EventKind.PAYMENT_SUCCEEDED
    assert (e.amount, e.currency, e.fee, e.payment_id, e.gateway_order_id) == (
        None, None, None, None, None)
    body = json.dumps({"entity": "event", "event": "payment.captured", "payload": [],
                       "created_at": CREATED}).encode()
    (empty,) = parse(gateway, body)
    assert empty.gateway_payment_id is None
