"""The refund policy through the API: admins only, validated strictly, in force at once."""

import pytest

from tests.api.conftest import payment_body

POLICY = {"auto_approve_max_amount": {"USD": 2000}, "auto_approve_within_days": 14,
          "auto_approve_max_refund_rate": "0.10", "customer_refund_window_days": 30,
          "seller_requests_auto_approve": False}


def test_out_of_the_box_the_policy_is_the_configured_one_with_every_rule_off(admin):
    response = admin.get("/v1/refund-policy")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "auto_approve_max_amount": {}, "auto_approve_within_days": None,
        "auto_approve_max_refund_rate": None, "customer_refund_window_days": None,
        "seller_requests_auto_approve": False, "source": "configuration", "version": 0,
        "updated_by": None, "updated_at": None}


def test_an_admin_replaces_the_policy(admin):
    response = admin.put("/v1/refund-policy", json=POLICY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in POLICY} == POLICY
    assert (body["source"], body["version"]) == ("admin", 1)
    assert admin.get("/v1/refund-policy").json() == body
    again = admin.put("/v1/refund-policy", json={"seller_requests_auto_approve": True}).json()
    assert (again["version"], again["auto_approve_max_amount"],
            again["seller_requests_auto_approve"]) == (2, {}, True)


@pytest.mark.parametrize(("role", "binding"), [("seller", {"seller_id": "seller_1"}),
                                               ("customer", {"customer_id": "cust_1"})])
def test_sellers_and_customers_may_neither_read_nor_change_the_policy(as_key, admin, role,
                                                                      binding):
    api = as_key(role, **binding)
    assert api.get("/v1/refund-policy").status_code == 403
    refused = api.put("/v1/refund-policy", json=POLICY)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert admin.get("/v1/refund-policy").json()["version"] == 0


@pytest.mark.parametrize("body", [
    {"auto_approve_max_amount": {"USD": 20.5}},
    {"auto_approve_max_amount": {"USD": "2000"}},
    {"auto_approve_max_amount": {"USD": 0}},
    {"auto_approve_max_amount": {"usd": 2000}},
    {"auto_approve_max_amount": {"XYZ": 2000}},
    {"auto_approve_max_amount": {"USD": 10**15}},
    {"auto_approve_within_days": -1},
    {"auto_approve_within_days": 3651},
    {"customer_refund_window_days": "30"},
    {"auto_approve_max_refund_rate": 0.1},
    {"auto_approve_max_refund_rate": "1.5"},
    {"seller_requests_auto_approve": "true"},
    {"approve_everything": True},
    [],
])
def test_invalid_policies_are_422_and_change_nothing(admin, body):
    response = admin.put("/v1/refund-policy", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in ("validation_failed", "invalid_currency")
    assert admin.get("/v1/refund-policy").json()["version"] == 0


def _customer_request(as_key, captured, amount):
    payment = captured()
    customer = as_key("customer", customer_id="cust_1")
    return customer, customer.post("/v1/refunds", json={
        "payment_id": payment["id"], "amount": amount, "reason": "r"})


def test_the_policy_set_through_the_api_decides_the_next_request(admin, as_key, captured):
    _, waiting = _customer_request(as_key, captured, 1000)
    assert (waiting.json()["status"], waiting.json()["decision_rule"]) == (
        "requested", "manual_review")
    admin.put("/v1/refund-policy", json=POLICY)
    customer, approved = _customer_request(as_key, captured, 1000)
    assert approved.status_code == 201, approved.text
    body = approved.json()
    assert (body["status"], body["decision_rule"], body["decided_by"]) == (
        "succeeded", "customer_small_recent", "system")
    assert "decision_detail" not in body  # the limits and the rate are the admin's to see
    assert admin.get(f"/v1/refunds/{body['id']}").json()["decision_detail"].startswith(
        "10.00 USD ≤ 20.00 USD")
    events = admin.get(f"/v1/payments/{body['payment_id']}/events").json()
    assert events[-1]["to_status"] == "partially_refunded"


def test_the_rule_is_shown_to_the_requester_not_to_the_other_party(admin, as_key, captured):
    admin.put("/v1/refund-policy", json=POLICY)
    _, made = _customer_request(as_key, captured, 1000)
    seller = as_key("seller", seller_id="seller_1")
    seen = seller.get(f"/v1/refunds/{made.json()['id']}").json()
    assert seen["decision_rule"] is None and "decision_detail" not in seen
    own = seller.post("/v1/refunds", json={"payment_id": made.json()["payment_id"],
                                           "amount": 100, "reason": "goodwill"}).json()
    assert own["decision_rule"] == "manual_review"


def test_a_late_customer_request_is_a_409_with_a_stable_code(admin, as_key, captured, storage):
    admin.put("/v1/refund-policy", json={"customer_refund_window_days": 0})
    payment = captured()
    storage.clock = lambda: payment_time(payment)  # a day after the capture
    customer = as_key("customer", customer_id="cust_1")
    response = customer.post("/v1/refunds", json={"payment_id": payment["id"], "reason": "r"},
                             headers={"Idempotency-Key": "late-1"})
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["rule"]) == ("refund_window_closed",
                                                                   "refund_window")
    assert admin.get(f"/v1/refunds?payment_id={payment['id']}").json()["data"] == []
    paid = admin.get(f"/v1/payments/{payment['id']}").json()
    assert paid["refund_reserved_amount"] == 0
    replay = customer.post("/v1/refunds", json={"payment_id": payment["id"], "reason": "r"},
                           headers={"Idempotency-Key": "late-1"})
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (409, "true")


def payment_time(payment):
    from datetime import datetime, timedelta

    return datetime.fromisoformat(payment["succeeded_at"]) + timedelta(days=1)


def test_the_policy_example_is_accepted(admin):
    from paytrack.entrypoints.api.examples import REFUND_POLICY

    for example in REFUND_POLICY["examples"]:
        assert admin.put("/v1/refund-policy", json=example).status_code == 200
    assert payment_body()  # the shared body still builds
