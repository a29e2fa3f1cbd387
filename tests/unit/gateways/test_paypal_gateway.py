"""PayPal orders, captures and refunds through the official SDK, faked at its HTTP boundary:
a transport adapter mounted on the requests session the SDK sends through answers as PayPal
does and records what was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

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
from paytrack.adapters.gateways.paypal import PayPalGateway, to_paypal_value
from paytrack.domain.errors import (
    GatewayError,
    GatewayNotConfigured,
    GatewayUnsupported,
    InvalidAmount,
)
from paytrack.domain.gateways import Mode, Outcome, RemoteStatus
from paytrack.domain.ids import new_id

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PAYMENT_ID = new_id("pay")
REFUND_ID = new_id("re")
ORDER_ID = "5O190127TN364715T"
CAPTURE_ID = "3C679366HH908993F"
CREDENTIALS = {"client_id": "AeA1QIZXiflr1", "client_secret": "ECYYrrSHdKfk-secret",
               "webhook_id": "1JE4291016473214C"}

Answer = tuple[int, Any] | Exception


@dataclass
class FakePayPal(BaseAdapter):
    """PayPal's REST API as the SDK reaches it: answers by (method, path); every request
    and the timeout it was sent with are kept."""

    answers: dict[tuple[str, str], Answer | list[Answer]] = field(default_factory=dict)
    sent: list[requests.PreparedRequest] = field(default_factory=list)
    timeouts: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self.answers[("POST", "/v1/oauth2/token")] = (200, {
            "access_token": "A21AAF-token", "token_type": "Bearer", "expires_in": 32400})

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append(request)
        self.timeouts.append(timeout)
        key = (request.method, urlsplit(request.url).path)
        answer = self.answers.get(key, (404, {"name": "RESOURCE_NOT_FOUND"}))
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode() if not isinstance(body, bytes) else body
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        response.reason = "OK" if status < 400 else "Error"
        return response

    def close(self) -> None:
        pass

    def to(self, method: str, path: str) -> list[requests.PreparedRequest]:
        return [r for r in self.sent if r.method == method and urlsplit(r.url).path == path]

    def one(self, method: str, path: str) -> tuple[requests.PreparedRequest, dict[str, Any]]:
        [request] = self.to(method, path)
        return request, json.loads(request.body) if request.body else {}


@pytest.fixture
def paypal() -> FakePayPal:
    return FakePayPal()


@pytest.fixture
def gateway(paypal) -> Callable[..., PayPalGateway]:
    def build(mode: Mode = Mode.TEST, **credentials: str) -> PayPalGateway:
        session = requests.Session()
        session.mount("https://", paypal)
        session.mount("http://", paypal)
        settings = GatewaySettings("paypal", mode, {**CREDENTIALS, **credentials})
        return PayPalGateway(settings, clock=lambda: NOW, sdk_session=session)
    return build


def checkout_request(amount: int = 1250, currency: str = "USD",
                     expires_at: datetime = NOW + timedelta(hours=24)) -> CheckoutRequest:
    return CheckoutRequest(payment_id=PAYMENT_ID, amount=amount, currency=currency,
                           description="Course: Rust for Pythonistas", customer_id="cus_1",
                           seller_id="sel_1", expires_at=expires_at,
                           return_url="https://shop.example/paid")


def order(status: str, *captures: dict[str, Any]) -> dict[str, Any]:
    unit: dict[str, Any] = {"reference_id": PAYMENT_ID, "custom_id": PAYMENT_ID,
                            "amount": {"currency_code": "USD", "value": "12.50"}}
    if captures:
        unit["payments"] = {"captures": list(captures)}
    return {"id": ORDER_ID, "status": status, "intent": "CAPTURE", "purchase_units": [unit],
            "links": [{"href": f"https://www.sandbox.paypal.com/checkoutnow?token={ORDER_ID}",
                       "rel": "payer-action", "method": "GET"}]}


def capture(status: str = "COMPLETED", capture_id: str = CAPTURE_ID, **extra) -> dict[str, Any]:
    return {"id": capture_id, "status": status, "custom_id": PAYMENT_ID,
            "amount": {"currency_code": "USD", "value": "12.50"},
            "seller_receivable_breakdown": {
                "gross_amount": {"currency_code": "USD", "value": "12.50"},
                "paypal_fee": {"currency_code": "USD", "value": "0.79"},
                "net_amount": {"currency_code": "USD", "value": "11.71"}},
            **extra}


def unprocessable(issue: str) -> tuple[int, dict[str, Any]]:
    return 422, {"name": "UNPROCESSABLE_ENTITY", "debug_id": "f0b1c2d3e4",
                 "message": "The requested action could not be performed.",
                 "details": [{"issue": issue, "description": "…"}]}


ORDERS = "/v2/checkout/orders"


# -- configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["client_id", "client_secret", "webhook_id"])
def test_a_missing_credential_is_not_configured(missing):
    credentials = {k: v for k, v in CREDENTIALS.items() if k != missing}

    with pytest.raises(GatewayNotConfigured, match=missing):
        PayPalGateway(GatewaySettings("paypal", Mode.TEST, credentials), clock=lambda: NOW)


def test_an_unknown_verification_is_not_configured():
    settings = GatewaySettings("paypal", Mode.TEST, {**CREDENTIALS, "verification": "none"})

    with pytest.raises(GatewayNotConfigured, match="'local' or 'online'"):
        PayPalGateway(settings, clock=lambda: NOW)


@pytest.mark.parametrize(("mode", "host"), [(Mode.TEST, "api-m.sandbox.paypal.com"),
                                            (Mode.LIVE, "api-m.paypal.com")])
def test_test_mode_speaks_to_the_sandbox_and_live_mode_to_production(paypal, gateway, mode,
                                                                     host):
    paypal.answers[("GET", f"{ORDERS}/{ORDER_ID}")] = (200, order("CREATED"))

    gateway(mode).fetch_status(None, ORDER_ID)

    assert {urlsplit(r.url).hostname for r in paypal.sent} == {host}


def test_every_call_is_sent_with_a_timeout_and_the_client_credentials_token(paypal, gateway):
    paypal.answers[("GET", f"{ORDERS}/{ORDER_ID}")] = (200, order("CREATED"))
    adapter = gateway()

    adapter.fetch_status(None, ORDER_ID)
    adapter.fetch_status(None, ORDER_ID)

    assert paypal.timeouts and all(t for t in paypal.timeouts)
    [token] = paypal.to("POST", "/v1/oauth2/token")  # once: the SDK keeps the token
    assert token.headers["Authorization"].startswith("Basic ")
    assert all(r.headers["Authorization"] == "Bearer A21AAF-token"
               for r in paypal.to("GET", f"{ORDERS}/{ORDER_ID}"))


# -- checkout ---------------------------------------------------------------------------

def test_a_checkout_is_an_order_to_capture_named_by_the_payment(paypal, gateway):
    paypal.answers[("POST", ORDERS)] = (201, order("PAYER_ACTION_REQUIRED"))

    checkout = gateway().create_checkout(checkout_request())

    request, body = paypal.one("POST", ORDERS)
    assert request.headers["PayPal-Request-Id"] == PAYMENT_ID
    assert body["intent"] == "CAPTURE"
    [unit] = body["purchase_units"]
    assert unit["amount"] == {"currency_code": "USD", "value": "12.50"}
    assert unit["custom_id"] == unit["reference_id"] == unit["invoice_id"] == PAYMENT_ID
    context = body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "https://shop.example/paid"
    assert checkout.payment_url == f"https://www.sandbox.paypal.com/checkoutnow?token={ORDER_ID}"
    assert checkout.gateway_order_id == ORDER_ID


def test_a_checkout_expires_with_paypals_approval_window(paypal, gateway):
    paypal.answers[("POST", ORDERS)] = [(201, order("PAYER_ACTION_REQUIRED"))] * 2
    adapter = gateway()

    capped = adapter.create_checkout(checkout_request(expires_at=NOW + timedelta(hours=24)))
    sooner = adapter.create_checkout(checkout_request(expires_at=NOW + timedelta(minutes=30)))

    assert capped.expires_at == NOW + timedelta(hours=3)
    assert sooner.expires_at == NOW + timedelta(minutes=30)


def test_an_order_approved_at_the_approve_link_is_found_too(paypal, gateway):
    created = order("CREATED")
    created["links"] = [{"href": "https://www.sandbox.paypal.com/checkoutnow?token=X",
                         "rel": "approve", "method": "GET"}]
    paypal.answers[("POST", ORDERS)] = (201, created)

    assert gateway().create_checkout(checkout_request()).payment_url.endswith("token=X")


@pytest.mark.parametrize(("amount", "currency", "value"), [
    (1250, "USD", "12.50"), (1500, "JPY", "1500"), (100000, "HUF", "1000"),
    (250000, "TWD", "2500"), (1, "EUR", "0.01"),
])
def test_amounts_go_to_paypal_as_exact_decimal_strings(amount, currency, value):
    assert to_paypal_value(amount, currency) == value


@pytest.mark.parametrize(("amount", "currency"), [(123456, "HUF"), (1001, "TWD"), (0, "USD"),
                                                  (-5, "USD")])
def test_an_amount_paypal_cannot_take_is_refused_before_any_request(paypal, gateway, amount,
                                                                    currency):
    with pytest.raises(InvalidAmount):
        gateway().create_checkout(checkout_request(amount=amount, currency=currency))
    assert paypal.sent == []


# -- status -----------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "remote"), [
    ("CREATED", RemoteStatus.PENDING), ("SAVED", RemoteStatus.PENDING),
    ("PAYER_ACTION_REQUIRED", RemoteStatus.PENDING), ("APPROVED", RemoteStatus.PROCESSING),
    ("VOIDED", RemoteStatus.CANCELED),
])
def test_an_orders_status_is_paytracks(paypal, gateway, status, remote):
    paypal.answers[("GET", f"{ORDERS}/{ORDER_ID}")] = (200, order(status))

    state = gateway().fetch_status(None, ORDER_ID)

    assert state.status is remote
    assert state.gateway_payment_id is None


def test_a_completed_order_has_succeeded_with_its_capture(paypal, gateway):
    paypal.answers[("GET", f"{ORDERS}/{ORDER_ID}")] = (200, order("COMPLETED", capture()))

    state = gateway().fetch_status(None, ORDER_ID)

    assert state.status is RemoteStatus.SUCCEEDED
    assert state.gateway_payment_id == CAPTURE_ID
    assert (state.amount, state.currency, state.fee) == (1250, "USD", 79)


def test_a_capture_is_read_by_its_id_when_no_order_is_known(paypal, gateway):
    paypal.answers[("GET", f"/v2/payments/captures/{CAPTURE_ID}")] = (200, capture("PENDING"))

    state = gateway().fetch_status(CAPTURE_ID, None)

    assert (state.status, state.gateway_payment_id) == (RemoteStatus.PROCESSING, CAPTURE_ID)


# -- capture ----------------------------------------------------------------------------

def test_capturing_an_approved_order_succeeds_with_the_capture_id(paypal, gateway):
    paypal.answers[("POST", f"{ORDERS}/{ORDER_ID}/capture")] = (201, order("COMPLETED",
                                                                           capture()))

    state = gateway().capture(None, ORDER_ID, 1250, "USD")

    request, _ = paypal.one("POST", f"{ORDERS}/{ORDER_ID}/capture")
    assert request.headers["PayPal-Request-Id"] == ORDER_ID
    assert state.status is RemoteStatus.SUCCEEDED
    assert (state.gateway_payment_id, state.amount, state.fee) == (CAPTURE_ID, 1250, 79)


def test_an_order_already_captured_answers_its_existing_capture(paypal, gateway):
    paypal.answers[("POST", f"{ORDERS}/{ORDER_ID}/capture")] = unprocessable(
        "ORDER_ALREADY_CAPTURED")
    paypal.answers[("GET", f"{ORDERS}/{ORDER_ID}")] = (200, order("COMPLETED", capture()))

    state = gateway().capture(None, ORDER_ID, 1250, "USD")

    assert (state.status, state.gateway_payment_id) == (RemoteStatus.SUCCEEDED, CAPTURE_ID)


def test_a_declined_instrument_fails_the_payment_with_paypals_reason(paypal, gateway):
    paypal.answers[("POST", f"{ORDERS}/{ORDER_ID}/capture")] = unprocessable(
        "INSTRUMENT_DECLINED")

    state = gateway().capture(None, ORDER_ID, 1250, "USD")

    assert (state.status, state.reason) == (RemoteStatus.FAILED, "INSTRUMENT_DECLINED")


def test_a_capture_paypal_declines_fails_the_payment(paypal, gateway):
    declined = capture("DECLINED", status_details={"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"})
    paypal.answers[("POST", f"{ORDERS}/{ORDER_ID}/capture")] = (201, order("COMPLETED",
                                                                           declined))

    state = gateway().capture(None, ORDER_ID, 1250, "USD")

    assert state.status is RemoteStatus.FAILED
    assert state.reason == "DECLINED_BY_RISK_FRAUD_FILTERS"


def test_a_retried_capture_after_a_decline_reports_the_completed_one(paypal, gateway):
    captures = (capture("DECLINED", "DECLINED1"), capture("COMPLETED"))
    paypal.answers[("POST", f"{ORDERS}/{ORDER_ID}/capture")] = (201, order("COMPLETED",
                                                                           *captures))

    state = gateway().capture(None, ORDER_ID, 1250, "USD")

    assert (state.status, state.gateway_payment_id) == (RemoteStatus.SUCCEEDED, CAPTURE_ID)


# -- refunds ----------------------------------------------------------------------------

def refund_request(amount: int = 500, reason: str | None = "suspected fraud, see ticket 42"):
    return RefundRequest(refund_id=REFUND_ID, payment_id=PAYMENT_ID,
                         gateway_payment_id=CAPTURE_ID, gateway_order_id=ORDER_ID,
                         amount=amount, currency="USD", reason=reason)


REFUND = f"/v2/payments/captures/{CAPTURE_ID}/refund"


def test_a_refund_is_sent_for_the_capture_named_by_the_refund(paypal, gateway):
    paypal.answers[("POST", REFUND)] = (201, {"id": "1JU08902781691411", "status": "COMPLETED"})

    result = gateway().refund(refund_request())

    request, body = paypal.one("POST", REFUND)
    assert request.headers["PayPal-Request-Id"] == REFUND_ID
    assert body["amount"] == {"currency_code": "USD", "value": "5.00"}
    assert body["custom_id"] == body["invoice_id"] == REFUND_ID
    assert "note_to_payer" not in body  # PayPal shows it to the buyer; a reason may be internal
    assert (result.outcome, result.gateway_refund_id) == (Outcome.SUCCEEDED, "1JU08902781691411")


@pytest.mark.parametrize(("answer", "outcome", "reason"), [
    ({"status": "COMPLETED"}, Outcome.SUCCEEDED, None),
    ({"status": "PENDING", "status_details": {"reason": "ECHECK"}}, Outcome.PENDING, "ECHECK"),
    ({"status": "FAILED"}, Outcome.FAILED, "FAILED"),
    ({"status": "CANCELLED"}, Outcome.FAILED, "CANCELLED"),
])
def test_a_refunds_status_is_its_outcome(paypal, gateway, answer, outcome, reason):
    paypal.answers[("POST", REFUND)] = (201, {"id": "1JU08902781691411", **answer})

    result = gateway().refund(refund_request())

    assert (result.outcome, result.reason) == (outcome, reason)


def test_a_refund_without_a_capture_is_refused_before_any_request(paypal, gateway):
    request = RefundRequest(refund_id=REFUND_ID, payment_id=PAYMENT_ID, gateway_payment_id=None,
                            gateway_order_id=ORDER_ID, amount=500, currency="USD")

    with pytest.raises(GatewayError) as refused:
        gateway().refund(request)
    assert refused.value.extra["retryable"] is False
    assert paypal.sent == []


def test_a_payout_is_unsupported():
    request = PayoutRequest(payout_id=new_id("po"), seller_id="sel_1", amount=5000,
                            currency="USD", method="paypal",
                            destination={"email": "seller@example.com"})
    adapter = PayPalGateway(GatewaySettings("paypal", Mode.TEST, CREDENTIALS), clock=lambda: NOW)

    with pytest.raises(GatewayUnsupported, match="Payouts"):
        adapter.payout(request)


# -- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "retryable"), [
    (unprocessable("REFUND_AMOUNT_EXCEEDED"), False),
    ((400, {"name": "INVALID_REQUEST", "details": [{"issue": "INVALID_PARAMETER_VALUE"}]}),
     False),
    ((404, {"name": "RESOURCE_NOT_FOUND"}), False),
    ((429, {"name": "RATE_LIMIT_REACHED"}), True),
    ((500, {"name": "INTERNAL_SERVER_ERROR"}), True),
    ((503, b"<html>Service Unavailable</html>"), True),
    (requests.ConnectionError("connection refused"), True),
    (requests.ReadTimeout("read timed out"), True),
])
def test_paypals_refusals_and_silences_are_gateway_errors(paypal, gateway, answer, retryable):
    paypal.answers[("POST", REFUND)] = answer

    with pytest.raises(GatewayError) as refused:
        gateway().refund(refund_request())

    assert refused.value.extra["retryable"] is retryable


def test_a_refusal_quotes_paypals_issue_and_debug_id(paypal, gateway):
    paypal.answers[("POST", REFUND)] = unprocessable("REFUND_AMOUNT_EXCEEDED")

    with pytest.raises(GatewayError, match="HTTP 422.*REFUND_AMOUNT_EXCEEDED.*f0b1c2d3e4"):
        gateway().refund(refund_request())


def test_refused_credentials_are_not_retryable_and_not_repeated_back(paypal, gateway):
    paypal.answers[("POST", "/v1/oauth2/token")] = (401, {
        "error": "invalid_client", "error_description": "Client Authentication failed"})

    with pytest.raises(GatewayError) as refused:
        gateway().fetch_status(None, ORDER_ID)

    assert refused.value.extra["retryable"] is False
    assert "invalid_client" in refused.value.detail
    assert CREDENTIALS["client_secret"] not in str(refused.value.detail)
    assert paypal.to("GET", f"{ORDERS}/{ORDER_ID}") == []


def test_an_answer_that_is_not_json_is_a_retryable_error(paypal, gateway):
    paypal.answers[("GET", f"{ORDERS}/{ORDER_ID}")] = (200, b"<html>maintenance</html>")

    with pytest.raises(GatewayError) as refused:
        gateway().fetch_status(None, ORDER_ID)
    assert refused.value.extra["retryable"] is True
