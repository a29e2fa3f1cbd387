"""Bad input gets a clear 4xx problem and changes nothing; no client input is ever a 500."""

import pytest

from tests.api.conftest import payment_body


@pytest.mark.parametrize(("changes", "field"), [
    ({"subtotal": 12.5}, "subtotal"),
    ({"subtotal": 1000.0}, "subtotal"),
    ({"subtotal": "12.50"}, "subtotal"),
    ({"subtotal": 0}, "subtotal"),
    ({"subtotal": -100}, "subtotal"),
    ({"subtotal": 10**15 + 1}, "subtotal"),
    ({"discount": True}, "discount"),
    ({"currency": "usd"}, "currency"),
    ({"commission_rate": 0.1}, "commission_rate"),
    ({"commission_rate": "1.5"}, "commission_rate"),
    ({"method": "cheque"}, "method"),
    ({"status": "succeeded"}, "status"),
    ({"refunded_amount": 0}, "refunded_amount"),
    ({"seller_id": "has space"}, "seller_id"),
    ({"metadata": {"note": "nul\u0000byte"}}, "metadata.note"),
])
def test_invalid_fields_are_422_with_the_field_named(admin, changes, field):
    response = admin.post("/v1/payments", json=payment_body(**changes))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed" and body["status"] == 422
    assert any(e["field"].startswith(field) for e in body["errors"]), body
    assert admin.get("/v1/payments").json()["data"] == []


def test_a_float_amount_says_how_to_send_amounts(admin):
    detail = admin.post("/v1/payments", json=payment_body(subtotal=12.5)).json()["detail"]
    assert "minor units" in detail


def test_an_unknown_currency_is_refused(admin):
    response = admin.post("/v1/payments", json=payment_body(currency="XYZ"))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_currency"


def test_a_discount_above_the_subtotal_is_refused(admin):
    response = admin.post("/v1/payments", json=payment_body(subtotal=1000, discount=1001))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "discount"


@pytest.mark.parametrize(("currency", "subtotal"), [
    ("JPY", 1050.5), ("JPY", "1050.5"), ("JPY", 1050.0), ("USD", 12.505), ("USD", "12.505"),
    ("KWD", "1.2345"), ("IQD", 25.0005), ("IQD", "25.0005"),
])
def test_more_decimals_than_the_currency_allows_cannot_be_sent(admin, currency, subtotal):
    """Amounts are JSON integers of minor units, so no currency's decimals can be exceeded:
    a float or a decimal string is a 422 that says how to send an amount."""
    response = admin.post("/v1/payments", json=payment_body(currency=currency,
                                                            subtotal=subtotal))
    assert response.status_code == 422, response.text
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["subtotal"]
    assert "minor units" in body["detail"]
    assert admin.get("/v1/payments").json()["data"] == []


@pytest.mark.parametrize(("currency", "subtotal"), [("JPY", 1050), ("IQD", 25250),
                                                    ("KWD", 1234)])
def test_an_integer_amount_is_a_count_of_minor_units(admin, currency, subtotal):
    response = admin.post("/v1/payments", json=payment_body(currency=currency,
                                                            subtotal=subtotal))
    assert response.status_code == 201 and response.json()["total"] == subtotal


def test_malformed_json_is_a_400(admin):
    response = admin.post("/v1/payments", content=b'{"subtotal": 12,',
                          headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_a_missing_body_is_a_422(admin):
    assert admin.post("/v1/payments").status_code == 422


def test_unknown_routes_and_methods_are_problems(admin):
    assert admin.get("/v1/nothing").json()["code"] == "not_found"
    response = admin.client.delete("/v1/payments", headers=admin.headers)
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_over_refund_is_a_409(admin, captured):
    payment = captured(subtotal=1000)
    response = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 1001,
                                               "reason": "r"})
    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds_captured"
    assert response.json()["refundable"] == 1000
