"""The Stripe adapter, offline: webhooks signed the way Stripe signs them (HMAC-SHA256 over
``<timestamp>.<body>`` with the endpoint's ``whsec_`` secret, ``t=…,v1=…``) and Stripe's HTTP
API faked with respx. Objects are shaped like Stripe's documented ones (stripe/openapi's
fixtures), trimmed to the fields that matter here."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
import stripe

from paytrack.adapters.gateways.base import (
    CheckoutRequest,
    GatewaySettings,
    PayoutRequest,
    RefundRequest,
)
from paytrack.adapters.gateways.stripe import StripeGateway
from paytrack.domain.errors import (
    GatewayError,
    GatewayNotConfigured,
    GatewayUnsupported,
    InvalidAmount,
    ValidationFailed,
    WebhookSignatureInvalid,
)
from paytrack.domain.gateways import (
    Checkout,
    EventKind,
    GatewayEvent,
    Mode,
    Outcome,
    PaymentState,
    RemoteStatus,
)

# The SDK hands httpx a ready-made form body as ``data=``; httpx prefers ``content=``.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

SECRET = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
KEY = "sk_test_51PgafTB7WZ01zgkW"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CREATED = 1_772_000_000  # the event's ``created``
API = "https://api.stripe.com"


def settings(**changes: Any) -> GatewaySettings:
    values: dict[str, Any] = {"gateway": "stripe", "mode": Mode.TEST,
                              "credentials": {"secret_key": KEY}, "webhook_secret": SECRET}
    return GatewaySettings(**(values | changes))


@pytest.fixture
def gateway():
    adapter = StripeGateway(settings(), clock=lambda: NOW)
    yield adapter
    adapter.close()


@pytest.fixture
def api():
    with respx.mock(base_url=API, assert_all_called=True) as mock:
        yield mock


def sign(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    mac = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", secret)
    return {"stripe-signature": f"t={at},v1={mac}"}


def envelope(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({
        "id": "evt_1Pgc76B7WZ01zgkWwyRHS12y", "object": "event", "api_version": "2025-09-30.clover",
        "created": CREATED, "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": "req_8Yq1", "idempotency_key": "pay_1"}, "type": kind,
    }).encode()


def received(gateway: StripeGateway, kind: str, obj: dict[str, Any]) -> tuple[GatewayEvent, ...]:
    body = envelope(kind, obj)
    return gateway.parse_webhook(body, sign(body)).events


def intent(**fields: Any) -> dict[str, Any]:
    return {"id": "pi_3PgafyB7WZ01zgkW", "object": "payment_intent", "amount": 2599,
            "amount_capturable": 0, "amount_received": 0, "currency": "usd",
            "capture_method": "automatic", "cancellation_reason": None, "created": CREATED,
            "last_payment_error": None, "latest_charge": None, "livemode": False,
            "metadata": {"paytrack_payment_id": "pay_1", "order": "ord_7"},
            "status": "requires_payment_method"} | fields


def session(**fields: Any) -> dict[str, Any]:
    return {"id": "cs_test_a1YS1URlnyQCN5fU", "object": "checkout.session", "amount_total": 2599,
            "client_reference_id": "pay_1", "currency": "usd", "expires_at": CREATED + 3600,
            "metadata": {"paytrack_payment_id": "pay_1"}, "mode": "payment",
            "payment_intent": "pi_3PgafyB7WZ01zgkW", "payment_status": "paid",
            "status": "complete", "url": None} | fields


def refund(**fields: Any) -> dict[str, Any]:
    return {"id": "re_3PgafyB7WZ01zgkW0", "object": "refund", "amount": 1000,
            "charge": "ch_3PgafyB7WZ01zgkW", "currency": "usd", "failure_reason": None,
            "metadata": {"paytrack_refund_id": "rf_1", "paytrack_payment_id": "pay_1"},
            "payment_intent": "pi_3PgafyB7WZ01zgkW", "reason": None,
            "status": "succeeded"} | fields


def charge(**fields: Any) -> dict[str, Any]:
    return {"id": "ch_3PgafyB7WZ01zgkW", "object": "charge", "amount": 2599,
            "amount_captured": 2599, "amount_refunded": 1500, "currency": "usd",
            "metadata": {"paytrack_payment_id": "pay_1"}, "paid": True,
            "payment_intent": "pi_3PgafyB7WZ01zgkW", "refunded": False,
            "status": "succeeded"} | fields


def dispute(**fields: Any) -> dict[str, Any]:
    return {"id": "dp_1Pgc71B7WZ01zgkW", "object": "dispute", "amount": 2599,
            "balance_transactions": [], "charge": "ch_3PgafyB7WZ01zgkW", "currency": "usd",
            "metadata": {}, "payment_intent": "pi_3PgafyB7WZ01zgkW", "reason": "fraudulent",
            "status": "needs_response"} | fields


def payout_object(**fields: Any) -> dict[str, Any]:
    return {"id": "po_1Pgc79B7WZ01zgkW", "object": "payout", "amount": 1100, "currency": "usd",
            "failure_code": None, "failure_message": None,
            "metadata": {"paytrack_payout_id": "po_local_1"}, "status": "paid"} | fields


def transfer(**fields: Any) -> dict[str, Any]:
    return {"id": "tr_1Pgc7BB7WZ01zgkW", "object": "transfer", "amount": 5000,
            "amount_reversed": 0, "currency": "usd", "destination": "acct_1PgafTB7WZ01zgkW",
            "metadata": {"paytrack_payout_id": "po_local_1"}, "reversed": False} | fields


# -- signatures ------------------------------------------------------------------------------


def test_an_event_signed_with_the_endpoint_secret_is_accepted(gateway):
    body = envelope("payment_intent.processing", intent(status="processing"))

    notification = gateway.parse_webhook(body, sign(body))

    assert notification.event_id == "evt_1Pgc76B7WZ01zgkWwyRHS12y"
    assert notification.event_type == "payment_intent.processing"
    assert notification.livemode is False


def test_a_signature_a_few_minutes_old_is_still_within_the_tolerance(gateway):
    body = envelope("payment_intent.processing", intent(status="processing"))

    assert gateway.parse_webhook(body, sign(body, at=int(time.time()) - 200)).events


def test_the_signature_header_is_found_whatever_its_case(gateway):
    body = envelope("payment_intent.processing", intent(status="processing"))
    headers = {"Stripe-Signature": sign(body)["stripe-signature"]}

    assert gateway.parse_webhook(body, headers).event_type == "payment_intent.processing"


def _tampered(body):
    forged = body.replace(b'"amount_received": 2599', b'"amount_received": 9999')
    assert forged != body
    return forged, sign(body)


@pytest.mark.parametrize("forge", [
    pytest.param(_tampered, id="tampered body"),
    pytest.param(lambda body: (body, sign(body, secret="whsec_someone_else")), id="wrong secret"),
    pytest.param(lambda body: (body, sign(body, at=int(time.time()) - 301)), id="stale"),
    pytest.param(lambda body: (body, {}), id="missing header"),
    pytest.param(lambda body: (body, {"stripe-signature": ""}), id="empty header"),
    pytest.param(lambda body: (body, {"stripe-signature": "garbage"}), id="garbage header"),
    pytest.param(lambda body: (body, {"stripe-signature": "t=soon,v1=abc"}), id="bad timestamp"),
    pytest.param(lambda body: (body, {"stripe-signature": f"t={int(time.time())}"}),
                 id="no v1 signature"),
    pytest.param(lambda body: (body, {"stripe-signature": sign(body)["stripe-signature"]
                                      .replace("v1=", "v0=")}), id="other scheme"),
])
def test_an_event_not_signed_by_the_endpoint_is_refused(gateway, forge):
    body = envelope("payment_intent.succeeded",
                    intent(status="succeeded", amount_received=2599))

    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(*forge(body))


@pytest.mark.parametrize("body", [b"\xff\xfe not utf-8", b"not json", b"[]", b'"event"',
                                  b'{"object": "event", "id": "evt_1", "type": "x"}',
                                  b'{"object": "v2.core.event", "id": "evt_1"}'])
def test_a_signed_body_that_is_not_a_stripe_event_is_refused_as_a_bad_signature(gateway, body):
    headers = sign(body) if body.isascii() else {"stripe-signature": "t=1,v1=00"}

    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(body, headers)


def test_webhooks_need_the_signing_secret():
    adapter = StripeGateway(settings(webhook_secret=None), clock=lambda: NOW)
    body = envelope("payment_intent.processing", intent(status="processing"))

    with pytest.raises(GatewayNotConfigured):
        adapter.parse_webhook(body, sign(body))


# -- events ----------------------------------------------------------------------------------


def test_payment_intent_succeeded_is_a_payment_succeeded_for_the_amount_received(gateway):
    (event,) = received(gateway, "payment_intent.succeeded",
                        intent(status="succeeded", amount=2599, amount_received=2500))

    assert event == GatewayEvent(
        EventKind.PAYMENT_SUCCEEDED, gateway_payment_id="pi_3PgafyB7WZ01zgkW", payment_id="pay_1",
        amount=2500, currency="USD", fee=None,
        occurred_at=datetime.fromtimestamp(CREATED, UTC))


def test_payment_intent_payment_failed_carries_stripes_decline_reason(gateway):
    error = {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
             "message": "Your card has insufficient funds."}

    (event,) = received(gateway, "payment_intent.payment_failed",
                        intent(last_payment_error=error))

    assert event.kind is EventKind.PAYMENT_FAILED
    assert event.reason == "insufficient_funds: Your card has insufficient funds."
    assert (event.gateway_payment_id, event.payment_id, event.amount) == (
        "pi_3PgafyB7WZ01zgkW", "pay_1", 2599)


def test_payment_intent_canceled_carries_the_cancellation_reason(gateway):
    (event,) = received(gateway, "payment_intent.canceled",
                        intent(status="canceled", cancellation_reason="abandoned"))

    assert (event.kind, event.reason, event.payment_id) == (
        EventKind.PAYMENT_CANCELED, "abandoned", "pay_1")


def test_payment_intent_processing_is_a_payment_processing(gateway):
    (event,) = received(gateway, "payment_intent.processing", intent(status="processing"))

    assert (event.kind, event.amount, event.currency) == (
        EventKind.PAYMENT_PROCESSING, 2599, "USD")


def test_an_authorized_manual_capture_intent_is_a_payment_approved(gateway):
    (event,) = received(gateway, "payment_intent.amount_capturable_updated",
                        intent(status="requires_capture", capture_method="manual",
                               amount_capturable=2599))

    assert (event.kind, event.amount, event.gateway_payment_id) == (
        EventKind.PAYMENT_APPROVED, 2599, "pi_3PgafyB7WZ01zgkW")


def test_a_paid_checkout_session_is_a_payment_succeeded_keyed_by_session_and_intent(gateway):
    (event,) = received(gateway, "checkout.session.completed", session())

    assert event == GatewayEvent(
        EventKind.PAYMENT_SUCCEEDED, gateway_payment_id="pi_3PgafyB7WZ01zgkW",
        gateway_order_id="cs_test_a1YS1URlnyQCN5fU", payment_id="pay_1", amount=2599,
        currency="USD", occurred_at=datetime.fromtimestamp(CREATED, UTC))


def test_a_checkout_completed_with_a_delayed_payment_method_is_only_processing(gateway):
    (event,) = received(gateway, "checkout.session.completed", session(payment_status="unpaid"))

    assert event.kind is EventKind.PAYMENT_PROCESSING


@pytest.mark.parametrize(("kind", "expected"), [
    ("checkout.session.async_payment_succeeded", EventKind.PAYMENT_SUCCEEDED),
    ("checkout.session.async_payment_failed", EventKind.PAYMENT_FAILED),
])
def test_a_delayed_checkout_payment_settles_with_its_own_event(gateway, kind, expected):
    (event,) = received(gateway, kind, session(payment_status="unpaid"))

    assert (event.kind, event.gateway_order_id) == (expected, "cs_test_a1YS1URlnyQCN5fU")


def test_a_checkout_session_without_paytracks_metadata_is_known_by_its_client_reference(
        gateway):
    (event,) = received(gateway, "checkout.session.completed", session(metadata={}))

    assert event.payment_id == "pay_1"


def test_an_expired_checkout_session_cancels_the_payment(gateway):
    (event,) = received(gateway, "checkout.session.expired",
                        session(status="expired", payment_status="unpaid", payment_intent=None))

    assert (event.kind, event.reason, event.gateway_order_id, event.payment_id) == (
        EventKind.PAYMENT_CANCELED, "checkout expired", "cs_test_a1YS1URlnyQCN5fU", "pay_1")


def test_charge_refunded_gives_one_refund_succeeded_per_succeeded_refund(gateway):
    refunds = {"object": "list", "has_more": False, "url": "/v1/refunds", "data": [
        refund(id="re_a", amount=1000, metadata={"paytrack_refund_id": "rf_1"}),
        refund(id="re_b", amount=500, metadata={}),
        refund(id="re_c", amount=700, status="pending", metadata={"paytrack_refund_id": "rf_3"}),
    ]}

    events = received(gateway, "charge.refunded", charge(refunds=refunds))

    assert [(e.kind, e.gateway_refund_id, e.refund_id, e.amount) for e in events] == [
        (EventKind.REFUND_SUCCEEDED, "re_a", "rf_1", 1000),
        (EventKind.REFUND_SUCCEEDED, "re_b", None, 500),
    ]
    assert {(e.gateway_payment_id, e.payment_id, e.currency) for e in events} == {
        ("pi_3PgafyB7WZ01zgkW", "pay_1", "USD")}


def test_charge_refunded_without_its_refunds_gives_the_amount_refunded_so_far(gateway):
    (event,) = received(gateway, "charge.refunded", charge(amount_refunded=1500))

    assert (event.kind, event.amount, event.gateway_refund_id, event.refund_id,
            event.gateway_payment_id) == (
        EventKind.REFUND_SUCCEEDED, 1500, None, None, "pi_3PgafyB7WZ01zgkW")


@pytest.mark.parametrize("kind", ["refund.created", "refund.updated", "charge.refund.updated",
                                  "refund.failed"])
@pytest.mark.parametrize(("status", "failure", "expected", "reason"), [
    ("succeeded", None, EventKind.REFUND_SUCCEEDED, None),
    ("failed", "expired_or_canceled_card", EventKind.REFUND_FAILED, "expired_or_canceled_card"),
    ("canceled", None, EventKind.REFUND_FAILED, "canceled"),
])
def test_a_refund_event_reports_the_refunds_outcome(gateway, kind, status, failure, expected,
                                                    reason):
    (event,) = received(gateway, kind, refund(status=status, failure_reason=failure))

    assert event == GatewayEvent(
        expected, gateway_payment_id="pi_3PgafyB7WZ01zgkW", payment_id="pay_1",
        gateway_refund_id="re_3PgafyB7WZ01zgkW0", refund_id="rf_1", amount=1000, currency="USD",
        reason=reason, occurred_at=datetime.fromtimestamp(CREATED, UTC))


@pytest.mark.parametrize("status", ["pending", "requires_action"])
def test_a_refund_still_under_way_reports_nothing(gateway, status):
    assert received(gateway, "refund.updated", refund(status=status)) == ()


def test_a_new_dispute_is_opened_with_stripes_dispute_fee(gateway):
    withdrawal = {"id": "txn_1", "object": "balance_transaction", "amount": -2599,
                  "currency": "usd", "fee": 1500, "net": -4099, "type": "adjustment"}

    (event,) = received(gateway, "charge.dispute.created",
                        dispute(balance_transactions=[withdrawal]))

    assert event == GatewayEvent(
        EventKind.DISPUTE_OPENED, gateway_payment_id="pi_3PgafyB7WZ01zgkW",
        gateway_dispute_id="dp_1Pgc71B7WZ01zgkW", amount=2599, currency="USD", fee=1500,
        reason="fraudulent", occurred_at=datetime.fromtimestamp(CREATED, UTC))


def test_a_dispute_fee_settled_in_another_currency_is_not_taken_as_the_disputes(gateway):
    withdrawal = {"id": "txn_1", "object": "balance_transaction", "amount": -2400,
                  "currency": "eur", "fee": 1500}

    (event,) = received(gateway, "charge.dispute.created",
                        dispute(balance_transactions=[withdrawal]))

    assert event.fee is None


@pytest.mark.parametrize(("status", "expected"), [
    ("won", EventKind.DISPUTE_WON), ("warning_closed", EventKind.DISPUTE_WON),
    ("lost", EventKind.DISPUTE_LOST),
])
def test_a_closed_dispute_is_won_or_lost(gateway, status, expected):
    (event,) = received(gateway, "charge.dispute.closed", dispute(status=status))

    assert (event.kind, event.gateway_dispute_id, event.amount) == (
        expected, "dp_1Pgc71B7WZ01zgkW", 2599)


def test_payout_paid_and_failed_name_paytracks_payout(gateway):
    (paid,) = received(gateway, "payout.paid", payout_object())
    (failed,) = received(gateway, "payout.failed", payout_object(
        status="failed", failure_code="account_closed",
        failure_message="The bank account has been closed"))

    assert (paid.kind, paid.gateway_payout_id, paid.payout_id, paid.amount, paid.currency) == (
        EventKind.PAYOUT_PAID, "po_1Pgc79B7WZ01zgkW", "po_local_1", 1100, "USD")
    assert (failed.kind, failed.reason) == (
        EventKind.PAYOUT_FAILED, "The bank account has been closed")


def test_a_transfer_reversed_in_full_is_a_failed_payout_and_a_partial_reversal_is_not(gateway):
    (event,) = received(gateway, "transfer.reversed",
                        transfer(reversed=True, amount_reversed=5000))

    assert (event.kind, event.gateway_payout_id, event.payout_id, event.amount) == (
        EventKind.PAYOUT_FAILED, "tr_1Pgc7BB7WZ01zgkW", "po_local_1", 5000)
    assert received(gateway, "transfer.reversed", transfer(amount_reversed=1000)) == ()


def test_an_event_type_paytrack_does_not_act_on_has_no_events(gateway):
    body = envelope("customer.created", {"id": "cus_1", "object": "customer"})

    notification = gateway.parse_webhook(body, sign(body))

    assert (notification.event_type, notification.events) == ("customer.created", ())


@pytest.mark.parametrize(("currency", "stripe_amount", "iso_amount"), [
    ("jpy", 5000, 5000),  # zero-decimal in both
    ("isk", 50000, 500),  # ISO 0 decimals, two at Stripe: 500 ISK is 50000
    ("ugx", 700, 7),
    ("kwd", 1230, 1230),  # three decimals in both
])
def test_event_amounts_convert_from_stripes_units_to_iso_minor_units(gateway, currency,
                                                                     stripe_amount, iso_amount):
    (paid,) = received(gateway, "payment_intent.succeeded", intent(
        status="succeeded", currency=currency, amount=stripe_amount,
        amount_received=stripe_amount))
    (refunded,) = received(gateway, "refund.updated",
                           refund(currency=currency, amount=stripe_amount))

    assert (paid.amount, paid.currency) == (iso_amount, currency.upper())
    assert (refunded.amount, refunded.currency) == (iso_amount, currency.upper())


@pytest.mark.parametrize(("fields", "says"), [
    ({"currency": "isk", "amount_received": 550}, "fraction of the ISO 4217 minor unit"),
    ({"amount_received": "25.99"}, "amount_received is not a whole"),
    ({"amount_received": 25.99}, "amount_received is not a whole"),
    ({"amount_received": None}, "amount_received is not a whole"),
    ({"currency": None}, "has no currency"),
    ({"currency": "xyz"}, "not an ISO-4217"),
])
def test_a_malformed_amount_in_a_signed_event_is_a_validation_error_not_a_bad_signature(
        gateway, fields, says):
    with pytest.raises(ValidationFailed, match=says):
        received(gateway, "payment_intent.succeeded", intent(status="succeeded", **fields))


# -- the API ---------------------------------------------------------------------------------


def form(call: respx.models.Call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.content.decode()).items()}


def checkout_request(**fields: Any) -> CheckoutRequest:
    values: dict[str, Any] = {
        "payment_id": "pay_1", "amount": 2599, "currency": "USD", "description": "Course: Rust",
        "customer_id": "cust_1", "seller_id": "sel_1", "expires_at": NOW + timedelta(hours=2),
        "return_url": "http://127.0.0.1:8000/pay/pay_1/return", "metadata": {"order": "ord_7"}}
    return CheckoutRequest(**(values | fields))


def echo_session(request: httpx.Request) -> httpx.Response:
    sent = {key: values[0] for key, values in parse_qs(request.content.decode()).items()}
    return httpx.Response(200, json=session(
        status="open", payment_status="unpaid", payment_intent=None,
        expires_at=int(sent["expires_at"]), url="https://checkout.stripe.com/c/pay/cs_test_a1"))


def test_create_checkout_sends_a_checkout_session_in_stripes_units(gateway, api):
    route = api.post("/v1/checkout/sessions").mock(side_effect=echo_session)

    checkout = gateway.create_checkout(checkout_request(amount=5, currency="ISK"))

    assert checkout == Checkout(payment_url="https://checkout.stripe.com/c/pay/cs_test_a1",
                                expires_at=NOW + timedelta(hours=2),
                                gateway_order_id="cs_test_a1YS1URlnyQCN5fU")
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "pay_1"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert form(route.calls.last) == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "isk",
        "line_items[0][price_data][unit_amount]": "500",  # 5 ISK
        "line_items[0][price_data][product_data][name]": "Course: Rust",
        "expires_at": str(int((NOW + timedelta(hours=2)).timestamp())),
        "success_url": "http://127.0.0.1:8000/pay/pay_1/return",
        "cancel_url": "http://127.0.0.1:8000/pay/pay_1/return",
        "client_reference_id": "pay_1",
        "metadata[order]": "ord_7",
        "metadata[paytrack_payment_id]": "pay_1",
        "payment_intent_data[metadata][order]": "ord_7",
        "payment_intent_data[metadata][paytrack_payment_id]": "pay_1",
    }


@pytest.mark.parametrize(("asked", "expected"), [
    (NOW + timedelta(minutes=5), NOW + timedelta(minutes=31)),  # Stripe's least is 30 minutes
    (NOW - timedelta(hours=1), NOW + timedelta(minutes=31)),
    (NOW + timedelta(days=3), NOW + timedelta(hours=23, minutes=59)),  # and its most 24 hours
    (NOW + timedelta(hours=5), NOW + timedelta(hours=5)),
])
def test_the_checkout_expiry_is_clamped_into_the_window_stripe_accepts(gateway, api, asked,
                                                                       expected):
    route = api.post("/v1/checkout/sessions").mock(side_effect=echo_session)

    checkout = gateway.create_checkout(checkout_request(expires_at=asked))

    assert form(route.calls.last)["expires_at"] == str(int(expected.timestamp()))
    assert checkout.expires_at == expected


def test_paytracks_payment_id_in_the_metadata_cannot_be_overridden_by_the_callers(gateway, api):
    route = api.post("/v1/checkout/sessions").mock(side_effect=echo_session)

    gateway.create_checkout(checkout_request(metadata={"paytrack_payment_id": "pay_other"}))

    assert form(route.calls.last)["metadata[paytrack_payment_id]"] == "pay_1"


def test_every_request_has_a_timeout(gateway, api):
    route = api.post("/v1/checkout/sessions").mock(side_effect=echo_session)

    gateway.create_checkout(checkout_request())

    timeout = route.calls.last.request.extensions["timeout"]
    assert all(timeout[phase] for phase in ("connect", "read", "write", "pool"))


def test_requests_go_through_the_http_client_given():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return echo_session(request)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        adapter = StripeGateway(settings(), http=http, clock=lambda: NOW)
        adapter.create_checkout(checkout_request())

    assert [str(request.url) for request in seen] == [f"{API}/v1/checkout/sessions"]


@pytest.mark.parametrize("configured", [
    pytest.param(settings(credentials={}), id="no secret key"),
    pytest.param(settings(credentials={"secret_key": "sk_live_51Pg"}), id="a live key in test"),
    pytest.param(settings(mode=Mode.LIVE), id="a test key in live"),
])
def test_a_gateway_without_a_usable_key_is_not_configured_and_sends_nothing(api, configured):
    adapter = StripeGateway(configured, clock=lambda: NOW)

    with pytest.raises(GatewayNotConfigured):
        adapter.create_checkout(checkout_request())
    assert not api.calls


def test_an_amount_stripe_cannot_take_is_refused_before_any_request(gateway, api):
    with pytest.raises(InvalidAmount):
        gateway.create_checkout(checkout_request(amount=1234, currency="MGA"))  # 12.34 ariary
    assert not api.calls


def refund_request(**fields: Any) -> RefundRequest:
    values: dict[str, Any] = {"refund_id": "rf_1", "payment_id": "pay_1",
                              "gateway_payment_id": "pi_3PgafyB7WZ01zgkW",
                              "gateway_order_id": "cs_test_a1YS1URlnyQCN5fU", "amount": 7,
                              "currency": "UGX", "reason": "requested_by_customer"}
    return RefundRequest(**(values | fields))


@pytest.mark.parametrize(("status", "failure", "outcome", "reason"), [
    ("succeeded", None, Outcome.SUCCEEDED, None),
    ("pending", None, Outcome.PENDING, None),
    ("requires_action", None, Outcome.PENDING, None),
    ("failed", "lost_or_stolen_card", Outcome.FAILED, "lost_or_stolen_card"),
    ("canceled", None, Outcome.FAILED, "canceled"),
])
def test_a_refund_is_sent_once_per_refund_id_and_its_status_mapped(gateway, api, status, failure,
                                                                   outcome, reason):
    route = api.post("/v1/refunds").respond(200, json=refund(
        amount=700, currency="ugx", status=status, failure_reason=failure))

    result = gateway.refund(refund_request())

    assert (result.outcome, result.gateway_refund_id, result.reason) == (
        outcome, "re_3PgafyB7WZ01zgkW0", reason)
    assert route.calls.last.request.headers["Idempotency-Key"] == "rf_1"
    assert form(route.calls.last) == {
        "payment_intent": "pi_3PgafyB7WZ01zgkW", "amount": "700",  # 7 UGX
        "metadata[paytrack_refund_id]": "rf_1", "metadata[paytrack_payment_id]": "pay_1"}


def test_a_refund_known_only_by_its_checkout_session_refunds_the_sessions_intent(gateway, api):
    api.get("/v1/checkout/sessions/cs_test_a1YS1URlnyQCN5fU").respond(200, json=session())
    route = api.post("/v1/refunds").respond(200, json=refund())

    gateway.refund(refund_request(gateway_payment_id=None))

    assert form(route.calls.last)["payment_intent"] == "pi_3PgafyB7WZ01zgkW"


def stripe_error(status: int, kind: str, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"type": kind, "code": code,
                                                  "message": message}})


@pytest.mark.parametrize(("answer", "retryable"), [
    pytest.param(stripe_error(402, "card_error", "expired_card", "The card has expired."), False,
                 id="card error"),
    pytest.param(stripe_error(400, "invalid_request_error", "charge_already_refunded",
                              "Charge has already been refunded."), False, id="invalid request"),
    pytest.param(stripe_error(401, "invalid_request_error", "api_key_invalid",
                              "Invalid API Key provided: sk_test_****zgkW"), False,
                 id="bad key"),
    pytest.param(stripe_error(429, "invalid_request_error", "rate_limit", "Too many requests"),
                 True, id="rate limited"),
    pytest.param(stripe_error(500, "api_error", "", "Something went wrong on Stripe's end."),
                 True, id="stripe failed"),
    pytest.param(httpx.Response(503, text="<html>upstream unavailable</html>"), True,
                 id="not json"),
    pytest.param(httpx.ConnectError("connection refused"), True, id="unreachable"),
    pytest.param(httpx.ReadTimeout("timed out"), True, id="timed out"),
])
def test_stripes_refusals_are_final_and_its_failures_retryable(gateway, api, answer, retryable):
    route = api.post("/v1/refunds")
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)

    with pytest.raises(GatewayError) as raised:
        gateway.refund(refund_request())

    assert raised.value.extra == {"retryable": retryable}
    assert KEY not in raised.value.detail
    assert len(route.calls) == 1  # no retry behind paytrack's back


def test_a_card_error_says_what_stripe_said(gateway, api):
    api.post("/v1/refunds").mock(return_value=stripe_error(
        402, "card_error", "expired_card", "The card has expired."))

    with pytest.raises(GatewayError, match=r"HTTP 402 \(expired_card\): The card has expired"):
        gateway.refund(refund_request())


def payout_request(**fields: Any) -> PayoutRequest:
    values: dict[str, Any] = {"payout_id": "po_local_1", "seller_id": "sel_1", "amount": 5000,
                              "currency": "HUF", "method": "stripe_connect",
                              "destination": {"account_id": "acct_1PgafTB7WZ01zgkW"}}
    return PayoutRequest(**(values | fields))


def test_a_payout_is_a_connect_transfer_to_the_sellers_account(gateway, api):
    route = api.post("/v1/transfers").respond(200, json=transfer(currency="huf"))

    result = gateway.payout(payout_request())

    assert (result.outcome, result.gateway_payout_id) == (Outcome.SUCCEEDED, "tr_1Pgc7BB7WZ01zgkW")
    assert route.calls.last.request.headers["Idempotency-Key"] == "po_local_1"
    assert form(route.calls.last) == {
        "amount": "5000", "currency": "huf", "destination": "acct_1PgafTB7WZ01zgkW",
        "metadata[paytrack_payout_id]": "po_local_1", "metadata[paytrack_seller_id]": "sel_1"}


@pytest.mark.parametrize("destination", [{}, {"account_id": ""}, {"account_id": "ba_123"}])
def test_a_payout_without_a_connected_account_is_refused_before_any_request(gateway, api,
                                                                            destination):
    with pytest.raises(GatewayError, match="connected account") as raised:
        gateway.payout(payout_request(destination=destination))
    assert raised.value.extra == {"retryable": False}
    assert not api.calls


def test_a_payout_stripe_cannot_pay_in_whole_units_is_refused(gateway, api):
    with pytest.raises(InvalidAmount, match="whole HUF"):
        gateway.payout(payout_request(amount=5050))
    assert not api.calls


def test_stripe_pays_out_through_connect_only(gateway, api):
    with pytest.raises(GatewayUnsupported):
        gateway.payout(payout_request(method="bank_transfer"))
    assert not api.calls


@pytest.mark.parametrize(("fields", "expected"), [
    ({"status": "requires_payment_method"}, PaymentState(RemoteStatus.PENDING, amount=2599)),
    ({"status": "requires_payment_method",
      "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}},
     PaymentState(RemoteStatus.PENDING, amount=2599,
                  reason="card_declined: Your card was declined.")),
    ({"status": "requires_action"}, PaymentState(RemoteStatus.PENDING, amount=2599)),
    ({"status": "processing"}, PaymentState(RemoteStatus.PROCESSING, amount=2599)),
    ({"status": "requires_capture", "amount_capturable": 2599},
     PaymentState(RemoteStatus.PENDING, amount=2599, reason="requires_capture")),
    ({"status": "canceled", "cancellation_reason": "duplicate"},
     PaymentState(RemoteStatus.CANCELED, amount=2599, reason="duplicate")),
    ({"status": "succeeded", "amount_received": 2599, "latest_charge": {
        "id": "ch_1", "object": "charge", "balance_transaction": {
            "id": "txn_1", "object": "balance_transaction", "currency": "usd", "fee": 105}}},
     PaymentState(RemoteStatus.SUCCEEDED, amount=2599, fee=105)),
])
def test_fetch_status_maps_the_payment_intents_status(gateway, api, fields, expected):
    route = api.get("/v1/payment_intents/pi_3PgafyB7WZ01zgkW").respond(200, json=intent(**fields))

    state = gateway.fetch_status("pi_3PgafyB7WZ01zgkW", "cs_test_a1YS1URlnyQCN5fU")

    assert state == PaymentState(expected.status, gateway_payment_id="pi_3PgafyB7WZ01zgkW",
                                 amount=expected.amount, currency="USD", fee=expected.fee,
                                 reason=expected.reason)
    assert route.calls.last.request.url.params["expand[0]"] == "latest_charge.balance_transaction"


def test_fetch_status_by_checkout_session_reads_its_payment_intent(gateway, api):
    paid = intent(status="succeeded", amount_received=2599)
    api.get("/v1/checkout/sessions/cs_test_a1YS1URlnyQCN5fU").respond(
        200, json=session(payment_intent=paid))

    state = gateway.fetch_status(None, "cs_test_a1YS1URlnyQCN5fU")

    assert (state.status, state.gateway_payment_id, state.amount) == (
        RemoteStatus.SUCCEEDED, "pi_3PgafyB7WZ01zgkW", 2599)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"status": "open", "payment_status": "unpaid", "payment_intent": None},
     RemoteStatus.PENDING),
    ({"status": "expired", "payment_status": "unpaid", "payment_intent": None},
     RemoteStatus.CANCELED),
    ({"status": "expired", "payment_status": "unpaid",
      "payment_intent": intent(status="requires_payment_method")}, RemoteStatus.CANCELED),
])
def test_a_checkout_session_not_paid_is_pending_until_it_expires(gateway, api, fields, expected):
    api.get("/v1/checkout/sessions/cs_test_a1YS1URlnyQCN5fU").respond(200, json=session(**fields))

    assert gateway.fetch_status(None, "cs_test_a1YS1URlnyQCN5fU").status is expected


def test_a_malformed_answer_from_stripe_is_a_gateway_error(gateway, api):
    api.get("/v1/payment_intents/pi_3PgafyB7WZ01zgkW").respond(
        200, json=intent(status="succeeded", amount_received=None))

    with pytest.raises(GatewayError, match="amount_received"):
        gateway.fetch_status("pi_3PgafyB7WZ01zgkW", None)


def test_capture_takes_the_amount_in_stripes_units(gateway, api):
    route = api.post("/v1/payment_intents/pi_3PgafyB7WZ01zgkW/capture").respond(
        200, json=intent(status="succeeded", currency="jpy", amount=3000, amount_received=3000))

    state = gateway.capture("pi_3PgafyB7WZ01zgkW", None, 3000, "JPY")

    assert (state.status, state.amount, state.currency) == (RemoteStatus.SUCCEEDED, 3000, "JPY")
    assert form(route.calls.last)["amount_to_capture"] == "3000"
    assert route.calls.last.request.headers["Idempotency-Key"] == "pi_3PgafyB7WZ01zgkW-capture"
