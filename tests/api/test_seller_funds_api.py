"""The seller's balance in five figures, its earnings, and its own hold period."""

from __future__ import annotations


def test_earnings_show_what_is_held_and_when_it_becomes_available(admin, captured, as_key):
    payment = captured(subtotal=10000)
    seller = as_key("seller", seller_id="seller_1")
    page = seller.get("/v1/sellers/seller_1/earnings").json()
    [earning] = page["data"]
    assert earning["payment_id"] == payment["id"]
    assert (earning["gross"], earning["commission"], earning["net"], earning["pending"],
            earning["status"]) == (10000, 2000, 8000, 8000, "pending")
    assert earning["available_on"] > payment["succeeded_at"]
    assert page["has_more"] is False
    assert admin.get("/v1/sellers/seller_1/earnings?status=released").json()["data"] == []
    assert seller.get("/v1/sellers/seller_1/balance").json()["balances"] == [
        {"currency": "USD", "pending": 8000, "available": 0, "in_transit": 0, "paid_out": 0,
         "debt": 0}]


def test_another_sellers_earnings_do_not_exist(captured, as_key):
    captured(subtotal=10000)
    other = as_key("seller", seller_id="seller_2")
    assert other.get("/v1/sellers/seller_1/earnings").status_code == 404
    customer = as_key("customer", customer_id="cust_1")
    assert customer.get("/v1/sellers/seller_1/earnings").status_code == 403


def test_a_sellers_hold_period_is_set_and_cleared(admin):
    assert admin.put("/v1/sellers/seller_9", json={"hold_days": 30}).json()["hold_days"] == 30
    cleared = admin.put("/v1/sellers/seller_9", json={"clear_hold_days": True}).json()
    assert cleared["hold_days"] is None
    for bad in (-1, 3651, "7", 1.5):
        response = admin.put("/v1/sellers/seller_9", json={"hold_days": bad})
        assert response.status_code == 422, bad
    both = admin.put("/v1/sellers/seller_9", json={"hold_days": 3, "clear_hold_days": True})
    assert both.status_code == 422


def test_a_bad_earnings_cursor_or_status_is_refused(admin):
    assert admin.get("/v1/sellers/seller_1/earnings?cursor=nope").status_code == 400
    assert admin.get("/v1/sellers/seller_1/earnings?status=paid").status_code == 422
