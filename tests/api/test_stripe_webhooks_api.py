"""Stripe webhooks into paytrack, through the HTTP app: signed with the SDK's scheme,
verified with Stripe's secret, stored, applied once, never regressing; refunds carried out
at Stripe (its HTTP faked with respx)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import respx
import stripe

from paytrack.services.webhooks import receive_webhook
from tests.conftest import postgres_only

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

SECRET = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
KEY = "sk_test_51PgafTB7WZ01zgkW"
_n = iter(range(10**6))


def sign(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    mac = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", secret)
    return {"stripe-signature": f"t={at},v1={mac}", "content-type": "application/json"}


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps({"id": event_id or f"evt_{next(_n)}", "object": "event",
                       "type": kind, "livemode": False, "created": int(time.time()),
                       "api_version": "2026-10-28.endive",
                       "data": {"object": obj}}).encode()


def intent(pi: str, status: str, amount: int = 10000, **extra: Any) -> dict[str, Any]:
    return {"id": pi, "object": "payment_intent", "amount": amount,
            "amount_received": amount if status == "succeeded" else 0, "currency": "usd",
            "status": status, "metadata": {}, "latest_charge": None, **extra}


@pytest.fixture
def stripe_on(admin):
    response = admin.put("/v1/gateways/stripe/test", json={
        "credentials": {"secret_key": KEY, "webhook_secret": SECRET}})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def pending(admin, stripe_on):
    """A pending Stripe payment that paytrack knows by its PaymentIntent."""
    def make(pi: str, subtotal: int = 10000) -> dict:
        response = admin.post("/v1/payments", json={
            "customer_id": "cust_1", "seller_id": "seller_1", "item_type": "course",
            "item_id": "course_1", "currency": "USD", "subtotal": subtotal,
            "gateway": "stripe", "gateway_payment_id": pi})
        assert response.status_code == 201, response.text
        return response.json()
    return make


def deliver(client, body: bytes, headers: dict[str, str] | None = None):
    return client.post("/v1/webhooks/stripe", content=body,
                       headers=sign(body) if headers is None else headers)


def entries(admin, payment_id: str) -> list[dict]:
    return admin.get("/v1/ledger/entries", params={"payment_id": payment_id}).json()["data"]


def test_a_signed_success_captures_the_payment_and_posts_the_ledger(client, admin, pending):
    payment = pending("pi_ok")
    response = deliver(client, event("payment_intent.succeeded", intent("pi_ok", "succeeded")))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "processed" and not response.json()["duplicate"]
    paid = admin.get(f"/v1/payments/{payment['id']}").json()
    assert paid["status"] == "succeeded"
    assert [e["kind"] for e in entries(admin, payment["id"])] == ["payment.captured"]
    found = admin.get("/v1/payments", params={"gateway_payment_id": "pi_ok"}).json()["data"]
    assert [p["id"] for p in found] == [payment["id"]]
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_duplicate_is_processed_once(client, admin, pending):
    payment = pending("pi_dup")
    body = event("payment_intent.succeeded", intent("pi_dup", "succeeded"), "evt_dup")
    first, second = deliver(client, body), deliver(client, body)
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    assert second.json()["id"] == first.json()["id"]
    assert len(entries(admin, payment["id"])) == 1
    stored = admin.get(f"/v1/webhooks/deliveries/{first.json()['id']}").json()
    assert stored["times_received"] == 2 and stored["attempts"] == 1


@pytest.mark.parametrize("spoil", ["tampered", "wrong_secret", "stale", "missing", "garbage"])
def test_a_bad_signature_is_a_400_and_changes_nothing(client, admin, pending, spoil):
    payment = pending(f"pi_{spoil}")
    body = event("payment_intent.succeeded", intent(f"pi_{spoil}", "succeeded"))
    headers = {"tampered": sign(body), "wrong_secret": sign(body, "whsec_other"),
               "stale": sign(body, at=int(time.time()) - 301), "missing": {},
               "garbage": {"stripe-signature": "t=x,v1=%%"}}[spoil]
    if spoil == "tampered":
        body = body.replace(b"10000", b"1")
    response = deliver(client, body, headers)
    assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "pending"
    rejected = admin.get("/v1/webhooks/deliveries", params={"status": "rejected"}).json()
    assert rejected["data"][0]["signature_valid"] is False
    assert rejected["data"][0]["event_id"] is None


def test_state_never_regresses(client, admin, pending):
    payment = pending("pi_late")
    assert deliver(client, event("payment_intent.succeeded",
                                 intent("pi_late", "succeeded"))).status_code == 200
    late = deliver(client, event("payment_intent.processing", intent("pi_late", "processing")))
    assert late.status_code == 200
    failed = deliver(client, event("payment_intent.payment_failed",
                                   intent("pi_late", "requires_payment_method")))
    assert failed.status_code == 200
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"
    results = [d["result"][0]["outcome"] for d in
               admin.get("/v1/webhooks/deliveries").json()["data"][:2]]
    assert results == ["already succeeded", "already succeeded"]


def test_a_refund_before_the_success_ends_refunded(client, admin, pending):
    payment = pending("pi_early")
    charge = {"id": "ch_1", "object": "charge", "amount": 10000, "amount_refunded": 10000,
              "currency": "usd", "payment_intent": "pi_early", "refunded": True,
              "metadata": {}, "refunds": {"object": "list", "data": [
                  {"id": "re_s1", "object": "refund", "amount": 10000, "currency": "usd",
                   "status": "succeeded", "payment_intent": "pi_early", "metadata": {}}]}}
    assert deliver(client, event("charge.refunded", charge)).status_code == 200
    assert deliver(client, event("payment_intent.succeeded",
                                 intent("pi_early", "succeeded"))).status_code == 200
    after = admin.get(f"/v1/payments/{payment['id']}").json()
    assert after["status"] == "refunded" and after["refunded_amount"] == 10000
    kinds = sorted(e["kind"] for e in entries(admin, payment["id"]))
    assert kinds == ["payment.captured", "refund.succeeded"]
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_dispute_lost_before_its_opening_arrived_ends_charged_back(client, admin, pending):
    payment = pending("pi_disputed")
    dispute = {"id": "dp_1", "object": "dispute", "amount": 10000, "currency": "usd",
               "payment_intent": "pi_disputed", "charge": "ch_2", "reason": "fraudulent",
               "status": "lost", "balance_transactions": []}
    assert deliver(client, event("charge.dispute.closed", dispute)).status_code == 200
    assert deliver(client, event("charge.dispute.created",
                                 {**dispute, "status": "needs_response"})).status_code == 200
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "charged_back"
    disputes = admin.get("/v1/disputes").json()["data"]
    assert [(d["status"], d["gateway_dispute_id"]) for d in disputes] == [("lost", "dp_1")]
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_confirmation_after_a_cancel_is_recorded_and_flagged(client, admin, pending):
    payment = pending("pi_canceled")
    admin.post(f"/v1/payments/{payment['id']}/cancel", json={"reason": "customer left"})
    response = deliver(client, event("payment_intent.succeeded",
                                     intent("pi_canceled", "succeeded")))
    assert response.status_code == 200
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"
    flagged = admin.get("/v1/webhooks/deliveries", params={"needs_review": "true"}).json()
    assert [d["payment_id"] for d in flagged["data"]] == [payment["id"]]
    review = admin.get("/v1/payments", params={"needs_review": "true"}).json()["data"]
    assert [p["id"] for p in review] == [payment["id"]]


def test_an_unknown_payment_fails_until_it_exists_then_a_replay_applies_it(client, admin,
                                                                          pending):
    body = event("payment_intent.succeeded", intent("pi_later", "succeeded"), "evt_later")
    early = deliver(client, body)
    assert early.status_code == 503 and early.json()["code"] == "webhook_unmatched"
    failed = admin.get("/v1/webhooks/deliveries", params={"status": "failed"}).json()["data"]
    assert [d["event_id"] for d in failed] == ["evt_later"]
    payment = pending("pi_later")
    replayed = admin.post(f"/v1/webhooks/deliveries/{failed[0]['id']}/replay")
    assert replayed.status_code == 200 and replayed.json()["status"] == "processed"
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"
    again = deliver(client, body)  # the gateway's own retry, later: already done
    assert again.json()["duplicate"] is True
    assert len(entries(admin, payment["id"])) == 1


def test_a_refund_approved_is_carried_out_at_stripe(client, admin, pending):
    payment = pending("pi_refund")
    deliver(client, event("payment_intent.succeeded", intent("pi_refund", "succeeded")))
    with respx.mock(base_url="https://api.stripe.com") as api:
        route = api.post("/v1/refunds").respond(200, json={
            "id": "re_stripe_1", "object": "refund", "amount": 2500, "currency": "usd",
            "status": "pending", "payment_intent": "pi_refund", "metadata": {}})
        created = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 2500,
                                                  "reason": "damaged", "approve": True})
        assert created.status_code == 201, created.text
        assert route.call_count == 1
    refund = admin.get(f"/v1/refunds/{created.json()['id']}").json()
    assert refund["status"] == "approved" and refund["gateway_refund_id"] == "re_stripe_1"
    assert admin.get(f"/v1/payments/{payment['id']}").json()["refunded_amount"] == 0
    done = {"id": "re_stripe_1", "object": "refund", "amount": 2500, "currency": "usd",
            "status": "succeeded", "payment_intent": "pi_refund",
            "metadata": {"paytrack_refund_id": refund["id"]}}
    assert deliver(client, event("refund.updated", done)).status_code == 200
    assert admin.get(f"/v1/refunds/{refund['id']}").json()["status"] == "succeeded"
    assert admin.get(f"/v1/payments/{payment['id']}").json()["refunded_amount"] == 2500
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_refund_stripe_refuses_fails_and_the_money_stays(client, admin, pending):
    payment = pending("pi_refused")
    deliver(client, event("payment_intent.succeeded", intent("pi_refused", "succeeded")))
    with respx.mock(base_url="https://api.stripe.com") as api:
        api.post("/v1/refunds").respond(400, json={"error": {
            "type": "invalid_request_error", "code": "charge_already_refunded",
            "message": "Charge has already been refunded."}})
        created = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 1000,
                                                  "reason": "r", "approve": True})
    refund = admin.get(f"/v1/refunds/{created.json()['id']}").json()
    assert refund["status"] == "failed" and "already been refunded" in refund["failure_reason"]
    after = admin.get(f"/v1/payments/{payment['id']}").json()
    assert (after["refunded_amount"], after["refund_reserved_amount"]) == (0, 0)
    assert [e["kind"] for e in entries(admin, payment["id"])] == ["payment.captured"]


def test_gateway_credentials_are_never_shown(admin, as_key, stripe_on):
    shown = admin.get("/v1/gateways/stripe").json()
    assert shown[0]["configured"] == ["secret_key", "webhook_secret"]
    assert KEY not in json.dumps(shown) and SECRET not in json.dumps(shown)
    assert shown[0]["hints"]["secret_key"] == "…" + KEY[-4:]
    assert shown[0]["webhook_url"].endswith("/v1/webhooks/stripe")
    seller = as_key("seller", seller_id="seller_1")
    assert seller.get("/v1/gateways").status_code == 403
    assert seller.get("/v1/webhooks/deliveries").status_code == 403
    missing = admin.put("/v1/gateways/razorpay/test", json={"credentials": {"key_id": "k"}})
    assert missing.status_code == 422


@postgres_only
def test_concurrent_duplicates_are_processed_once(storage, admin, pending):
    payment = pending("pi_race")
    body = event("payment_intent.succeeded", intent("pi_race", "succeeded"), "evt_race")
    headers = sign(body)
    barrier = threading.Barrier(8)

    def deliver_once(_: int) -> str:
        barrier.wait()
        return receive_webhook(storage, "stripe", body, headers)["status"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(deliver_once, range(8)))
    assert outcomes == ["processed"] * 8
    assert len(entries(admin, payment["id"])) == 1
    delivery = admin.get("/v1/webhooks/deliveries", params={"event_id": "evt_race"}).json()
    assert delivery["data"][0]["times_received"] == 8
