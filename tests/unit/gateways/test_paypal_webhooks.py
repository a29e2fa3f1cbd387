"""PayPal webhooks: signed exactly as PayPal signs them (SHA256withRSA over
``id|time|webhook id|crc32(body)``) with a test key, its certificate served by respx at a
paypal.com URL; each event type lands as the right normalized event."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from paytrack.adapters.gateways.base import GatewaySettings
from paytrack.adapters.gateways.paypal import PayPalGateway
from paytrack.adapters.gateways.paypal_signatures import certificate_cache
from paytrack.domain.errors import WebhookSignatureInvalid
from paytrack.domain.gateways import EventKind, Mode
from paytrack.domain.ids import new_id

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WEBHOOK_ID = "1JE4291016473214C"
CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
SANDBOX = "https://api-m.sandbox.paypal.com"
PAYMENT_ID = new_id("pay")
REFUND_ID = new_id("re")


def _certificate(key: rsa.RSAPrivateKey, not_before: datetime, not_after: datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         "messageverificationcerts.paypal.com")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(key) -> bytes:
    return _certificate(key, NOW - timedelta(days=30), NOW + timedelta(days=300))


@pytest.fixture(autouse=True)
def _empty_certificate_cache():
    certificate_cache.clear()
    yield
    certificate_cache.clear()


@pytest.fixture
def paypal():
    """respx faking PayPal; the certificate served at CERT_URL."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def cert_route(paypal, pem):
    return paypal.get(CERT_URL).respond(200, content=pem)


def gateway(verification: str = "local", *, webhook_id: str = WEBHOOK_ID,
            now: datetime = NOW) -> PayPalGateway:
    settings = GatewaySettings("paypal", Mode.TEST, {
        "client_id": "client-id", "client_secret": "client-secret", "webhook_id": webhook_id,
        "verification": verification})
    return PayPalGateway(settings, http=httpx.Client(), clock=lambda: now)


def signed(event: dict, key: rsa.RSAPrivateKey, *, webhook_id: str = WEBHOOK_ID,
           sent_at: datetime = NOW, cert_url: str = CERT_URL) -> tuple[bytes, dict[str, str]]:
    """A delivery as PayPal sends it: the raw body and its signature headers."""
    body = json.dumps(event, indent=1).encode()
    transmission_id = "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
    sent = sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    message = f"{transmission_id}|{sent}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}"
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return body, {
        "Content-Type": "application/json",
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": sent,
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
    }


def event(event_type: str, resource: dict, event_id: str = "WH-58D329510W468432D") -> dict:
    return {"id": event_id, "event_version": "1.0", "create_time": "2026-03-02T11:59:58.000Z",
            "resource_type": "capture", "resource_version": "2.0", "event_type": event_type,
            "summary": "…", "resource": resource}


def capture(status: str = "COMPLETED", **extra) -> dict:
    return {
        "id": "2GG279541U471931P", "status": status,
        "amount": {"currency_code": "USD", "value": "23.99"},
        "final_capture": True,
        "seller_receivable_breakdown": {
            "gross_amount": {"currency_code": "USD", "value": "23.99"},
            "paypal_fee": {"currency_code": "USD", "value": "1.36"},
            "net_amount": {"currency_code": "USD", "value": "22.63"}},
        "supplementary_data": {"related_ids": {"order_id": "1W5313654M9708630"}},
        "custom_id": PAYMENT_ID, "invoice_id": PAYMENT_ID,
        "links": [
            {"href": "https://api.paypal.com/v2/payments/captures/2GG279541U471931P",
             "rel": "self", "method": "GET"},
            {"href": "https://api.paypal.com/v2/checkout/orders/1W5313654M9708630",
             "rel": "up", "method": "GET"}],
        **extra,
    }


def dispute(**extra) -> dict:
    return {
        "dispute_id": "PP-D-40523", "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        "status": "WAITING_FOR_SELLER_RESPONSE",
        "disputed_transactions": [{"seller_transaction_id": "2GG279541U471931P",
                                   "buyer_transaction_id": "35703532VD052404F",
                                   "gross_amount": {"currency_code": "USD", "value": "23.99"}}],
        "dispute_amount": {"currency_code": "USD", "value": "23.99"},
        "dispute_life_cycle_stage": "CHARGEBACK", "dispute_channel": "INTERNAL",
        **extra,
    }


# -- accepted and translated ------------------------------------------------------------

def test_a_completed_capture_is_a_succeeded_payment_with_paypals_fee(key, cert_route):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    notification = gateway().parse_webhook(body, headers)

    assert notification.event_id == "WH-58D329510W468432D"
    assert notification.event_type == "PAYMENT.CAPTURE.COMPLETED"
    [found] = notification.events
    assert found.kind is EventKind.PAYMENT_SUCCEEDED
    assert found.gateway_payment_id == "2GG279541U471931P"
    assert found.gateway_order_id == "1W5313654M9708630"
    assert found.payment_id == PAYMENT_ID
    assert (found.amount, found.currency, found.fee) == (2399, "USD", 136)
    assert found.occurred_at == datetime(2026, 3, 2, 11, 59, 58, tzinfo=UTC)


def test_a_denied_capture_is_a_failed_payment_with_paypals_reason(key, cert_route):
    resource = capture("DECLINED", status_details={"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"})
    body, headers = signed(event("PAYMENT.CAPTURE.DENIED", resource), key)

    [found] = gateway().parse_webhook(body, headers).events

    assert found.kind is EventKind.PAYMENT_FAILED
    assert found.payment_id == PAYMENT_ID
    assert found.reason == "DECLINED_BY_RISK_FRAUD_FILTERS"


def test_a_pending_capture_is_a_processing_payment(key, cert_route):
    resource = capture("PENDING", status_details={"reason": "PENDING_REVIEW"})
    body, headers = signed(event("PAYMENT.CAPTURE.PENDING", resource), key)

    [found] = gateway().parse_webhook(body, headers).events

    assert found.kind is EventKind.PAYMENT_PROCESSING
    assert (found.gateway_payment_id, found.reason) == ("2GG279541U471931P", "PENDING_REVIEW")


def test_an_approved_order_is_an_approved_payment_for_paytrack_to_capture(key, cert_route):
    order = {"id": "5O190127TN364715T", "status": "APPROVED", "intent": "CAPTURE",
             "purchase_units": [{"reference_id": PAYMENT_ID, "custom_id": PAYMENT_ID,
                                 "amount": {"currency_code": "JPY", "value": "1500"}}]}
    body, headers = signed(event("CHECKOUT.ORDER.APPROVED", order), key)

    [found] = gateway().parse_webhook(body, headers).events

    assert found.kind is EventKind.PAYMENT_APPROVED
    assert found.gateway_order_id == "5O190127TN364715T"
    assert found.payment_id == PAYMENT_ID
    assert (found.amount, found.currency) == (1500, "JPY")


def test_a_refunded_capture_names_the_refund_and_its_capture(key, cert_route):
    refund = {"id": "1Y107995YT783435V", "status": "COMPLETED",
              "amount": {"currency_code": "USD", "value": "10.00"},
              "custom_id": REFUND_ID, "invoice_id": REFUND_ID,
              "links": [{"href": "https://api.paypal.com/v2/payments/refunds/1Y107995YT783435V",
                         "rel": "self", "method": "GET"},
                        {"href": "https://api.paypal.com/v2/payments/captures/2GG279541U471931P",
                         "rel": "up", "method": "GET"}]}
    body, headers = signed(event("PAYMENT.CAPTURE.REFUNDED", refund), key)

    [found] = gateway().parse_webhook(body, headers).events

    assert found.kind is EventKind.REFUND_SUCCEEDED
    assert found.gateway_refund_id == "1Y107995YT783435V"
    assert found.gateway_payment_id == "2GG279541U471931P"
    assert found.refund_id == REFUND_ID
    assert (found.amount, found.currency) == (1000, "USD")


def test_a_refund_made_at_paypal_names_no_paytrack_refund(key, cert_route):
    refund = {"id": "1Y107995YT783435V", "status": "COMPLETED", "invoice_id": "INV-2026-17",
              "amount": {"currency_code": "USD", "value": "10.00"},
              "links": [{"href": "https://api.paypal.com/v2/payments/captures/2GG279541U471931P",
                         "rel": "up", "method": "GET"}]}
    body, headers = signed(event("PAYMENT.CAPTURE.REFUNDED", refund), key)

    [found] = gateway().parse_webhook(body, headers).events

    assert found.refund_id is None
    assert found.gateway_payment_id == "2GG279541U471931P"


def test_a_new_dispute_is_opened_against_the_disputed_capture(key, cert_route):
    body, headers = signed(event("CUSTOMER.DISPUTE.CREATED", dispute()), key)

    [found] = gateway().parse_webhook(body, headers).events

    assert found.kind is EventKind.DISPUTE_OPENED
    assert found.gateway_dispute_id == "PP-D-40523"
    assert found.gateway_payment_id == "2GG279541U471931P"
    assert (found.amount, found.currency) == (2399, "USD")
    assert found.reason == "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"


@pytest.mark.parametrize(("outcome", "kind", "amount"), [
    ({"outcome_code": "RESOLVED_SELLER_FAVOUR"}, EventKind.DISPUTE_WON, 2399),
    ({"outcome_code": "CANCELED_BY_BUYER"}, EventKind.DISPUTE_WON, 2399),
    ({"outcome_code": "RESOLVED_BUYER_FAVOUR"}, EventKind.DISPUTE_LOST, 2399),
    ({"outcome_code": "RESOLVED_BUYER_FAVOUR",
      "amount_refunded": {"currency_code": "USD", "value": "12.00"}},
     EventKind.DISPUTE_LOST, 1200),
])
def test_a_resolved_dispute_is_won_or_lost_by_its_outcome(key, cert_route, outcome, kind, amount):
    resource = dispute(status="RESOLVED", dispute_outcome=outcome)
    body, headers = signed(event("CUSTOMER.DISPUTE.RESOLVED", resource), key)

    [found] = gateway().parse_webhook(body, headers).events

    assert found.kind is kind
    assert (found.gateway_dispute_id, found.gateway_payment_id) == ("PP-D-40523",
                                                                    "2GG279541U471931P")
    assert found.amount == amount


@pytest.mark.parametrize("event_type", ["CHECKOUT.ORDER.COMPLETED", "PAYMENT.CAPTURE.REVERSED",
                                        "BILLING.SUBSCRIPTION.CREATED"])
def test_other_event_types_are_accepted_with_nothing_to_do(key, cert_route, event_type):
    body, headers = signed(event(event_type, capture()), key)

    notification = gateway().parse_webhook(body, headers)

    assert notification.event_type == event_type
    assert notification.events == ()


# -- refused ----------------------------------------------------------------------------

def test_a_tampered_body_is_refused(key, cert_route):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)
    tampered = body.replace(b'"23.99"', b'"93.99"')

    with pytest.raises(WebhookSignatureInvalid, match="does not match"):
        gateway().parse_webhook(tampered, headers)


def test_a_delivery_for_another_webhook_is_refused(key, cert_route):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key,
                           webhook_id="8PT597110X687430L")

    with pytest.raises(WebhookSignatureInvalid, match="does not match"):
        gateway().parse_webhook(body, headers)


def test_a_signature_by_another_key_is_refused(other_key, cert_route):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), other_key)

    with pytest.raises(WebhookSignatureInvalid, match="does not match"):
        gateway().parse_webhook(body, headers)


@pytest.mark.parametrize("skew", [timedelta(seconds=301), timedelta(seconds=-301),
                                  timedelta(days=2)])
def test_a_stale_or_future_transmission_is_refused(key, cert_route, skew):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key,
                           sent_at=NOW - skew)

    with pytest.raises(WebhookSignatureInvalid, match="transmission-time"):
        gateway().parse_webhook(body, headers)
    assert not cert_route.called


def test_a_transmission_within_the_tolerance_is_accepted(key, cert_route):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key,
                           sent_at=NOW - timedelta(seconds=299))

    assert gateway().parse_webhook(body, headers).events


@pytest.mark.parametrize("cert_url", [
    "https://evil.example.com/v1/notifications/certs/CERT-1",
    "http://api.paypal.com/v1/notifications/certs/CERT-1",
    "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
    "https://notpaypal.com/v1/notifications/certs/CERT-1",
    "https://api.paypal.com@evil.example/v1/notifications/certs/CERT-1",
    "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
    "https://someone@api.paypal.com/v1/notifications/certs/CERT-1",
])
def test_a_certificate_url_off_paypal_is_refused_without_fetching_it(key, paypal, cert_url):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key,
                           cert_url=cert_url)

    with pytest.raises(WebhookSignatureInvalid, match="not an https URL on paypal.com"):
        gateway().parse_webhook(body, headers)
    assert paypal.calls.call_count == 0


def test_an_expired_certificate_is_refused(key, paypal):
    expired = _certificate(key, NOW - timedelta(days=400), NOW - timedelta(days=1))
    paypal.get(CERT_URL).respond(200, content=expired)
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    with pytest.raises(WebhookSignatureInvalid, match="certificate is not valid now"):
        gateway().parse_webhook(body, headers)


def test_a_certificate_that_cannot_be_fetched_is_refused(key, paypal):
    paypal.get(CERT_URL).respond(404)
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    with pytest.raises(WebhookSignatureInvalid, match="could not be fetched"):
        gateway().parse_webhook(body, headers)


@pytest.mark.parametrize("header", ["PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
                                    "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO",
                                    "PAYPAL-TRANSMISSION-SIG"])
def test_a_delivery_missing_a_signature_header_is_refused(key, paypal, header):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)
    del headers[header]

    with pytest.raises(WebhookSignatureInvalid, match=f"{header.lower()} header is missing"):
        gateway().parse_webhook(body, headers)


@pytest.mark.parametrize(("header", "value", "says"), [
    ("PAYPAL-AUTH-ALGO", "SHA1withRSA", "is not SHA256withRSA"),
    ("PAYPAL-TRANSMISSION-SIG", "not base64!", "not base64"),
    ("PAYPAL-TRANSMISSION-TIME", "yesterday", "not a date-time"),
    ("PAYPAL-TRANSMISSION-TIME", "2026-03-02T12:00:00", "not a date-time"),  # no time zone
])
def test_a_malformed_signature_header_is_refused(key, cert_route, header, value, says):
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)
    headers[header] = value

    with pytest.raises(WebhookSignatureInvalid, match=says):
        gateway().parse_webhook(body, headers)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe", b"[" * 100_000])
def test_a_body_that_is_not_a_json_object_is_refused(key, cert_route, body):
    _, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    with pytest.raises(WebhookSignatureInvalid):
        gateway().parse_webhook(body, headers)


def test_a_signed_event_with_an_amount_paytrack_cannot_read_is_refused(key, cert_route):
    resource = capture(amount={"currency_code": "USD", "value": "23.999"})
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", resource), key)

    with pytest.raises(WebhookSignatureInvalid, match="cannot be read"):
        gateway().parse_webhook(body, headers)


# -- the certificate --------------------------------------------------------------------

def test_the_certificate_is_fetched_once_and_cached_for_the_next_delivery(key, cert_route):
    first = signed(event("PAYMENT.CAPTURE.COMPLETED", capture(), event_id="WH-1"), key)
    second = signed(event("PAYMENT.CAPTURE.COMPLETED", capture(), event_id="WH-2"), key)

    gateway().parse_webhook(*first)
    notification = gateway().parse_webhook(*second)  # another adapter, the same process

    assert notification.event_id == "WH-2"
    assert cert_route.call_count == 1


def test_a_cached_certificate_is_refused_once_it_has_expired(key, paypal):
    short_lived = _certificate(key, NOW - timedelta(days=30), NOW + timedelta(hours=1))
    route = paypal.get(CERT_URL).respond(200, content=short_lived)
    gateway().parse_webhook(*signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key))
    later = NOW + timedelta(hours=2)

    with pytest.raises(WebhookSignatureInvalid, match="not valid now"):
        gateway(now=later).parse_webhook(*signed(event("PAYMENT.CAPTURE.COMPLETED", capture()),
                                                 key, sent_at=later))
    assert route.call_count == 1


# -- online verification ----------------------------------------------------------------

@pytest.fixture
def online(paypal):
    token = paypal.post(f"{SANDBOX}/v1/oauth2/token").respond(
        200, json={"access_token": "A21AAF-token", "token_type": "Bearer", "expires_in": 32400})
    verify = paypal.post(f"{SANDBOX}/v1/notifications/verify-webhook-signature")
    return token, verify


def test_online_verification_accepts_what_paypal_verifies(key, paypal, online):
    token, verify = online
    verify.respond(200, json={"verification_status": "SUCCESS"})
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    [found] = gateway("online").parse_webhook(body, headers).events

    assert found.kind is EventKind.PAYMENT_SUCCEEDED
    sent = verify.calls.last.request
    assert sent.headers["Authorization"] == "Bearer A21AAF-token"
    assert sent.content.endswith(b'"webhook_event": ' + body + b"}")  # the bytes PayPal signed
    asked = json.loads(sent.content)
    assert asked["webhook_id"] == WEBHOOK_ID
    assert asked["transmission_sig"] == headers["PAYPAL-TRANSMISSION-SIG"]
    assert asked["cert_url"] == CERT_URL
    assert token.calls.last.request.headers["Authorization"].startswith("Basic ")
    assert not any(call.request.url == CERT_URL for call in paypal.calls)


def test_online_verification_refuses_what_paypal_does_not_verify(key, paypal, online):
    _, verify = online
    verify.respond(200, json={"verification_status": "FAILURE"})
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    with pytest.raises(WebhookSignatureInvalid, match="FAILURE"):
        gateway("online").parse_webhook(body, headers)


def test_online_verification_refuses_when_paypal_cannot_be_asked(key, paypal, online):
    _, verify = online
    verify.mock(side_effect=httpx.ConnectTimeout("timed out"))
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    with pytest.raises(WebhookSignatureInvalid, match="verification call failed"):
        gateway("online").parse_webhook(body, headers)


def test_online_verification_refuses_when_the_token_is_refused(key, paypal):
    paypal.post(f"{SANDBOX}/v1/oauth2/token").respond(401, json={"error": "invalid_client"})
    verify = paypal.post(f"{SANDBOX}/v1/notifications/verify-webhook-signature")
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key)

    with pytest.raises(WebhookSignatureInvalid, match="OAuth token"):
        gateway("online").parse_webhook(body, headers)
    assert not verify.called


def test_online_verification_reuses_its_token(key, paypal, online):
    token, verify = online
    verify.respond(200, json={"verification_status": "SUCCESS"})
    adapter = gateway("online")

    adapter.parse_webhook(*signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key))
    adapter.parse_webhook(*signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key))

    assert (token.call_count, verify.call_count) == (1, 2)


def test_online_verification_still_refuses_a_stale_transmission(key, paypal, online):
    _, verify = online
    verify.respond(200, json={"verification_status": "SUCCESS"})
    body, headers = signed(event("PAYMENT.CAPTURE.COMPLETED", capture()), key,
                           sent_at=NOW - timedelta(hours=1))

    with pytest.raises(WebhookSignatureInvalid, match="transmission-time"):
        gateway("online").parse_webhook(body, headers)
    assert not verify.called
