"""Stripe webhooks into paytrack, through the HTTP app: signed with the SDK's scheme,
verified with Stripe's secret, stored, applied once, never regressing; refunds carried out
at Stripe (its HTTP faked with respx)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
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


# -- what a hostile review found -----------------------------------------------------------


def refund_obj(re_id: str, pi: str, amount: int, status: str = "succeeded",
               **metadata: str) -> dict[str, Any]:
    return {"id": re_id, "object": "refund", "amount": amount, "currency": "usd",
            "status": status, "payment_intent": pi, "metadata": metadata}


def charge(pi: str, refunded: int) -> dict[str, Any]:
    return {"id": f"ch_{pi}", "object": "charge", "amount": 10000, "currency": "usd",
            "amount_refunded": refunded, "payment_intent": pi, "refunded": False,
            "metadata": {}}


def captured_at_stripe(client, pending, pi: str) -> dict:
    payment = pending(pi)
    assert deliver(client, event("payment_intent.succeeded",
                                 intent(pi, "succeeded"))).status_code == 200
    return payment


def test_a_running_total_never_books_a_refund_twice(client, admin, pending):
    payment = captured_at_stripe(client, pending, "pi_total")
    with respx.mock(base_url="https://api.stripe.com") as api:
        api.post("/v1/refunds").respond(200, json=refund_obj("re_sent", "pi_total", 2500,
                                                             "pending"))
        refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 2500,
                                                 "reason": "r", "approve": True}).json()
    assert deliver(client, event("charge.refunded", charge("pi_total", 2500))).status_code \
        == 200
    deliver(client, event("refund.updated", refund_obj("re_sent", "pi_total", 2500,
                                                       paytrack_refund_id=refund["id"])))
    # and one made in Stripe's dashboard: the running total, then its own events twice
    deliver(client, event("charge.refunded", charge("pi_total", 5500)))
    deliver(client, event("refund.created", refund_obj("re_dash", "pi_total", 3000)))
    deliver(client, event("refund.updated", refund_obj("re_dash", "pi_total", 3000)))
    after = admin.get(f"/v1/payments/{payment['id']}").json()
    assert after["refunded_amount"] == 5500
    refunds = admin.get("/v1/refunds", params={"payment_id": payment["id"]}).json()["data"]
    assert sorted(r["gateway_refund_id"] for r in refunds) == ["re_dash", "re_sent"]
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_dispute_leaves_a_refund_already_sent_to_the_gateway(client, admin, pending):
    payment = captured_at_stripe(client, pending, "pi_sent")
    with respx.mock(base_url="https://api.stripe.com") as api:
        api.post("/v1/refunds").respond(200, json=refund_obj("re_p", "pi_sent", 2000,
                                                             "pending"))
        refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 2000,
                                                 "reason": "r", "approve": True}).json()
    dispute = {"id": "dp_sent", "object": "dispute", "amount": 10000, "currency": "usd",
               "payment_intent": "pi_sent", "reason": "fraudulent",
               "status": "needs_response", "balance_transactions": []}
    assert deliver(client, event("charge.dispute.created", dispute)).status_code == 200
    assert admin.get(f"/v1/refunds/{refund['id']}").json()["status"] == "approved"
    deliver(client, event("refund.updated", refund_obj("re_p", "pi_sent", 2000,
                                                       paytrack_refund_id=refund["id"])))
    assert admin.get(f"/v1/refunds/{refund['id']}").json()["status"] == "succeeded"
    held = admin.get("/v1/disputes", params={"payment_id": payment["id"]}).json()["data"]
    assert [d["amount"] for d in held] == [8000]  # what the refund did not take back
    after = admin.get(f"/v1/payments/{payment['id']}").json()
    assert (after["refunded_amount"], after["disputed_amount"]) == (2000, 8000)
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_dispute_holds_what_an_open_request_reserved(client, admin, pending, as_key):
    payment = captured_at_stripe(client, pending, "pi_asked")
    customer = as_key("customer", customer_id="cust_1")
    asked = customer.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 3000,
                                               "reason": "changed my mind"})
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    lost = {"id": "dp_asked", "object": "dispute", "amount": 10000, "currency": "usd",
            "payment_intent": "pi_asked", "reason": "fraudulent", "status": "lost",
            "balance_transactions": []}
    assert deliver(client, event("charge.dispute.closed", lost)).status_code == 200
    held = admin.get("/v1/disputes", params={"payment_id": payment["id"]}).json()["data"]
    assert [(d["amount"], d["status"]) for d in held] == [(10000, "lost")]
    assert admin.get(f"/v1/refunds/{asked.json()['id']}").json()["status"] == "canceled"


def test_a_confirmation_with_another_amount_is_flagged_and_nothing_implies_it(client, admin,
                                                                           pending):
    payment = pending("pi_short")
    short = deliver(client, event("payment_intent.succeeded",
                                  intent("pi_short", "succeeded", amount=5000)))
    assert short.status_code == 200
    flagged = admin.get(f"/v1/webhooks/deliveries/{short.json()['id']}").json()
    assert flagged["needs_review"] and flagged["result"][0]["outcome"] == "amount_mismatch"
    later = deliver(client, event("refund.updated", refund_obj("re_x", "pi_short", 1000)))
    assert later.status_code == 503
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "pending"
    assert entries(admin, payment["id"]) == []


def test_an_event_naming_the_payment_with_another_provider_id_is_not_applied(client, admin,
                                                                            pending):
    payment = pending("pi_mine")
    other = intent("pi_someone_else", "succeeded",
                   metadata={"paytrack_payment_id": payment["id"]})
    response = deliver(client, event("payment_intent.succeeded", other))
    assert response.status_code == 200
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "pending"
    delivery = admin.get(f"/v1/webhooks/deliveries/{response.json()['id']}").json()
    assert delivery["needs_review"] and delivery["result"][0]["outcome"] == "not applied"


def test_a_test_mode_secret_cannot_move_a_live_payment(client, admin):
    live_secret = "whsec_live_9Hq2Zr7Yt6Ux5Wv4"
    for mode, secret, active in (("test", SECRET, False), ("live", live_secret, True)):
        assert admin.put(f"/v1/gateways/stripe/{mode}", json={
            "credentials": {"secret_key": f"sk_{mode}_51PgafTB7WZ01zgkW",
                            "webhook_secret": secret}, "active": active}).status_code == 200
    with respx.mock(base_url="https://api.stripe.com") as api:
        api.post("/v1/checkout/sessions").respond(200, json={
            "id": "cs_live_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_live_1",
            "expires_at": int(time.time()) + 3600, "payment_intent": "pi_live_1",
            "status": "open", "payment_status": "unpaid", "livemode": True,
            "metadata": {}})
        created = admin.post("/v1/payments", json={
            "customer_id": "cust_1", "seller_id": "seller_1", "item_type": "course",
            "item_id": "course_1", "currency": "USD", "subtotal": 10000, "gateway": "stripe"})
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["payment_url"].startswith("https://checkout.stripe.com/")
    body = event("payment_intent.succeeded", intent("pi_live_1", "succeeded"))
    response = deliver(client, body, sign(body, SECRET))  # the test secret
    assert response.status_code == 200
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "pending"
    signed_live = deliver(client, body, sign(body, live_secret))
    assert signed_live.json()["duplicate"]  # the same event id: recorded once, not applied
    fresh = event("payment_intent.succeeded", intent("pi_live_1", "succeeded"))
    assert deliver(client, fresh, sign(fresh, live_secret)).status_code == 200
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"


def test_an_unsigned_body_is_kept_only_in_part(client, admin):
    body = b"x" * 100_000
    assert client.post("/v1/webhooks/stripe", content=body).status_code == 400
    rejected = admin.get("/v1/webhooks/deliveries", params={"status": "rejected"}).json()
    assert len(rejected["data"][0]["body"]) == 2048


def test_an_event_for_an_unknown_payment_is_kept_and_flagged_after_ten_minutes(
        client, admin, storage, stripe_on):
    real = storage.clock
    body = event("payment_intent.succeeded", intent("pi_nobody", "succeeded"), "evt_nobody")
    assert deliver(client, body).status_code == 503
    storage.clock = lambda: real() + timedelta(minutes=11)
    try:
        later = deliver(client, body)
    finally:
        storage.clock = real
    assert later.status_code == 200 and later.json()["status"] == "processed"
    kept = admin.get(f"/v1/webhooks/deliveries/{later.json()['id']}").json()
    assert kept["needs_review"] and kept["result"][0]["outcome"] == "unmatched"


def _all_at_once(storage, bodies: list[bytes]) -> list[str]:
    barrier = threading.Barrier(len(bodies))

    def deliver_once(body: bytes) -> str:
        barrier.wait()
        try:
            return receive_webhook(storage, "stripe", body, sign(body))["status"]
        except Exception as exc:  # noqa: BLE001 - what a gateway would be answered
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(deliver_once, bodies))


@postgres_only
def test_racing_events_about_one_payment_apply_one_after_the_other(storage, admin, pending,
                                                                  client):
    for n in range(3):
        payment = captured_at_stripe(client, pending, f"pi_racing_{n}")
        dispute = {"id": f"dp_racing_{n}", "object": "dispute", "amount": 10000,
                   "currency": "usd", "payment_intent": f"pi_racing_{n}",
                   "reason": "fraudulent", "balance_transactions": []}
        outcomes = _all_at_once(storage, [
            event("charge.dispute.created", {**dispute, "status": "needs_response"}),
            event("charge.dispute.closed", {**dispute, "status": "lost"})])
        assert outcomes == ["processed", "processed"]
        assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "charged_back"
        held = admin.get("/v1/disputes", params={"payment_id": payment["id"]}).json()
        assert [d["status"] for d in held["data"]] == ["lost"]
    assert admin.get("/v1/ledger/verify").json()["ok"]


@postgres_only
def test_two_events_of_one_dashboard_refund_racing_record_it_once(storage, admin, pending,
                                                                   client):
    for n in range(3):
        payment = captured_at_stripe(client, pending, f"pi_dash_{n}")
        refund = refund_obj(f"re_dash_{n}", f"pi_dash_{n}", 1000)
        outcomes = _all_at_once(storage, [event("refund.created", refund),
                                          event("refund.updated", refund)])
        assert outcomes == ["processed", "processed"]
        assert admin.get(f"/v1/payments/{payment['id']}").json()["refunded_amount"] == 1000
    assert admin.get("/v1/ledger/verify").json()["ok"]
