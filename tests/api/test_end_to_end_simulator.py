"""The whole way, as a platform sees it: a payment at the simulator gets a checkout; the
customer pays on paytrack's hosted page; the simulator's signed webhook comes back through
POST /v1/webhooks/simulator (delivered by the background job, as in production); the
payment succeeds and the ledger posts; the platform's endpoint (a real HTTP server)
receives payment.succeeded and verifies it with the standardwebhooks library. Then a
refund goes back to the simulator and returns as refund.succeeded the same way."""

from __future__ import annotations

import re

from paytrack.adapters.gateways.registry import GatewayWiring
from paytrack.entrypoints.upkeep import run_once
from tests.receiver import receiving


def test_checkout_page_webhook_ledger_and_a_verified_event(storage, client, admin):
    # The simulator's webhooks reach the app in process; events go out over real HTTP.
    storage.gateways = GatewayWiring("http://testserver", http=client)
    with receiving() as platform:
        endpoint = admin.post("/v1/event-endpoints", json={"url": platform.url})
        assert endpoint.status_code == 201, endpoint.text
        platform.secret = endpoint.json()["secret"]

        created = admin.post("/v1/payments", json={
            "customer_id": "cust_7", "seller_id": "seller_7", "item_type": "course",
            "item_id": "course_rust", "currency": "USD", "subtotal": 4900, "tax": 100,
            "gateway": "simulator", "description": "Rust in a week"})
        assert created.status_code == 201, created.text
        payment = created.json()
        assert payment["status"] == "pending" and payment["payment_url_expires_at"]
        page_path = re.sub(r"^https?://[^/]+", "", payment["payment_url"])

        page = client.get(page_path)
        assert page.status_code == 200 and "50.00" in page.text and "4242" in page.text
        paid = client.post(page_path, data={"card": "4242 4242 4242 4242", "duplicates": "2",
                                            "delay_s": "0", "order": "in_order"},
                           follow_redirects=False)
        assert paid.status_code == 303
        assert "status=succeeded" in paid.headers["location"]
        assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "pending"

        done = run_once(storage)  # the job: the simulator's webhooks, events
        assert done.simulated == 2  # the success, twice (a duplicate on request)
        after = admin.get(f"/v1/payments/{payment['id']}").json()
        assert after["status"] == "succeeded" and after["gateway_fee"] == 175
        deliveries = admin.get("/v1/webhooks/deliveries",
                               params={"gateway": "simulator"}).json()["data"]
        assert [(d["status"], d["times_received"]) for d in deliveries] == [("processed", 2)]
        entries = admin.get("/v1/ledger/entries", params={"payment_id": payment["id"]}).json()
        assert [e["kind"] for e in entries["data"]] == ["payment.captured"]

        run_once(storage)  # and the events reach the platform, over real HTTP
        (event,) = platform.payloads("payment.succeeded")
        assert event["data"]["object"]["id"] == payment["id"]
        assert event["data"]["object"]["status"] == "succeeded"

        refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 1000,
                                                 "reason": "one module missing",
                                                 "approve": True})
        assert refund.status_code == 201 and refund.json()["status"] == "approved"
        run_once(storage)  # the simulator's refund.succeeded comes back
        assert admin.get(f"/v1/refunds/{refund.json()['id']}").json()["status"] == "succeeded"
        run_once(storage)
        (refunded,) = platform.payloads("refund.succeeded")
        assert refunded["data"]["object"]["id"] == refund.json()["id"]
        assert platform.refused == 0
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_payment_captured_by_hand_is_paid_at_the_simulator_too(storage, client, admin):
    """An admin's capture of a simulator payment stands for the provider's confirmation:
    the simulator then takes it as paid, so its refunds go through and its page does not
    take the card a second time."""
    storage.gateways = GatewayWiring("http://testserver", http=client)
    payment = admin.post("/v1/payments", json={
        "customer_id": "cust_8", "seller_id": "seller_8", "item_type": "course",
        "item_id": "course_go", "currency": "USD", "subtotal": 3000,
        "gateway": "simulator"}).json()
    assert admin.post(f"/v1/payments/{payment['id']}/capture").json()["status"] == "succeeded"

    page_path = re.sub(r"^https?://[^/]+", "", payment["payment_url"])
    again = client.post(page_path, data={"card": "4242 4242 4242 4242", "duplicates": "1",
                                         "delay_s": "0", "order": "in_order"},
                        follow_redirects=False)
    assert again.status_code == 409, again.text  # already paid: no second charge
    refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 3000,
                                             "reason": "changed their mind",
                                             "approve": True}).json()
    run_once(storage)  # sent to the simulator, which answers pending
    run_once(storage)  # and its refund.succeeded comes back
    assert admin.get(f"/v1/refunds/{refund['id']}").json()["status"] == "succeeded"
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "refunded"
    assert run_once(storage).simulated == 0  # nothing else was queued: no payment webhooks
