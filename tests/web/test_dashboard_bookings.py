"""The bookings page (the booking seed): orders with coloured status badges, the status
filter, the per-stream statistics, and the admin's status change with a reason."""

from __future__ import annotations

import pytest

from tests.web.conftest import field, form_post, sign_in

ADA, GRACE = "inst_ada", "inst_grace"


def order(api, *, seller: str = ADA, item: str = "course_py", stream: str = "2026-spring",
          pay: bool = False) -> dict:
    created = api.post("/v1/orders", json={
        "customer_id": "stu_1", "currency": "USD", "stream": stream,
        "lines": [{"item_type": "course", "item_id": item, "seller_id": seller,
                   "unit_price": 5000}]})
    assert created.status_code == 201, created.text
    if pay:
        for payment in created.json()["payments"]:
            captured = api.post(f"/v1/payments/{payment['id']}/capture")
            assert captured.status_code == 200, captured.text
    return api.get(f"/v1/orders/{created.json()['id']}").json()


def set_status(client, order_id: str, status: str, reason: str = "paid at the desk",
               page: str = "/dashboard/bookings", follow: bool = False):
    """The row's form as the page at ``page`` has it (its hidden ``back`` too)."""
    return form_post(client, page, f"/dashboard/bookings/{order_id}/status",
                     {"status": status, "reason": reason, "back": page}, follow=follow)


@pytest.fixture
def seller_web(web, make_user, make_seller):
    make_seller(ADA)
    make_user("ada", role="seller", seller_id=ADA)
    assert sign_in(web, username="ada").status_code == 303
    return web


def test_the_bookings_table_shows_coloured_badges_and_the_stream_statistics(admin_web, api):
    confirmed = order(api, pay=True)
    pending = order(api, item="course_sql")
    page = admin_web.get("/dashboard/bookings")
    assert page.status_code == 200
    assert confirmed["id"] in page.text and pending["id"] in page.text
    assert '<span class="badge status-confirmed">Confirmed</span>' in page.text
    assert '<span class="badge status-pending">Pending</span>' in page.text
    stats = api.get("/v1/orders/stats/streams").json()["data"]
    assert {(s["item_id"], s["confirmed"], s["pending"]) for s in stats} == {
        ("course_py", 1, 0), ("course_sql", 0, 1)}
    assert page.text.index("course_sql") < page.text.index(pending["id"])  # stats above
    assert "$50.00" in page.text  # course_py's confirmed revenue


def test_the_status_filter(admin_web, api):
    confirmed = order(api, pay=True)
    pending = order(api, item="course_sql")
    cancelled = order(api, item="course_go")
    assert api.post(f"/v1/orders/{cancelled['id']}/cancel").status_code == 200
    for status, shown in (("confirmed", confirmed), ("pending", pending),
                          ("cancelled", cancelled)):
        page = admin_web.get(f"/dashboard/bookings?status={status}").text
        others = {confirmed["id"], pending["id"], cancelled["id"]} - {shown["id"]}
        assert shown["id"] in page and not any(o in page for o in others), status
    everything = admin_web.get("/dashboard/bookings?status=").text
    assert all(o["id"] in everything for o in (confirmed, pending, cancelled))
    assert admin_web.get("/dashboard/bookings?status=paid").status_code == 422


def test_an_admin_changes_a_bookings_status_with_a_reason(admin_web, api):
    booked = order(api)
    page = admin_web.get("/dashboard/bookings").text
    assert f'action="/dashboard/bookings/{booked["id"]}/status"' in page
    assert f'<label for="reason-{booked["id"]}">' in page
    done = set_status(admin_web, booked["id"], "confirmed", follow=True)
    assert done.status_code == 200 and "is now confirmed" in done.text
    got = api.get(f"/v1/orders/{booked['id']}").json()
    assert (got["status"], got["confirmed_code"]) == ("confirmed", 2)
    history = api.get(f"/v1/orders/{booked['id']}/history").json()
    assert "paid at the desk" in (history[-1]["reason"] or "")
    assert history[-1]["to_status"] == "confirmed"


def test_a_status_change_keeps_the_filter_it_was_made_from(admin_web, api):
    booked = order(api)
    filtered = admin_web.get("/dashboard/bookings?status=pending").text
    assert 'name="back" value="/dashboard/bookings?status=pending"' in filtered
    done = set_status(admin_web, booked["id"], "cancelled",
                      page="/dashboard/bookings?status=pending")
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard/bookings?status=pending"
    html = admin_web.get("/dashboard/bookings").text
    elsewhere = admin_web.post(f"/dashboard/bookings/{order(api)['id']}/status", data={
        "csrf_token": field(html, "csrf_token"), "form_key": "k1", "status": "confirmed",
        "reason": "r", "back": "https://evil.example/"}, follow_redirects=False)
    assert elsewhere.headers["location"] == "/dashboard/"


def test_a_refused_status_change_is_a_notice(admin_web, api):
    booked = order(api)
    same = set_status(admin_web, booked["id"], "pending", follow=True)
    assert same.status_code == 200 and 'class="notice error"' in same.text
    blank = set_status(admin_web, booked["id"], "confirmed", reason="  ", follow=True)
    assert blank.status_code == 200 and "reason is required" in blank.text
    odd = set_status(admin_web, booked["id"], "refunded", follow=True)
    assert odd.status_code == 200 and 'class="notice error"' in odd.text
    assert api.get(f"/v1/orders/{booked['id']}").json()["status"] == "pending"
    unknown = set_status(admin_web, "ord_01JD8X3M9QH7V2K4T6W8Y0Z1AB", "confirmed")
    assert unknown.status_code == 404


def test_a_double_submitted_status_change_acts_once(admin_web, api):
    booked = order(api)
    html = admin_web.get("/dashboard/bookings").text
    body = {"csrf_token": field(html, "csrf_token"), "form_key": field(html, "form_key"),
            "status": "confirmed", "reason": "paid at the desk"}
    path = f"/dashboard/bookings/{booked['id']}/status"
    first = admin_web.post(path, data=body, follow_redirects=False)
    again = admin_web.post(path, data=body, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    history = api.get(f"/v1/orders/{booked['id']}/history").json()
    assert [e["to_status"] for e in history] == ["pending", "confirmed"]


def test_a_status_change_without_its_csrf_token_is_refused(admin_web, api):
    booked = order(api)
    response = admin_web.post(f"/dashboard/bookings/{booked['id']}/status",
                              data={"form_key": "k1", "status": "confirmed",
                                    "reason": "r"})
    assert response.status_code == 403
    assert api.get(f"/v1/orders/{booked['id']}").json()["status"] == "pending"


def test_a_seller_sees_its_own_bookings_without_the_status_dropdown(seller_web, api):
    mine = order(api, pay=True)
    theirs = order(api, seller=GRACE, item="course_sql")
    page = seller_web.get("/dashboard/bookings")
    assert page.status_code == 200
    assert mine["id"] in page.text and theirs["id"] not in page.text
    assert "course_sql" not in page.text  # not in its stream statistics either
    assert "/status" not in page.text and 'name="reason"' not in page.text
    html = page.text
    refused = seller_web.post(f"/dashboard/bookings/{theirs['id']}/status", data={
        "csrf_token": field(html, "csrf_token"), "form_key": "k1", "status": "cancelled",
        "reason": "no"})
    assert refused.status_code in (403, 404)
    own = seller_web.post(f"/dashboard/bookings/{mine['id']}/status", data={
        "csrf_token": field(html, "csrf_token"), "form_key": "k2", "status": "cancelled",
        "reason": "no"})
    assert own.status_code in (403, 404)
    assert api.get(f"/v1/orders/{theirs['id']}").json()["status"] == "pending"
    assert api.get(f"/v1/orders/{mine['id']}").json()["status"] == "confirmed"
