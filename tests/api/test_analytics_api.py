"""The admin analytics over HTTP: the figures a summary answers with, who may ask (admins
only for now), and what a hostile or mistaken query gets (a 422 problem, never a 500)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, text

from paytrack.adapters.storage.tables import analytics_state

PATHS = ["/v1/analytics/summary", "/v1/analytics/trend", "/v1/analytics/top-sellers",
         "/v1/analytics/top-items", "/v1/analytics/methods", "/v1/analytics/refunds",
         "/v1/analytics/coupons", "/v1/analytics/customers"]
SELLER_PATHS = ["/v1/analytics/seller/summary", "/v1/analytics/seller/trend",
                "/v1/analytics/seller/top-items"]
TRANSACTIONS = "/v1/analytics/seller/transactions"
TODAY = date.today().isoformat()


@pytest.fixture
def sales(captured, admin):
    """Two sellers' sales today: 100.00 and 50.00, and 30.00 of the first refunded."""
    first = captured(subtotal=10000)
    captured(subtotal=5000, seller_id="seller_2", item_id="course_2", method="upi")
    refunded = admin.post("/v1/refunds", json={"payment_id": first["id"], "amount": 3000,
                                               "reason": "r", "approve": True})
    assert refunded.status_code == 201, refunded.text


def test_the_summary_answers_every_figure_for_the_range_in_its_time_zone(admin, sales):
    response = admin.get("/v1/analytics/summary", params={"currency": "USD"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["currency"], body["to"], body["tz"], body["seller_id"]) == (
        "USD", TODAY, "UTC", None)
    assert (date.fromisoformat(body["to"]) - date.fromisoformat(body["from"])).days == 29
    assert {k: body[k] for k in ("transactions", "failed", "gross", "refunded", "refunds",
                                 "net", "platform_revenue", "seller_earnings",
                                 "average_transaction_value", "success_rate",
                                 "failure_rate")} == {
        "transactions": 2, "failed": 0, "gross": 15000, "refunded": 3000, "refunds": 1,
        "net": 12000, "platform_revenue": 3000 - 600, "seller_earnings": 12000 - 2400,
        "average_transaction_value": 7500, "success_rate": "1.0000", "failure_rate": "0.0000"}
    one = admin.get("/v1/analytics/summary", params={"currency": "USD",
                                                     "seller_id": "seller_2"}).json()
    assert (one["seller_id"], one["gross"]) == ("seller_2", 5000)
    assert admin.get("/v1/analytics/summary", params={"currency": "EUR"}).json()[
        "success_rate"] is None


def test_every_view_answers_an_admin(admin, sales):
    trend = admin.get(PATHS[1], params={"currency": "USD", "from": TODAY, "to": TODAY,
                                        "interval": "week"}).json()
    assert [(b["start"], b["end"], b["gross"]) for b in trend["data"]] == [
        (TODAY, TODAY, 15000)]
    sellers = admin.get(PATHS[2], params={"currency": "USD", "limit": 1}).json()
    assert [(s["seller_id"], s["revenue"]) for s in sellers["data"]] == [("seller_1", 10000)]
    items = admin.get(PATHS[3], params={"currency": "USD", "by": "net"}).json()
    assert [(i["item_id"], i["revenue"]) for i in items["data"]] == [
        ("course_1", 7000), ("course_2", 5000)]
    methods = admin.get(PATHS[4], params={"currency": "USD"}).json()
    assert [(m["method"], m["count"], m["amount"]) for m in methods["data"]] == [
        ("card", 1, 10000), ("upi", 1, 5000)]


def test_sellers_and_customers_may_not_read_the_platforms_analytics(as_key):
    seller, customer = as_key("seller", seller_id="seller_1"), as_key("customer",
                                                                      customer_id="cust_1")
    for path in PATHS:
        for api in (seller, customer):
            response = api.get(path, params={"currency": "USD"})
            assert (response.status_code, response.json()["code"]) == (403, "forbidden")


HOSTILE = [
    (PATHS[0], {}, "validation_failed", "query.currency"),
    (PATHS[0], {"currency": "usd"}, "validation_failed", "query.currency"),
    (PATHS[0], {"currency": "XXX"}, "invalid_currency", None),
    (PATHS[0], {"currency": "ZZZ"}, "invalid_currency", None),
    (PATHS[0], {"currency": "USD", "from": "2026-02-30"}, "validation_failed", "query.from"),
    (PATHS[0], {"currency": "USD", "from": "yesterday"}, "validation_failed", "query.from"),
    (PATHS[0], {"currency": "USD", "to": "1767225600"}, "validation_failed", "query.to"),
    (PATHS[0], {"currency": "USD", "to": "2026-03-01T00:00:00Z"}, "validation_failed",
     "query.to"),
    (PATHS[0], {"currency": "USD", "from": "2026-3-1"}, "validation_failed", "query.from"),
    (PATHS[0], {"currency": "USD", "from": "2026-03-02", "to": "2026-03-01"},
     "validation_failed", "to"),
    (PATHS[0], {"currency": "USD", "from": "2000-01-01", "to": "2026-01-01"},
     "validation_failed", "from"),
    (PATHS[0], {"currency": "USD", "from": "0001-01-01", "to": "9999-12-31"},
     "validation_failed", "from"),
    (PATHS[0], {"currency": "USD", "seller_id": "a b"}, "validation_failed", "query.seller_id"),
    (PATHS[1], {"currency": "USD", "interval": "hour"}, "validation_failed", "query.interval"),
    (PATHS[2], {"currency": "USD", "limit": "101"}, "validation_failed", "query.limit"),
    (PATHS[2], {"currency": "USD", "limit": "9" * 40}, "validation_failed", "query.limit"),
    (PATHS[3], {"currency": "USD", "limit": "0"}, "validation_failed", "query.limit"),
    (PATHS[3], {"currency": "USD", "by": "profit"}, "validation_failed", "query.by"),
    (PATHS[4], {"currency": "USD", "interval": "day"}, "unknown_parameter", None),
]


def test_a_hostile_or_mistaken_query_is_a_problem_naming_what_to_fix(admin):
    for path, params, code, field in HOSTILE:
        response = admin.get(path, params=params)
        status = 400 if code == "unknown_parameter" else 422
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == code, (params, body)
        if field is not None:
            assert field in [e["field"] for e in body["errors"]], (params, body)


def test_the_calendars_ends_are_answered_not_a_server_error(admin):
    for start, end in (("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31"),
                       ("9999-12-01", None), (None, "0001-01-02")):
        params = {"currency": "USD", **({"from": start} if start else {}),
                  **({"to": end} if end else {})}
        for path in PATHS:
            query = {**params, "interval": "week"} if path == PATHS[1] else params
            response = admin.get(path, params=query)
            assert response.status_code == 200, (path, query, response.text)


def test_while_the_rollups_are_rebuilt_analytics_answer_503(admin, storage):
    with storage.engine.begin() as conn:
        conn.execute(text("DELETE FROM analytics_state"))
        conn.execute(insert(analytics_state).values(id=1, tz=None, rebuild_required=True))
    response = admin.get(PATHS[0], params={"currency": "USD"})
    assert response.status_code == 503
    assert response.json()["code"] == "analytics_rebuilding"
    assert "paytrack analytics rebuild" in response.json()["detail"]


def test_the_new_views_answer_an_admin(admin, sales):
    refunds = admin.get(PATHS[5], params={"currency": "USD"}).json()
    assert (refunds["refunds"], refunds["refunded"], refunds["refund_rate_by_amount"]) == (
        1, 3000, "0.2000")
    assert [(s["seller_id"], s["refund_rate_by_count"]) for s in refunds["sellers"]] == [
        ("seller_1", "1.0000"), ("seller_2", "0.0000")]
    assert admin.get(PATHS[6], params={"currency": "USD"}).json()["data"] == []
    customers = admin.get(PATHS[7], params={"currency": "USD", "from": TODAY, "to": TODAY,
                                            "interval": "month"}).json()
    assert customers["new_customers"] == 1  # cust_1 bought both
    assert customers["data"][0]["new"] == {"payments": 2, "gross": 15000, "net": 12000}


def test_a_seller_reads_its_own_analytics_and_nothing_else(as_key, admin, sales):
    seller, other = as_key("seller", seller_id="seller_1"), as_key("seller",
                                                                   seller_id="seller_2")
    customer = as_key("customer", customer_id="cust_1")
    own = seller.get(SELLER_PATHS[0], params={"currency": "USD"})
    assert own.status_code == 200, own.text
    body = own.json()
    assert (body["seller_id"], body["gross"], body["refunded"], body["earnings"],
            body["commission"], body["transactions"]) == (
        "seller_1", 10000, 3000, 8000 - 2400, 2000 - 600, 1)
    assert admin.get(SELLER_PATHS[0], params={"currency": "USD",
                                              "seller_id": "seller_1"}).json() == body
    assert other.get(SELLER_PATHS[0], params={"currency": "USD"}).json()["gross"] == 5000
    for path in [*SELLER_PATHS, TRANSACTIONS]:
        params = {"currency": "USD"}
        response = seller.get(path, params={**params, "seller_id": "seller_2"})
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
        response = customer.get(path, params=params)
        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), path
        response = admin.get(path, params=params)
        assert response.status_code == 422, path  # whose?
        assert seller.get(path, params=params).status_code == 200, path
    items = seller.get(SELLER_PATHS[2], params={"currency": "USD"}).json()["data"]
    assert [(i["seller_id"], i["item_id"]) for i in items] == [("seller_1", "course_1")]


def test_a_sellers_transactions_walk_every_row_once_with_the_total(as_key, captured, admin):
    seller = as_key("seller", seller_id="seller_1")
    ids = [captured(subtotal=1000 + i)["id"] for i in range(3)]
    pending = admin.post("/v1/payments", json={
        "customer_id": "cust_2", "seller_id": "seller_1", "item_type": "course",
        "item_id": "course_1", "currency": "EUR", "subtotal": 700, "method": "card"}).json()
    captured(seller_id="seller_2", item_id="course_2")
    seen, cursor = [], None
    while True:
        page = seller.get(TRANSACTIONS, params={"limit": 3, **(
            {"cursor": cursor} if cursor else {})}).json()
        assert page["total"] == 4 and page["seller_id"] == "seller_1"
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert [t["id"] for t in seen] == [pending["id"], *ids[::-1]]
    first = seen[1]
    assert (first["total"], first["seller_amount"], first["platform_fee"],
            first["refunded_amount"], first["status"], first["customer_id"]) == (
        1002, 802, 200, 0, "succeeded", "cust_1")
    assert set(first) == {"id", "status", "currency", "total", "seller_amount",
                          "platform_fee", "refunded_amount", "created_at", "customer_id",
                          "order_id", "item_type", "item_id"}
    done = seller.get(TRANSACTIONS, params={"status": "succeeded"}).json()
    assert done["total"] == 3 and [t["id"] for t in done["data"]] == ids[::-1]
    assert seller.get(TRANSACTIONS, params={"currency": "EUR"}).json()["total"] == 1


SELLER_HOSTILE = [
    (SELLER_PATHS[0], {}, "validation_failed", "query.currency"),
    (SELLER_PATHS[0], {"currency": "USD", "seller_id": "a b"}, "validation_failed",
     "query.seller_id"),
    (SELLER_PATHS[1], {"currency": "USD", "interval": "year"}, "validation_failed",
     "query.interval"),
    (SELLER_PATHS[2], {"currency": "USD", "limit": "0"}, "validation_failed", "query.limit"),
    (SELLER_PATHS[2], {"currency": "USD", "by": "profit"}, "validation_failed", "query.by"),
    (SELLER_PATHS[0], {"currency": "USD", "from": "2026-02-30"}, "validation_failed",
     "query.from"),
    (TRANSACTIONS, {"status": "paid"}, "validation_failed", "query.status"),
    (TRANSACTIONS, {"limit": "101"}, "validation_failed", "query.limit"),
    (TRANSACTIONS, {"currency": "usd"}, "validation_failed", "query.currency"),
    (TRANSACTIONS, {"cursor": "pay_x"}, "invalid_cursor", None),
    (TRANSACTIONS, {"from": "2026-01-01"}, "unknown_parameter", None),
    (PATHS[5], {"currency": "USD", "limit": "-1"}, "validation_failed", "query.limit"),
    (PATHS[7], {"currency": "USD", "interval": "hour"}, "validation_failed",
     "query.interval"),
]


def test_a_hostile_query_on_the_new_views_is_a_problem(as_key, admin):
    seller = as_key("seller", seller_id="seller_1")
    for path, params, code, field in SELLER_HOSTILE:
        response = (admin if path in PATHS else seller).get(path, params=params)
        assert response.status_code in (400, 422), (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == code, (params, body)
        if field is not None:
            assert field in [e["field"] for e in body["errors"]], (params, body)
