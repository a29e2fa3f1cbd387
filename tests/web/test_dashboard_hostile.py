"""A hostile tester's requests: dates at the calendar's ends, numbers past any column,
forged or replayed forms, other sellers' objects. Every one is an HTML 4xx page or a
notice, never a 500."""

from __future__ import annotations

import pytest

from tests.web.conftest import field, form_post, sign_in
from tests.web.test_dashboard_bookings import order, set_status
from tests.web.test_dashboard_seller import pay


def answered(response) -> None:
    """A page, a download or an HTML refusal: anything but a 500."""
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert "text/html" in response.headers["content-type"]


def html_refusal(response, status: int | None = None) -> None:
    expected = (status,) if status else (400, 422)
    assert response.status_code in expected, (response.status_code, response.text[:300])
    assert "text/html" in response.headers["content-type"]


@pytest.fixture
def seller_web(web, make_user, make_seller, api):
    """Seller s1's user, with a captured payment (a statement to show)."""
    make_seller("s1")
    pay(api, seller_id="s1")
    make_user("sam", role="seller", seller_id="s1")
    assert sign_in(web, username="sam").status_code == 303
    return web


@pytest.mark.parametrize("query", [
    "end=0001-01-01", "start=0001-01-01", "end=9999-12-31", "start=9999-12-31",
    "start=0001-01-01&end=9999-12-31"])
def test_the_overview_takes_dates_at_the_calendars_ends(admin_web, query):
    answered(admin_web.get(f"/dashboard/?{query}"))


@pytest.mark.parametrize("path", ["/dashboard/payments", "/dashboard/payments.csv"])
@pytest.mark.parametrize("query", ["end=9999-12-31", "start=0001-01-01"])
def test_the_payments_filters_take_dates_at_the_calendars_ends(admin_web, path, query):
    answered(admin_web.get(f"{path}?{query}"))


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/statements",
                                  "/dashboard/statements.csv", "/dashboard/statements.pdf"])
@pytest.mark.parametrize("query", ["end=9999-12-31", "end=0001-01-01", "start=0001-01-01"])
def test_the_sellers_pages_take_dates_at_the_calendars_ends(seller_web, path, query):
    answered(seller_web.get(f"{path}?{query}"))


@pytest.mark.parametrize("cursor", ["9223372036854775808", "99999999999999999999", "0",
                                    "-1", "1.5", "1e3"])
def test_the_ledger_refuses_a_cursor_past_any_account_id(admin_web, cursor):
    html_refusal(admin_web.get(f"/dashboard/ledger?cursor={cursor}"))


def test_an_empty_statement_date_is_no_choice(seller_web):
    """The period form sends ``start=`` when its field is cleared: the default period."""
    for path in ("/dashboard/statements", "/dashboard/statements.csv",
                 "/dashboard/statements.pdf"):
        assert seller_web.get(f"{path}?currency=&start=&end=").status_code == 200, path



@pytest.mark.parametrize("query", [
    "payments?seller_id=%00", "payments?customer_id=a%00b", "payments?search=%00",
    "payments.csv?seller_id=%00", "payments.csv?search=a%00b", "payments?gateway=%E2%80%AE",
    "coupons?cursor=%00", "sellers?cursor=a%00b", "payments/%00", "payments/pay_%00x"])
def test_a_nul_byte_in_a_query_or_an_id_is_a_4xx_page(admin_web, query):
    """PostgreSQL cannot even compare a text holding NUL: it must not reach a query."""
    response = admin_web.get(f"/dashboard/{query}")
    assert 400 <= response.status_code < 500, (query, response.status_code)
    assert "text/html" in response.headers["content-type"]


# -- another seller's objects --------------------------------------------------------------


def test_a_sellers_refund_form_on_another_sellers_payment_is_the_404_page(
        seller_web, api, make_seller):
    make_seller("s2")
    other = pay(api, seller_id="s2")
    html = seller_web.get("/dashboard/").text
    posted = seller_web.post(f"/dashboard/payments/{other['id']}/refunds", data={
        "csrf_token": field(html, "csrf_token"), "form_key": "k1", "amount": "1.00",
        "reason": "mine now"}, follow_redirects=False)
    html_refusal(posted, 404)
    assert "paytrack_notice" not in posted.headers.get("set-cookie", "")
    assert api.get("/v1/refunds", params={"payment_id": other["id"]}).json()["data"] == []
    nothing = seller_web.post("/dashboard/payments/pay_01NOPE/refunds", data={
        "csrf_token": field(html, "csrf_token"), "form_key": "k2"}, follow_redirects=False)
    html_refusal(nothing, 404)
    forged = seller_web.post(f"/dashboard/payments/{other['id']}/refunds",
                             data={"form_key": "k3"}, follow_redirects=False)
    html_refusal(forged, 403)


# -- hostile bodies ------------------------------------------------------------------------


def test_a_form_past_the_body_limit_is_an_html_page(admin_web):
    html = admin_web.get("/dashboard/coupons").text
    body = (f"csrf_token={field(html, 'csrf_token')}&form_key=k&description="
            + "x" * 2_000_000).encode()
    for content in (body, iter([body[:1000], body[1000:]])):  # declared, then streamed
        too_large = admin_web.post("/dashboard/coupons", content=content, headers={
            "content-type": "application/x-www-form-urlencoded"})
        html_refusal(too_large, 413)
    assert admin_web.post("/v1/payments", content=b"x" * 2_000_000).headers[
        "content-type"].startswith("application/")  # the API's answer stays a problem


# -- free text the API would refuse --------------------------------------------------------


def notice_after(client, response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:300])
    return client.get(response.headers["location"]).text


@pytest.mark.parametrize("reason", ["a\x00b", "evil\u202eusrever", "", " "])
def test_the_refund_forms_reason_is_the_apis(admin_web, api, make_seller, reason):
    """``POST /v1/refunds`` takes a reason of 1 to 500 characters without control
    characters or bidirectional overrides; so does the payment page's form."""
    make_seller("s1")
    paid = pay(api, seller_id="s1")
    path = f"/dashboard/payments/{paid['id']}"
    sent = form_post(admin_web, path, f"{path}/refunds", {"amount": "1.00", "reason": reason})
    assert "notice error" in notice_after(admin_web, sent)
    assert api.get("/v1/refunds", params={"payment_id": paid["id"]}).json()["data"] == []


@pytest.mark.parametrize("amount", ["99999999999999999999", "1e309", "-1.00", "0", "NaN"])
def test_the_refund_forms_amount_is_refused_past_the_apis_limits(admin_web, api, make_seller,
                                                                 amount):
    make_seller("s1")
    paid = pay(api, seller_id="s1")
    path = f"/dashboard/payments/{paid['id']}"
    sent = form_post(admin_web, path, f"{path}/refunds", {"amount": amount, "reason": "r"})
    assert "notice error" in notice_after(admin_web, sent)
    assert api.get("/v1/refunds", params={"payment_id": paid["id"]}).json()["data"] == []


@pytest.mark.parametrize("reason", ["a\x00b", "evil\u202eusrever", ""])
def test_the_booking_status_reason_is_the_apis(admin_web, api, reason):
    booked = order(api)
    sent = set_status(admin_web, booked["id"], "confirmed", reason=reason)
    assert "notice error" in notice_after(admin_web, sent)
    assert api.get(f"/v1/orders/{booked['id']}").json()["status"] == booked["status"]


def _raw_post(client, path: str, body: str):
    return client.post(path, content=body.encode(), follow_redirects=False,
                       headers={"content-type": "application/x-www-form-urlencoded"})


def test_a_field_sent_twice_is_refused_not_guessed(admin_web, api, make_seller):
    make_seller("s1")
    paid = pay(api, seller_id="s1")
    path = f"/dashboard/payments/{paid['id']}"
    csrf = field(admin_web.get(path).text, "csrf_token")
    twice = _raw_post(admin_web, f"{path}/refunds", f"csrf_token={csrf}&form_key=k1"
                      "&amount=1.00&amount=2.00&reason=r")
    html_refusal(twice, 422)
    booked = order(api)
    twice = _raw_post(admin_web, f"/dashboard/bookings/{booked['id']}/status",
                      f"csrf_token={csrf}&form_key=k2&status=confirmed&status=cancelled"
                      "&reason=r")
    html_refusal(twice, 422)
    assert api.get("/v1/refunds", params={"payment_id": paid["id"]}).json()["data"] == []
    assert api.get(f"/v1/orders/{booked['id']}").json()["status"] == booked["status"]


def test_the_payout_forms_refuse_a_file_and_a_field_sent_twice(seller_web):
    csrf = field(seller_web.get("/dashboard/payouts").text, "csrf_token")
    twice = _raw_post(seller_web, "/dashboard/payouts", f"csrf_token={csrf}&form_key=k1"
                      "&amount=10.00&amount=20.00&currency=USD&method=bank_transfer")
    html_refusal(twice, 422)
    with_file = seller_web.post("/dashboard/payouts", files={"amount": ("a", b"10.00")},
                                data={"csrf_token": csrf, "form_key": "k2"})
    html_refusal(with_file)
    long = seller_web.post("/dashboard/payouts", data={
        "csrf_token": csrf, "form_key": "k3", "amount": "1" * 100_000, "currency": "USD"})
    html_refusal(long, 422)


# -- signing in ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    {"username": "a\x00b", "password": "correct horse battery"},
    {"username": "ana\x00", "password": "correct horse battery"},
    {"api_key": "ptk_a\x00b_c"}, {"api_key": "ptk_\x00_\x00"}, {"api_key": "ptk_é_x"}])
def test_a_nul_byte_in_the_sign_in_form_is_a_wrong_sign_in(web, make_user, data):
    """Before any session: PostgreSQL cannot look up a text holding NUL."""
    make_user("ana")
    form = web.get("/dashboard/sign-in")
    answer = web.post("/dashboard/sign-in", follow_redirects=False,
                      data={"form_token": field(form.text, "form_token"), **data})
    html_refusal(answer, 401)
    assert "paytrack_session" not in answer.headers.get("set-cookie", "")


# -- the filter forms' own choices ---------------------------------------------------------


def test_the_coupons_filters_all_choice_is_no_filter(admin_web):
    """Its "All" option sends ``active=``: every coupon, not a 400 page."""
    assert admin_web.get("/dashboard/coupons?active=").status_code == 200
    assert admin_web.get("/dashboard/coupons?active=false").status_code == 200
    html_refusal(admin_web.get("/dashboard/coupons?active=maybe"))


@pytest.mark.parametrize("who, path", [("admin", "/dashboard/bookings/ord_%00/status"),
                                       ("seller", "/dashboard/payouts/po_%00/cancel")])
def test_a_nul_byte_in_a_posted_id_is_a_4xx_page(request, who, path):
    """The bookings' and payouts' posts looked their id up before acting (PostgreSQL cannot
    bind a NUL)."""
    client = request.getfixturevalue(f"{who}_web")
    csrf = field(client.get("/dashboard/").text, "csrf_token")
    answer = client.post(path, data={"csrf_token": csrf, "form_key": "k1",
                                     "status": "confirmed", "reason": "r"})
    assert 400 <= answer.status_code < 500, (path, answer.status_code)
    assert "text/html" in answer.headers["content-type"]


def test_a_payout_amount_past_the_fields_length_is_not_cut_to_fit(seller_web):
    csrf = field(seller_web.get("/dashboard/payouts").text, "csrf_token")
    sent = seller_web.post("/dashboard/payouts", follow_redirects=False, data={
        "csrf_token": csrf, "form_key": "k1", "amount": "10.00" + " " * 40 + "7",
        "currency": "USD", "method": "bank_transfer"})
    page = notice_after(seller_web, sent)
    assert "notice error" in page and "is not a decimal amount" in page


# -- redirects -----------------------------------------------------------------------------

OFF_SITE = ["//evil.example", "/\\evil.example", "https://evil.example", "https:evil.example",
            "%2F%2Fevil.example", "/dashboard\\@evil.example", "/dashboard/\r\nSet-Cookie: x=1",
            "/dashboard/\t", "\x00/dashboard/", "/dashboardevil", "/" + "d" * 5000,
            "javascript:alert(1)", "/v1/payments"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_redirect_leaves_the_dashboard(admin_web, api, target):
    """``next`` of the sign-in page and the language switch, ``back`` of a booking's form."""
    for path in ("/dashboard/sign-in", "/dashboard/language?to=ru"):
        answer = admin_web.get(path, params={"next": target[:2000]}, follow_redirects=False)
        assert answer.status_code in (303, 400, 422), (path, answer.status_code)
        if answer.status_code == 303:
            assert answer.headers["location"] == "/dashboard/", (path, target)
    booked = order(api)
    sent = set_status(admin_web, booked["id"], "confirmed", page="/dashboard/bookings")
    assert sent.headers["location"] == "/dashboard/bookings"
    csrf = field(admin_web.get("/dashboard/bookings").text, "csrf_token")
    moved = admin_web.post(f"/dashboard/bookings/{booked['id']}/status", follow_redirects=False,
                           data={"csrf_token": csrf, "form_key": "k-back", "status": "pending",
                                 "reason": "r", "back": target[:2000]})
    assert moved.status_code in (303, 422) and moved.headers.get(
        "location", "/dashboard/") == "/dashboard/", target


def test_a_form_without_its_one_time_key_asks_for_a_reload_and_acts_not(admin_web, api):
    from tests.web.conftest import field

    created = api.post("/v1/payments", json={
        "customer_id": "c1", "seller_id": "s_key", "item_type": "course", "item_id": "i",
        "currency": "USD", "subtotal": 1000, "method": "card"}).json()
    api.post(f"/v1/payments/{created['id']}/capture")
    page = f"/dashboard/payments/{created['id']}"
    html = admin_web.get(page).text
    response = admin_web.post(f"{page}/refunds", data={
        "csrf_token": field(html, "csrf_token"), "reason": "no key", "amount": ""},
        follow_redirects=True)
    assert "out of date: reload the page" in response.text
    assert api.get(f"/v1/refunds?payment_id={created['id']}").json()["data"] == []
