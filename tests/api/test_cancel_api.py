"""Who may cancel what, over HTTP, and a confirmation after a cancel (issue 7 item 4)."""

from tests.api.conftest import payment_body


def _processing(admin, **changes) -> str:
    payment = admin.post("/v1/payments", json=payment_body(**changes)).json()
    assert admin.post(f"/v1/payments/{payment['id']}/processing").status_code == 200
    return payment["id"]


def test_a_customer_cannot_cancel_a_processing_payment(admin, as_key):
    payment_id = _processing(admin)
    customer = as_key("customer", customer_id="cust_1")
    response = customer.post(f"/v1/payments/{payment_id}/cancel")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["detail"] == (
        "payment is processing; a customer may cancel only a pending payment")
    assert admin.get(f"/v1/payments/{payment_id}").json()["status"] == "processing"


def test_a_seller_may_cancel_its_own_pending_payment_and_nothing_else(admin, as_key):
    seller = as_key("seller", seller_id="seller_1")
    mine = admin.post("/v1/payments", json=payment_body()).json()["id"]
    theirs = admin.post("/v1/payments", json=payment_body(seller_id="seller_2",
                                                          item_id="c2")).json()["id"]
    assert seller.post(f"/v1/payments/{theirs}/cancel").status_code == 404
    assert seller.post(f"/v1/payments/{_processing(admin)}/cancel").status_code == 409
    assert seller.post(f"/v1/payments/{mine}/cancel").json()["status"] == "canceled"


def test_an_admin_may_cancel_a_processing_payment(admin):
    payment_id = _processing(admin)
    assert admin.post(f"/v1/payments/{payment_id}/cancel").json()["status"] == "canceled"


def test_only_an_admin_marks_a_payment_processing(admin, as_key):
    payment_id = admin.post("/v1/payments", json=payment_body()).json()["id"]
    for key in (as_key("seller", seller_id="seller_1"), as_key("customer", customer_id="cust_1")):
        response = key.post(f"/v1/payments/{payment_id}/processing")
        assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_a_capture_after_a_cancel_succeeds_and_is_flagged_for_review(admin, as_key):
    payment = admin.post("/v1/payments", json=payment_body()).json()
    customer = as_key("customer", customer_id="cust_1")
    assert customer.post(f"/v1/payments/{payment['id']}/cancel").status_code == 200
    captured = admin.post(f"/v1/payments/{payment['id']}/capture",
                          json={"gateway_payment_id": "pi_late"})
    assert captured.status_code == 200, captured.text
    assert captured.json()["status"] == "succeeded"
    events = admin.get(f"/v1/payments/{payment['id']}/events").json()
    assert (events[-1]["from_status"], events[-1]["to_status"]) == ("canceled", "succeeded")
    assert events[-1]["reason"] == "confirmed after cancel: review"
    assert [e["needs_review"] for e in events] == [False, False, True]
    flagged = admin.get("/v1/payments", params={"needs_review": "true"}).json()["data"]
    assert [p["id"] for p in flagged] == [payment["id"]]
    entries = admin.get("/v1/ledger/entries", params={"payment_id": payment["id"]}).json()
    assert [e["kind"] for e in entries["data"]] == ["payment.captured"]
    assert admin.get("/v1/ledger/verify").json()["ok"] is True
    # The customer sees the same history, with actors as roles.
    seen = customer.get(f"/v1/payments/{payment['id']}/events").json()
    assert [(e["actor"], e["needs_review"]) for e in seen] == [
        ("admin", False), ("customer", False), ("admin", True)]
