"""The admin analytics over HTTP: the figures a summary answers with, who may ask (admins
only for now), and what a hostile or mistaken query gets (a 422 problem, never a 500)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, text

from paytrack.adapters.storage.tables import analytics_state

PATHS = ["/v1/analytics/summary", "/v1/analytics/trend", "/v1/analytics/top-sellers",
         "/v1/analytics/top-items", "/v1/analytics/methods"]
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
