"""Orders through the HTTP API: a two-seller order paid at the simulator's checkout, each
role's view, hostile input, and the booking seed's per-stream statistics."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from paytrack.entrypoints.upkeep import run_once

ADA, GRACE = "inst_ada", "inst_grace"


def body(customer_id: str = "stu_1", lines=None, **extra) -> dict:
    return {"customer_id": customer_id, "currency": "USD",
            "lines": lines or [
                {"item_type": "course", "item_id": "course_py", "seller_id": ADA,
                 "unit_price": 5000, "tax": 400},
                {"item_type": "course", "item_id": "course_sql", "seller_id": GRACE,
                 "unit_price": 3000}],
            **extra}


def create(admin, **extra) -> dict:
    response = admin.post("/v1/orders", json=body(**extra))
    assert response.status_code == 201, response.text
    return response.json()


def events(admin, order_id: str) -> list[str]:
    found = admin.get("/v1/events", params={"object_id": order_id}).json()["data"]
    return sorted(e["type"] for e in found)


def test_a_two_seller_order_at_the_simulator_is_confirmed_when_both_are_paid(admin):
    order = create(admin, gateway="simulator", discount_percent="10", total=7600)
    assert [p["seller_id"] for p in order["payments"]] == [ADA, GRACE]
    assert all(p["payment_url"] and p["payment_url_expires_at"] for p in order["payments"])
    assert (order["status"], order["confirmed_code"], order["total"]) == ("pending", 1, 7600)
    for payment in order["payments"]:
        captured = admin.post(f"/v1/payments/{payment['id']}/capture")
        assert captured.status_code == 200, captured.text
    got = admin.get(f"/v1/orders/{order['id']}").json()
    assert (got["status"], got["confirmed_code"]) == ("confirmed", 2)
    assert events(admin, order["id"]) == ["order.confirmed"]
    history = admin.get(f"/v1/orders/{order['id']}/history").json()
    assert [e["to_status"] for e in history] == ["pending", "confirmed"]


def test_a_replayed_create_makes_one_order(admin):
    headers = {"Idempotency-Key": "order-1"}
    first = admin.post("/v1/orders", json=body(), headers=headers)
    again = admin.post("/v1/orders", json=body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(admin.get("/v1/orders").json()["data"]) == 1


def test_each_role_sees_its_own_part_of_an_order(admin, as_key):
    order = create(admin, metadata={"campaign": "spring"})
    ada = as_key("seller", seller_id=ADA).get(f"/v1/orders/{order['id']}")
    assert ada.status_code == 200
    seen = ada.json()
    assert [x["seller_id"] for x in seen["lines"]] == [ADA]
    assert [p["seller_id"] for p in seen["payments"]] == [ADA]
    assert seen["total"] == seen["payments"][0]["total"] == 5400
    assert "platform_fee" in seen["payments"][0]
    mine = as_key("customer", customer_id="stu_1").get(f"/v1/orders/{order['id']}").json()
    assert len(mine["lines"]) == 2 and mine["total"] == 8400
    assert "metadata" not in mine
    assert all("platform_fee" not in p and "seller_amount" not in p
               for p in mine["payments"])
    for outsider in (as_key("seller", seller_id="inst_other"),
                     as_key("customer", customer_id="stu_2")):
        for path in (f"/v1/orders/{order['id']}", f"/v1/orders/{order['id']}/history"):
            assert outsider.get(path).status_code == 404
        assert outsider.get("/v1/orders").json()["data"] == []
    assert as_key("customer", customer_id="stu_2").post(
        f"/v1/orders/{order['id']}/cancel").status_code == 404


def test_the_customer_cancels_its_pending_order(admin, as_key):
    order = create(admin)
    customer = as_key("customer", customer_id="stu_1")
    cancelled = customer.post(f"/v1/orders/{order['id']}/cancel",
                              json={"reason": "moved to autumn"})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["confirmed_code"]) == ("cancelled", -1)
    assert {p["status"] for p in cancelled.json()["payments"]} == {"canceled"}
    assert customer.post(f"/v1/orders/{order['id']}/cancel").status_code == 409
    assert events(admin, order["id"]) == ["order.cancelled"]


def test_an_admin_sets_a_status_by_code_with_a_reason(admin, as_key):
    order = create(admin)
    path = f"/v1/orders/{order['id']}/status"
    assert as_key("customer", customer_id="stu_1").post(
        path, json={"confirmed_code": 2, "reason": "x"}).status_code == 403
    done = admin.post(path, json={"confirmed_code": 2, "reason": "paid at the desk"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "confirmed"
    assert {p["status"] for p in done.json()["payments"]} == {"pending"}
    assert admin.post(path, json={"status": "confirmed", "reason": "again"}).status_code == 409
    last = admin.get(f"/v1/orders/{order['id']}/history").json()[-1]
    assert last["reason"] == "override: paid at the desk"


@pytest.mark.parametrize("changes", [
    {"lines": []},
    {"lines": [{"item_type": "course", "item_id": f"c{i}", "seller_id": ADA,
                "unit_price": 100} for i in range(101)]},
    {"lines": [{"item_type": "course", "item_id": "c", "seller_id": ADA, "unit_price": 100,
                "quantity": 10**12}]},
    {"lines": [{"item_type": "course", "item_id": "c", "seller_id": ADA,
                "unit_price": 10**14, "quantity": 10_000}]},
    {"lines": [{"item_type": "course", "item_id": "c", "seller_id": ADA, "unit_price": 1.5}]},
    {"stream": "spring\x00"},
    {"stream": ""},
    {"discount_percent": "12.345"},
    {"discount_percent": 10},
    {"discount_percent": "10", "coupon_code": "SPRING25"},
    {"status": "confirmed"},
    {"customer_id": "stu\x00"},
])
def test_hostile_orders_are_refused_with_a_422(admin, changes):
    response = admin.post("/v1/orders", json={**body(), **changes})
    assert response.status_code == 422, response.text
    assert admin.get("/v1/orders").json()["data"] == []


def test_a_total_that_is_not_the_computed_one_is_refused(admin):
    response = admin.post("/v1/orders", json=body(total=8000))
    assert response.status_code == 422
    assert response.json()["code"] == "order_total_mismatch"
    assert "8400" in response.json()["detail"]


@pytest.mark.parametrize("query", ["stream=a%00b", "confirmed_code=0", "confirmed_code=x",
                                   "status=paid", "seller_id=%00", "item_id=a%20b"])
def test_hostile_list_filters_are_refused_with_a_422(admin, query):
    assert admin.get(f"/v1/orders?{query}").status_code == 422


@pytest.mark.parametrize("body_", [{"confirmed_code": 3, "reason": "x"},
                                   {"confirmed_code": 2}, {"reason": "x"},
                                   {"confirmed_code": 2, "status": "pending", "reason": "x"},
                                   {"status": "refunded", "reason": "x"},
                                   {"confirmed_code": True, "reason": "x"},
                                   {"confirmed_code": 2.0, "reason": "x"}])
def test_hostile_status_bodies_are_refused_with_a_422(admin, body_):
    order = create(admin)
    assert admin.post(f"/v1/orders/{order['id']}/status", json=body_).status_code == 422


def test_the_booking_seed_scenario_stats_equal_the_counts_made_here(admin, as_key):
    """Students book two courses (two instructors) in two streams; some pay, some cancel,
    some stay pending. The statistics answer what the test counts on its own."""
    rng = random.Random(11)
    courses = {"course_py": (ADA, 4999), "course_sql": (GRACE, 3000)}
    expected: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"bookings": 0, "confirmed": 0, "pending": 0, "cancelled": 0,
                 "confirmed_revenue": 0})
    for n in range(16):
        course = rng.choice(sorted(courses))
        seller, price = courses[course]
        stream = rng.choice(["2026-spring", "2026-autumn"])
        percent = rng.choice([None, "10", "12.5"])
        order = create(admin, customer_id=f"stu_{n}", stream=stream, lines=[
            {"item_type": "course", "item_id": course, "seller_id": seller,
             "unit_price": price}], **({"discount_percent": percent} if percent else {}))
        (payment,) = order["payments"]
        outcome = rng.choice(["pay", "cancel", "fail", "wait"])
        if outcome == "pay":
            assert admin.post(f"/v1/payments/{payment['id']}/capture").status_code == 200
        elif outcome == "cancel":
            assert admin.post(f"/v1/orders/{order['id']}/cancel").status_code == 200
        elif outcome == "fail":
            assert admin.post(f"/v1/payments/{payment['id']}/fail").status_code == 200
        row = expected[(course, stream)]
        row["bookings"] += 1
        key = {"pay": "confirmed", "wait": "pending"}.get(outcome, "cancelled")
        row[key] += 1
        if key == "confirmed":
            row["confirmed_revenue"] += price - order["discount"]
    stats = admin.get("/v1/orders/stats/streams").json()["data"]
    got = {(r["item_id"], r["stream"]): {k: r[k] for k in expected[("course_py",
                                                                     "2026-spring")]}
           for r in stats}
    assert got == dict(expected)
    assert {r["currency"] for r in stats} == {"USD"}
    ada = as_key("seller", seller_id=ADA).get("/v1/orders/stats/streams").json()["data"]
    assert {r["item_id"] for r in ada} == {"course_py"}
    assert {(r["item_id"], r["stream"]): r["confirmed_revenue"] for r in ada} == {
        k: v["confirmed_revenue"] for k, v in expected.items() if k[0] == "course_py"}
    spring = admin.get("/v1/orders/stats/streams",
                       params={"stream": "2026-spring", "item_id": "course_sql"}).json()
    assert [(r["item_id"], r["stream"]) for r in spring["data"]] == [
        k for k in [("course_sql", "2026-spring")] if k in expected]
    assert as_key("customer", customer_id="stu_1").get(
        "/v1/orders/stats/streams").status_code == 403


def test_a_failed_payment_cancels_its_order_and_the_worker_cancels_the_other(admin, storage):
    order = create(admin)
    first, second = (p["id"] for p in order["payments"])
    assert admin.post(f"/v1/payments/{first}/fail").status_code == 200
    assert admin.get(f"/v1/orders/{order['id']}").json()["status"] == "cancelled"
    assert run_once(storage).settled == 1
    assert admin.get(f"/v1/payments/{second}").json()["status"] == "canceled"
    assert events(admin, order["id"]) == ["order.cancelled"]
