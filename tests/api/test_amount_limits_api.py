"""One amount is at most MAX_AMOUNT_MINOR (fourteen digits) wherever it enters; anything
above is a 422 that names the field, the maximum and an example."""

import pytest

from paytrack.domain.limits import MAX_AMOUNT_MINOR
from tests.api.conftest import payment_body

MOST = MAX_AMOUNT_MINOR
ABOVE = MAX_AMOUNT_MINOR + 1


def _assert_limit_problem(response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    [error] = [e for e in body["errors"] if e["field"] == field]
    assert error["type"] == "amount_limit_exceeded"
    assert str(MAX_AMOUNT_MINOR) in error["message"]
    assert "999999999999.99 USD" in error["message"]  # an example in a real currency
    assert body["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize("field", ["subtotal", "discount", "tax", "shipping", "gateway_fee"])
def test_an_amount_above_the_limit_is_refused_when_a_payment_is_created(admin, field):
    body = payment_body(**{field: ABOVE}, captured=field == "gateway_fee")
    _assert_limit_problem(admin.post("/v1/payments", json=body), field)
    assert admin.get("/v1/payments").json()["data"] == []


def test_a_total_above_the_limit_is_refused_and_names_the_total(admin):
    response = admin.post("/v1/payments", json=payment_body(subtotal=MOST, tax=1))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "amount_limit_exceeded"
    assert body["errors"] == [{"field": "total", "type": "amount_limit_exceeded",
                               "message": body["detail"]}]
    assert str(MAX_AMOUNT_MINOR) in body["detail"] and "USD" in body["detail"]


def test_the_largest_amount_is_accepted_captured_and_refunded(admin):
    created = admin.post("/v1/payments", json=payment_body(subtotal=MOST, currency="IDR"))
    assert created.status_code == 201, created.text
    captured = admin.post(f"/v1/payments/{created.json()['id']}/capture",
                          json={"gateway_fee": MOST})
    assert captured.status_code == 200, captured.text
    refund = admin.post("/v1/refunds", json={"payment_id": captured.json()["id"],
                                             "amount": MOST, "reason": "r", "approve": True})
    assert refund.status_code == 201 and refund.json()["status"] == "succeeded"


def test_a_capture_fee_and_a_refund_above_the_limit_are_refused(admin, captured):
    pending = admin.post("/v1/payments", json=payment_body()).json()
    _assert_limit_problem(admin.post(f"/v1/payments/{pending['id']}/capture",
                                     json={"gateway_fee": ABOVE}), "gateway_fee")
    paid = captured()
    _assert_limit_problem(admin.post("/v1/refunds", json={"payment_id": paid["id"],
                                                          "amount": ABOVE, "reason": "r"}),
                          "amount")
