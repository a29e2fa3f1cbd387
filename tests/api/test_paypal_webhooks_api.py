"""PayPal webhooks into paytrack through the HTTP app: verified locally with PayPal's
certificate (fetched from a paypal.com address, faked with respx), applied once, a tampered
one refused; a refund and a dispute of the capture follow it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from paytrack.adapters.gateways.paypal_signatures import certificate_cache
from tests.unit.gateways.test_paypal_webhooks import (
    CERT_URL,
    WEBHOOK_ID,
    _certificate,
    capture,
    event,
    signed,
)

CAPTURE_ID = "2GG279541U471931P"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def paypal_on(admin, respx_mock, key):
    now = datetime.now(UTC)
    respx_mock.get(CERT_URL).respond(200, content=_certificate(
        key, now - timedelta(days=1), now + timedelta(days=30)))
    certificate_cache.clear()
    assert admin.put("/v1/gateways/paypal/test", json={"credentials": {
        "client_id": "client-id", "client_secret": "client-secret",
        "webhook_id": WEBHOOK_ID}}).status_code == 200
    yield
    certificate_cache.clear()


@pytest.fixture
def recorded(admin, paypal_on):
    response = admin.post("/v1/payments", json={
        "customer_id": "cust_1", "seller_id": "seller_1", "item_type": "course",
        "item_id": "course_1", "currency": "USD", "subtotal": 2399, "gateway": "paypal",
        "method": "paypal", "gateway_payment_id": CAPTURE_ID})
    assert response.status_code == 201, response.text
    return response.json()


def post(client, key, payload: dict):
    body, headers = signed(payload, key, sent_at=datetime.now(UTC))
    return client.post("/v1/webhooks/paypal", content=body, headers=headers)


def test_a_completed_capture_succeeds_once_and_a_tampered_one_is_refused(client, admin, key,
                                                                      recorded):
    completed = event("PAYMENT.CAPTURE.COMPLETED", capture(custom_id=recorded["id"]),
                      "WH-COMPLETED-1")
    body, headers = signed(completed, key, sent_at=datetime.now(UTC))
    forged = client.post("/v1/webhooks/paypal", content=body.replace(b"23.99", b"2.39"),
                         headers=headers)
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_signature"
    first = client.post("/v1/webhooks/paypal", content=body, headers=headers)
    again = post(client, key, completed)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert again.json()["duplicate"] is True
    paid = admin.get(f"/v1/payments/{recorded['id']}").json()
    assert (paid["status"], paid["gateway_fee"]) == ("succeeded", 136)


def test_a_refund_at_paypal_and_a_dispute_resolved_for_the_buyer(client, admin, key,
                                                                 recorded):
    post(client, key, event("PAYMENT.CAPTURE.COMPLETED", capture(custom_id=recorded["id"]),
                            "WH-C-2"))
    refund = {"id": "1JU08902781691411", "status": "COMPLETED",
              "amount": {"currency_code": "USD", "value": "5.00"},
              "links": [{"href": f"https://api.paypal.com/v2/payments/captures/{CAPTURE_ID}",
                         "rel": "up", "method": "GET"}]}
    assert post(client, key, event("PAYMENT.CAPTURE.REFUNDED", refund, "WH-R-1")) \
        .status_code == 200
    assert admin.get(f"/v1/payments/{recorded['id']}").json()["refunded_amount"] == 500
    dispute = {"dispute_id": "PP-D-40523", "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
               "status": "RESOLVED",
               "disputed_transactions": [{"seller_transaction_id": CAPTURE_ID}],
               "dispute_amount": {"currency_code": "USD", "value": "18.99"},
               "dispute_outcome": {"outcome_code": "RESOLVED_BUYER_FAVOUR"}}
    assert post(client, key, event("CUSTOMER.DISPUTE.RESOLVED", dispute, "WH-D-1")) \
        .status_code == 200
    after = admin.get(f"/v1/payments/{recorded['id']}").json()
    assert after["status"] == "charged_back" and after["disputed_amount"] == 1899
    assert admin.get("/v1/ledger/verify").json()["ok"]
