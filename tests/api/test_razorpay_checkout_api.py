"""Razorpay end to end through the HTTP app: an order as the checkout, the hosted page that
opens Razorpay Checkout, the checkout's signature verified against the stored order (the
multi-vendor seed's verify), and webhooks deduplicated by ``x-razorpay-event-id``.
Razorpay's HTTP is a fake transport on the SDK's ``requests`` session."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from paytrack.adapters.gateways.registry import GatewayWiring, build_adapter
from tests.unit.gateways.test_razorpay_gateway import FakeRazorpay

KEY_ID = "rzp_test_1DP5mmOlF5G5ag"
KEY_SECRET = "thisisthekeysecret"
WEBHOOK_SECRET = "thisisthewebhooksecret"
ORDER = "order_NcWcDMZ2PZT5nD"
RZP_PAYMENT = "pay_NcWcZ4wDjJRTNm"


@pytest.fixture
def razorpay(storage, admin):
    fake = FakeRazorpay()

    def factory(settings, **kw):
        adapter = build_adapter(settings, **kw)
        if settings.gateway == "razorpay":
            adapter.client.session.mount("https://", fake)
        return adapter

    storage.gateways = GatewayWiring(factory=factory)
    assert admin.put("/v1/gateways/razorpay/test", json={"credentials": {
        "key_id": KEY_ID, "key_secret": KEY_SECRET,
        "webhook_secret": WEBHOOK_SECRET}}).status_code == 200
    return fake


@pytest.fixture
def order_payment(admin, razorpay):
    razorpay.answer(200, {"id": ORDER, "entity": "order", "amount": 49900, "currency": "INR",
                          "receipt": "x", "status": "created", "notes": {}})
    response = admin.post("/v1/payments", json={
        "customer_id": "cust_1", "seller_id": "seller_1", "item_type": "course",
        "item_id": "course_1", "currency": "INR", "subtotal": 49900, "gateway": "razorpay",
        "method": "upi"})
    assert response.status_code == 201, response.text
    return response.json()


def checkout_signature(order_id: str, payment_id: str, secret: str = KEY_SECRET) -> str:
    return hmac.new(secret.encode(), f"{order_id}|{payment_id}".encode(),
                    hashlib.sha256).hexdigest()


def webhook(client, event: str, entity: dict, event_id: str, secret: str = WEBHOOK_SECRET):
    body = json.dumps({"entity": "event", "account_id": "acc_1", "event": event,
                       "contains": [event.split(".")[0]],
                       "payload": {event.split(".")[0]: {"entity": entity}},
                       "created_at": int(time.time())}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/v1/webhooks/razorpay", content=body, headers={
        "x-razorpay-signature": signature, "x-razorpay-event-id": event_id,
        "content-type": "application/json"})


def test_a_new_payment_gets_an_order_and_a_page_that_opens_checkout(client, order_payment,
                                                                  razorpay):
    assert order_payment["gateway_order_id"] == ORDER
    assert order_payment["payment_url"].endswith(f"/checkout/razorpay/{order_payment['id']}")
    sent = razorpay.sent[0]
    assert (sent.body["amount"], sent.body["receipt"]) == (49900, order_payment["id"])
    page = client.get(f"/checkout/razorpay/{order_payment['id']}")
    assert page.status_code == 200
    assert ORDER in page.text and KEY_ID in page.text and KEY_SECRET not in page.text
    assert "checkout.razorpay.com" in page.headers["content-security-policy"]


def test_the_checkout_signature_captures_and_a_wrong_one_changes_nothing(admin,
                                                                       order_payment):
    path = f"/v1/payments/{order_payment['id']}/verify"
    wrong = admin.post(path, json={"razorpay_order_id": ORDER,
                                   "razorpay_payment_id": RZP_PAYMENT,
                                   "razorpay_signature": checkout_signature(
                                       ORDER, RZP_PAYMENT, "another secret")})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_signature"
    other_order = admin.post(path, json={
        "razorpay_order_id": "order_Other", "razorpay_payment_id": RZP_PAYMENT,
        "razorpay_signature": checkout_signature("order_Other", RZP_PAYMENT)})
    assert other_order.status_code == 400
    assert admin.get(f"/v1/payments/{order_payment['id']}").json()["status"] == "pending"
    right = admin.post(path, json={"razorpay_order_id": ORDER,
                                   "razorpay_payment_id": RZP_PAYMENT,
                                   "razorpay_signature": checkout_signature(ORDER,
                                                                            RZP_PAYMENT)})
    assert right.status_code == 200, right.text
    assert right.json()["status"] == "succeeded"
    assert right.json()["gateway_payment_id"] == RZP_PAYMENT


def test_the_page_posts_back_signed_and_lands_on_the_status_page(client, admin,
                                                                 order_payment):
    response = client.post(f"/checkout/razorpay/{order_payment['id']}/verify", data={
        "razorpay_order_id": ORDER, "razorpay_payment_id": RZP_PAYMENT,
        "razorpay_signature": checkout_signature(ORDER, RZP_PAYMENT)},
        follow_redirects=False)
    assert response.status_code == 303
    landed = client.get(response.headers["location"])
    assert landed.status_code == 200 and "went through" in landed.text
    forged = client.post(f"/checkout/razorpay/{order_payment['id']}/verify", data={
        "razorpay_order_id": ORDER, "razorpay_payment_id": "pay_Forged",
        "razorpay_signature": "0" * 64})
    assert forged.status_code == 400


def test_webhooks_capture_once_by_event_id_and_a_failed_attempt_keeps_the_order_open(
        client, admin, order_payment):
    entity = {"id": RZP_PAYMENT, "entity": "payment", "amount": 49900, "currency": "INR",
              "status": "failed", "order_id": ORDER, "method": "upi", "notes": [],
              "error_code": "BAD_REQUEST_ERROR", "error_description": "Payment failed"}
    assert webhook(client, "payment.failed", entity, "evt_f1").status_code == 200
    assert admin.get(f"/v1/payments/{order_payment['id']}").json()["status"] == "pending"
    captured = {**entity, "status": "captured", "fee": 1180, "tax": 180}
    first = webhook(client, "payment.captured", captured, "evt_c1")
    again = webhook(client, "payment.captured", captured, "evt_c1")
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    paid = admin.get(f"/v1/payments/{order_payment['id']}").json()
    assert paid["status"] == "succeeded" and paid["gateway_fee"] == 1180
    tampered = webhook(client, "payment.captured", captured, "evt_c2", secret="not it")
    assert tampered.status_code == 400
    entries = admin.get("/v1/ledger/entries",
                        params={"payment_id": order_payment["id"]}).json()["data"]
    assert [e["kind"] for e in entries] == ["payment.captured"]
