"""Refund requests through the API: a request reserves what it asks, the payment shows
what is reserved and what is still refundable, and the requester (or an admin) can cancel
a request nobody has decided yet."""

import pytest
import schemathesis

from paytrack.entrypoints.api import create_app
from tests.api.test_views_api import check

SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", create_app(None))


@pytest.fixture
def keys(admin, as_key):
    return {"admin": admin, "seller": as_key("seller", seller_id="seller_1"),
            "customer": as_key("customer", customer_id="cust_1")}


def _ask(api, payment_id, **body):
    return api.post("/v1/refunds", json={"payment_id": payment_id, "reason": "r", **body})


def test_a_second_full_request_is_refused_while_the_first_is_open(keys, captured):
    customer = keys["customer"]
    payment = captured(currency="KWD", subtotal=163750)
    first = _ask(customer, payment["id"])
    assert first.status_code == 201 and first.json()["amount"] == 163750
    second = _ask(customer, payment["id"])
    assert second.status_code == 409, second.text
    assert second.json()["code"] == "refund_exceeds_captured"
    assert "163.750 KWD is held by open refund requests" in second.json()["detail"]
    paid = customer.get(f"/v1/payments/{payment['id']}").json()
    assert (paid["refunded_amount"], paid["refund_reserved_amount"],
            paid["refundable_amount"]) == (0, 163750, 0)


@pytest.mark.parametrize("role", ["admin", "seller", "customer"])
def test_every_role_sees_what_is_reserved_and_what_is_refundable(keys, captured, role):
    payment = captured()
    keys["admin"].post("/v1/refunds", json={"payment_id": payment["id"], "amount": 1000,
                                            "reason": "r", "approve": True})
    _ask(keys["customer"], payment["id"], amount=2500)
    paid = keys[role].get(f"/v1/payments/{payment['id']}")
    SCHEMA["/v1/payments/{payment_id}"]["GET"].validate_response(paid)
    assert (paid.json()["refunded_amount"], paid.json()["refund_reserved_amount"],
            paid.json()["refundable_amount"]) == (1000, 2500, 6500)


@pytest.mark.parametrize("role", ["seller", "customer"])
def test_the_requester_cancels_its_request_and_the_reservation_is_released(keys, captured,
                                                                          role):
    api, payment = keys[role], captured()
    asked = _ask(api, payment["id"]).json()
    canceled = api.post(f"/v1/refunds/{asked['id']}/cancel", json={"reason": "found it"})
    assert canceled.status_code == 200, canceled.text
    SCHEMA["/v1/refunds/{refund_id}/cancel"]["POST"].validate_response(canceled)
    check("refund", role, canceled.json())
    assert (canceled.json()["status"], canceled.json()["cancellation_reason"],
            canceled.json()["decided_by"]) == ("canceled", "found it", role)
    paid = api.get(f"/v1/payments/{payment['id']}").json()
    assert (paid["refund_reserved_amount"], paid["refundable_amount"]) == (0, 10000)
    assert api.get(f"/v1/refunds/{asked['id']}").json()["canceled_at"] is not None


def test_an_admin_cancels_any_open_request_without_a_body(keys, captured):
    payment = captured()
    asked = _ask(keys["customer"], payment["id"], amount=500).json()
    canceled = keys["admin"].post(f"/v1/refunds/{asked['id']}/cancel")
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["decided_by"].startswith("admin:key_")
    assert canceled.json()["cancellation_reason"] is None


def test_cancel_is_refused_to_others_and_after_a_decision(keys, as_key, captured):
    payment = captured()
    by_customer = _ask(keys["customer"], payment["id"], amount=100).json()
    by_seller = _ask(keys["seller"], payment["id"], amount=100).json()
    stranger = as_key("customer", customer_id="cust_2")
    other_seller = as_key("seller", seller_id="seller_2")
    for api, refund in ((stranger, by_customer), (other_seller, by_seller)):
        response = api.post(f"/v1/refunds/{refund['id']}/cancel")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = keys["customer"].post(f"/v1/refunds/{by_seller['id']}/cancel")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    keys["admin"].post(f"/v1/refunds/{by_customer['id']}/approve")
    keys["admin"].post(f"/v1/refunds/{by_seller['id']}/reject", json={"reason": "no"})
    for api, refund in ((keys["customer"], by_customer), (keys["seller"], by_seller)):
        response = api.post(f"/v1/refunds/{refund['id']}/cancel")
        assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert keys["admin"].post("/v1/refunds/re_nope/cancel").status_code == 404
    paid = keys["admin"].get(f"/v1/payments/{payment['id']}").json()
    assert (paid["refunded_amount"], paid["refund_reserved_amount"]) == (100, 0)


def test_the_ledger_verifies_after_requests_cancels_rejects_and_refunds(keys, captured):
    admin = keys["admin"]
    payment = captured(subtotal=10001)
    a = _ask(keys["customer"], payment["id"], amount=3333).json()
    b = _ask(keys["seller"], payment["id"], amount=3333).json()
    assert _ask(keys["customer"], payment["id"], amount=3336).status_code == 409
    keys["customer"].post(f"/v1/refunds/{a['id']}/cancel")
    admin.post(f"/v1/refunds/{b['id']}/approve")
    rest = _ask(keys["customer"], payment["id"]).json()
    assert rest["amount"] == 10001 - 3333
    admin.post(f"/v1/refunds/{rest['id']}/reject", json={"reason": "no"})
    done = admin.post("/v1/refunds", json={"payment_id": payment["id"], "reason": "all",
                                           "approve": True}).json()
    assert done["amount"] == 10001 - 3333
    paid = admin.get(f"/v1/payments/{payment['id']}").json()
    assert (paid["status"], paid["refunded_amount"], paid["refund_reserved_amount"]) == (
        "refunded", 10001, 0)
    assert admin.get("/v1/ledger/verify").json()["ok"] is True
