import threading
from concurrent.futures import ThreadPoolExecutor

from paytrack.adapters.storage.parties import PartyRepository
from tests.api.conftest import payment_body
from tests.conftest import postgres_only


def test_create_returns_201_with_the_breakdown_and_split(admin):
    response = admin.post("/v1/payments", json=payment_body(
        subtotal=5000, discount=500, tax=100, shipping=50, commission_rate="0.10",
        metadata={"cohort": "2026-spring"}, order_id="order_9"))
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("pay_") and body["status"] == "pending"
    assert (body["total"], body["platform_fee"], body["seller_amount"]) == (4650, 465, 4185)
    assert (body["refunded_amount"], body["commission_rate"]) == (0, "0.10")
    assert body["metadata"] == {"cohort": "2026-spring"} and body["order_id"] == "order_9"
    assert admin.get(f"/v1/payments/{body['id']}").json() == body


def test_manual_lifecycle_and_status_history(admin):
    created = admin.post("/v1/payments", json=payment_body()).json()
    path = f"/v1/payments/{created['id']}"
    assert admin.post(f"{path}/processing").json()["status"] == "processing"
    captured = admin.post(f"{path}/capture", json={"gateway_fee": 320,
                                                   "reason": "paid at the desk"})
    assert captured.status_code == 200
    assert captured.json()["status"] == "succeeded" and captured.json()["gateway_fee"] == 320
    events = admin.get(f"{path}/events").json()
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "pending"), ("pending", "processing"), ("processing", "succeeded")]
    assert events[-1]["reason"] == "paid at the desk"


def test_fail_and_cancel(admin):
    failed = admin.post("/v1/payments", json=payment_body()).json()
    response = admin.post(f"/v1/payments/{failed['id']}/fail", json={"reason": "card_declined"})
    assert response.json()["status"] == "failed"
    assert response.json()["failure_reason"] == "card_declined"
    canceled = admin.post("/v1/payments", json=payment_body()).json()
    assert admin.post(f"/v1/payments/{canceled['id']}/cancel").json()["status"] == "canceled"


def test_a_move_the_state_machine_forbids_is_a_409(admin, captured):
    payment = captured()
    response = admin.post(f"/v1/payments/{payment['id']}/fail")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_transition"
    assert "succeeded" in response.json()["detail"]


def test_unknown_payment_is_a_404_problem(admin):
    response = admin.get("/v1/payments/pay_nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert admin.post("/v1/payments/pay_nope/capture").status_code == 404


def test_lists_page_newest_first_with_a_stable_cursor(admin):
    ids = [admin.post("/v1/payments", json=payment_body()).json()["id"] for _ in range(5)]
    first = admin.get("/v1/payments", params={"limit": 2}).json()
    assert first["has_more"] is True and [p["id"] for p in first["data"]] == ids[:2:-1][:2]
    seen = [p["id"] for p in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = admin.get("/v1/payments", params={"limit": 2, "cursor": cursor}).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    assert admin.get("/v1/payments", params={"limit": 101}).status_code == 422


def test_list_filters(admin, captured):
    captured(seller_id="s_a", item_id="i_a")
    pending = admin.post("/v1/payments", json=payment_body(seller_id="s_a", item_id="i_a",
                                                           customer_id="c_z")).json()
    admin.post("/v1/payments", json=payment_body(seller_id="s_b", item_id="i_b"))
    found = admin.get("/v1/payments", params={"status": "pending", "seller_id": "s_a"}).json()
    assert [p["id"] for p in found["data"]] == [pending["id"]]
    by_customer = admin.get("/v1/payments", params={"customer_id": "c_z"}).json()["data"]
    assert [p["id"] for p in by_customer] == [pending["id"]]
    assert len(admin.get("/v1/payments", params={"item_id": "i_a"}).json()["data"]) == 2
    window = admin.get("/v1/payments", params={"created_gte": "2000-01-01T00:00:00Z",
                                               "created_lt": "2000-01-02T00:00:00"}).json()
    assert window["data"] == []
    assert admin.get("/v1/payments", params={"status": "bogus"}).status_code == 422


def test_a_recorded_payment_is_created_captured(admin):
    response = admin.post("/v1/payments", json=payment_body(
        captured=True, gateway="razorpay", method="upi", currency="INR", subtotal=99900,
        gateway_payment_id="pay_Rz1", gateway_fee=2358))
    assert response.status_code == 201 and response.json()["status"] == "succeeded"
    again = admin.post("/v1/payments", json=payment_body(
        captured=True, gateway="razorpay", method="upi", currency="INR", subtotal=99900,
        gateway_payment_id="pay_Rz1"))
    assert again.status_code == 409 and again.json()["code"] == "duplicate_gateway_payment"


def test_health_needs_no_key(client):
    assert client.get("/v1/health").json() == {"status": "ok"}


def test_the_docs_page_works_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "cdn." not in page.text
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "paytrack"


def test_a_payment_for_another_sellers_item_is_a_422_problem(admin):
    assert admin.post("/v1/payments", json=payment_body(seller_id="s1")).status_code == 201
    response = admin.post("/v1/payments", json=payment_body(seller_id="s2"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "item_seller_mismatch"
    assert response.json()["detail"] == "course course_1 belongs to seller s1, not s2"


@postgres_only
def test_the_loser_of_a_race_for_a_new_item_gets_a_problem_not_a_500(admin, monkeypatch):
    """Two first payments for one item with different sellers, both past the owner lookup
    before either writes: one is created, the other is told who owns the item."""
    barrier = threading.Barrier(2, timeout=10)
    lookup = PartyRepository.lookup

    def lookup_then_wait(self, *args):
        found = lookup(self, *args)
        barrier.wait()
        return found

    monkeypatch.setattr(PartyRepository, "lookup", lookup_then_wait)
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(
            lambda seller: admin.post("/v1/payments", json=payment_body(seller_id=seller)),
            ["s1", "s2"]))
    assert sorted(r.status_code for r in responses) == [201, 422]
    winner, loser = sorted(responses, key=lambda r: r.status_code)
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.json()["code"] == "item_seller_mismatch"
    owner = winner.json()["seller_id"]
    assert loser.json()["detail"].startswith(f"course course_1 belongs to seller {owner}, not ")
    listed = admin.get("/v1/payments", params={"item_id": "course_1"}).json()["data"]
    assert [p["seller_id"] for p in listed] == [owner]
