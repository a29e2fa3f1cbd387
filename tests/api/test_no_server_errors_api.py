"""Inputs a probe found to answer 500: each is a 4xx problem now, on SQLite and PostgreSQL."""

from tests.api.conftest import payment_body


def test_capturing_with_a_gateway_id_another_payment_has_names_that_payment(admin):
    first = admin.post("/v1/payments", json=payment_body(gateway="stripe")).json()
    second = admin.post("/v1/payments", json=payment_body(gateway="stripe")).json()
    assert admin.post(f"/v1/payments/{first['id']}/capture",
                      json={"gateway_payment_id": "pi_1"}).status_code == 200
    response = admin.post(f"/v1/payments/{second['id']}/capture",
                          json={"gateway_payment_id": "pi_1"})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "duplicate_gateway_payment"
    assert first["id"] in response.json()["detail"]
    assert admin.get(f"/v1/payments/{second['id']}").json()["status"] == "pending"


def test_recording_a_gateway_id_twice_names_the_payment_that_has_it(admin):
    first = admin.post("/v1/payments", json=payment_body(gateway="stripe",
                                                         gateway_payment_id="pi_2")).json()
    again = admin.post("/v1/payments", json=payment_body(gateway="stripe",
                                                         gateway_payment_id="pi_2"))
    assert again.status_code == 409 and first["id"] in again.json()["detail"]
