"""Errors that say what to do: each names the field, what was expected and an example,
never a raw pattern or a bare "Field required"."""

import re

import pytest

from paytrack.domain.errors import InvalidRate
from paytrack.domain.splits import parse_rate
from tests.api.conftest import payment_body


def _says_what_to_do(body: dict, field: str, *needles: str) -> str:
    assert body["status"] == 422 and body["code"] == "validation_failed", body
    error = next(e for e in body["errors"] if e["field"] == field)
    message = error["message"]
    assert "expected" in message and "e.g." in message, message
    assert "pattern" not in message and not re.search(r"[\^$]|\\d|\{\d", message), message
    for needle in needles:
        assert needle in message, message
    assert f"{field}: " in body["detail"]
    return message


def test_a_body_sent_without_the_json_content_type_says_to_send_json(admin):
    response = admin.post("/v1/payments", content=b'{"subtotal": 1000}',
                          headers={"content-type": "application/x-www-form-urlencoded"})
    message = _says_what_to_do(response.json(), "body", "Content-Type: application/json",
                               "application/x-www-form-urlencoded", '"customer_id"')
    assert "valid dictionary" not in message


def test_a_reject_without_a_body_says_what_the_body_holds(admin):
    response = admin.post("/v1/refunds/re_0/reject")
    _says_what_to_do(response.json(), "body", '{"reason": ')


def test_a_reject_without_a_reason_names_it_with_an_example(admin):
    response = admin.post("/v1/refunds/re_0/reject", json={})
    _says_what_to_do(response.json(), "reason", "required")


def test_a_lowercase_currency_says_capitals_with_an_example(admin):
    response = admin.post("/v1/payments", json=payment_body(currency="usd"))
    _says_what_to_do(response.json(), "currency", "capital", '"USD"', '"usd"')


@pytest.mark.parametrize("rate", ["10%", 0.1, ".5", "0.1234567", "1.5", " 0.1", "abc"])
def test_a_rate_in_another_form_says_which_form_with_an_example(admin, rate):
    response = admin.post("/v1/payments", json=payment_body(commission_rate=rate))
    _says_what_to_do(response.json(), "commission_rate", '"0.10"', "string")
    seller = admin.put("/v1/sellers/s1", json={"commission_rate": rate})
    _says_what_to_do(seller.json(), "commission_rate", '"0.10"')


@pytest.mark.parametrize("rate", ["0", "1", "0.1", "0.10", "0.123456", "1.0", "1.000000"])
def test_the_api_and_the_domain_accept_the_same_rates(admin, rate):
    assert parse_rate(rate) is not None
    response = admin.post("/v1/payments", json=payment_body(commission_rate=rate))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("rate", [".5", "0.", "1.5", "0.1234567", " 0.1", "1.01", "+0.1",
                                  "0.1\n", "٠.١"])
def test_the_domain_refuses_what_the_api_refuses(admin, rate):
    with pytest.raises(InvalidRate):
        parse_rate(rate)
    assert admin.post("/v1/payments", json=payment_body(commission_rate=rate)) \
        .status_code == 422


def test_a_float_amount_still_says_minor_units_with_an_example(admin):
    response = admin.post("/v1/payments", json=payment_body(subtotal=12.5))
    _says_what_to_do(response.json(), "subtotal", "minor units")


def test_a_malformed_party_id_says_which_characters_with_an_example(admin):
    response = admin.post("/v1/payments", json=payment_body(seller_id="has space"))
    _says_what_to_do(response.json(), "seller_id", "letters")


def test_a_malformed_path_id_says_what_an_id_looks_like(admin):
    response = admin.get("/v1/payments/pay%20x")
    _says_what_to_do(response.json(), "path.payment_id", "pay_")


def test_an_unknown_method_lists_the_methods(admin):
    response = admin.post("/v1/payments", json=payment_body(method="cheque"))
    _says_what_to_do(response.json(), "method", "card", "upi")


@pytest.mark.parametrize("path", ["/v1/payments", "/v1/refunds", "/v1/refunds/{refund_id}/reject",
                                  "/v1/payments/{payment_id}/capture"])
def test_every_body_field_of_every_write_has_a_description_and_an_example(app, path):
    """The messages above come from the documented schema: nothing may lack them."""
    schema = app.openapi()
    operation = schema["paths"][path]["post"]
    ref = re.search(r"#/components/schemas/(\w+)", str(operation["requestBody"]))[1]
    for name, prop in schema["components"]["schemas"][ref]["properties"].items():
        text = str(prop)
        assert "description" in text and "example" in text, (ref, name, prop)


def test_every_parameter_of_every_route_has_a_description_and_an_example(app):
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                text = str(parameter)
                assert "description" in text and "example" in text, (method, path, parameter)


@pytest.mark.parametrize(("params", "field", "needle"), [
    ({"limit": 0}, "query.limit", "1 to 100"),
    ({"status": "done"}, "query.status", '"succeeded"'),
    ({"seller_id": "a b"}, "query.seller_id", '"seller_42"'),
    ({"created_gte": "yesterday"}, "query.created_gte", "2026-01-31T00:00:00Z"),
    # numbers of seconds, which pydantic alone would read as Unix times
    ({"created_gte": "+5"}, "query.created_gte", "2026-01-31T00:00:00Z"),
    ({"created_lt": "5.0e1"}, "query.created_lt", "2026-01-31T00:00:00Z"),
    ({"method": "cheque"}, "query.method", "upi"),
])
def test_a_refused_query_parameter_says_what_it_takes(admin, params, field, needle):
    response = admin.get("/v1/payments", params=params)
    _says_what_to_do(response.json(), field, needle)


def test_a_field_the_request_does_not_take_is_named_with_those_it_does(admin):
    response = admin.post("/v1/payments", json=payment_body(status="succeeded"))
    error = response.json()["errors"][0]
    assert error["field"] == "status" and "customer_id" in error["message"]
    assert "Extra inputs" not in error["message"]


def test_setting_and_clearing_a_sellers_rate_at_once_is_refused(admin):
    response = admin.put("/v1/sellers/inst_new", json={"clear_commission_rate": True,
                                                       "commission_rate": "0.3"})
    assert response.status_code == 422
    assert "not both" in response.json()["detail"]


def test_every_post_documents_the_idempotency_key_header(client):
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        if "post" in operations:
            headers = [p["name"] for p in operations["post"].get("parameters", [])
                       if p["in"] == "header"]
            assert "Idempotency-Key" in headers, path
