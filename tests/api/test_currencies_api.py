"""Currencies through the API: ISO 4217's minor units and active codes, not CLDR's."""

import pytest

from tests.api.conftest import payment_body


def test_iraqi_dinar_amounts_are_fils_three_decimals(admin, captured):
    payment = captured(currency="IQD", subtotal=25000, tax=1250)  # 25.000 IQD + 1.250 tax
    assert (payment["currency"], payment["total"]) == ("IQD", 26250)
    response = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 26251,
                                               "reason": "r", "approve": True})
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "refund of 26.251 IQD exceeds the refundable 26.250 IQD")


def test_rupiah_amounts_have_two_decimals(admin, captured):
    payment = captured(currency="IDR", subtotal=1500000)  # 15 000.00 IDR
    response = admin.post("/v1/refunds", json={"payment_id": payment["id"],
                                               "amount": 1500001, "reason": "r"})
    assert response.json()["detail"] == (
        "refund of 15000.01 IDR exceeds the refundable 15000.00 IDR")


@pytest.mark.parametrize(("code", "says"), [
    ("XAU", "'XAU' (Gold) has no minor unit in ISO 4217"),
    ("XDR", "'XDR' (SDR (Special Drawing Right)) has no minor unit in ISO 4217"),
    ("XTS", "has no minor unit in ISO 4217"),
    ("XXX", "has no minor unit in ISO 4217"),
    ("DEM", "'DEM' (German Mark) is not an active ISO-4217 currency"),
    ("HRK", "'HRK' (Croatian Kuna) is not an active ISO-4217 currency"),
    ("SLL", "is not an active ISO-4217 currency"),
    ("ZWL", "is not an active ISO-4217 currency"),
])
def test_codes_that_are_not_money_or_no_longer_exist_are_refused(admin, code, says):
    response = admin.post("/v1/payments", json=payment_body(currency=code))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_currency"
    assert says in body["detail"]
    assert admin.get("/v1/payments").json()["data"] == []
