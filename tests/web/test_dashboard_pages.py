"""The admin's overview, payments table and payment page over HTTP."""

from __future__ import annotations

import re

import pytest

from paytrack.entrypoints.web.i18n import Formats
from tests.integration.conftest import new_payment
from tests.web.conftest import sign_in


@pytest.fixture
def sales(storage, make_seller):
    make_seller("s_ada")
    make_seller("s_bob")
    return [new_payment(storage, seller_id="s_ada", subtotal=4999),
            new_payment(storage, seller_id="s_bob", subtotal=2500, currency="EUR"),
            new_payment(storage, seller_id="s_bob", subtotal=700, capture=False)]


def kpi(html: str, name: str) -> str:
    found = re.search(rf'data-kpi="{name}">.*?<span class="value">([^<]*)</span>', html, re.S)
    assert found, name
    return found.group(1)


def test_the_overview_shows_the_apis_summary_in_each_currency(admin_web, api, sales):
    for currency in ("USD", "EUR"):
        html = admin_web.get(f"/dashboard/?currency={currency}").text
        day = re.search(r'name="end" type="date" value="([^"]+)"', html).group(1)
        start = re.search(r'name="start" type="date" value="([^"]+)"', html).group(1)
        summary = api.get(f"/v1/analytics/summary?currency={currency}&from={start}&to={day}")
        assert summary.status_code == 200, summary.text
        figures = summary.json()
        for name in ("gross", "net", "platform_revenue", "refunded", "disputed"):
            assert kpi(html, name) == Formats("en").money(figures[name], currency), name
        assert kpi(html, "transactions") == str(figures["transactions"])


def test_the_payments_table_filters_like_the_api_and_downloads_what_it_shows(
        admin_web, api, sales):
    html = admin_web.get("/dashboard/payments?seller_id=s_bob&status=&start=&end=").text
    shown = set(re.findall(r'href="/dashboard/payments/(pay_[0-9A-Z]+)"', html))
    listed = {p["id"] for p in api.get("/v1/payments?seller_id=s_bob").json()["data"]}
    assert shown == listed and len(shown) == 2
    csv = admin_web.get("/dashboard/payments.csv?seller_id=s_bob&status=succeeded")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text == api.get("/v1/exports/payments.csv?seller_id=s_bob&status=succeeded").text
    assert csv.text.count("\n") == 2  # the header and the one captured payment


def test_search_by_a_payment_id_opens_it_and_by_a_gateway_id_filters(admin_web, sales):
    opened = admin_web.get(f"/dashboard/payments?search={sales[0]['id']}",
                           follow_redirects=False)
    assert opened.headers["location"] == f"/dashboard/payments/{sales[0]['id']}"
    none = admin_web.get("/dashboard/payments?search=pi_nothing_like_it")
    assert "No payment matches these filters." in none.text


@pytest.mark.parametrize("query", ["start=2026-13-45", "currency=XXX", "status=nonsense",
                                   "start=" + "9" * 50, "cursor=garbage"])
def test_malformed_filters_are_a_400_page_not_a_500(admin_web, sales, query):
    response = admin_web.get(f"/dashboard/payments?{query}")
    assert 400 <= response.status_code < 500, (query, response.status_code)
    assert "text/html" in response.headers["content-type"]


def test_the_payment_page_shows_its_money_and_entries_to_an_admin(admin_web, sales):
    html = admin_web.get(f"/dashboard/payments/{sales[0]['id']}").text
    assert "$49.99" in html and "platform:revenue" in html and "Audit trail" in html
    assert admin_web.get("/dashboard/payments/pay_01NOPE").status_code == 404


def test_a_seller_sees_its_own_payment_without_the_ledger_and_nothing_else(
        web, make_key, sales):
    sign_in(web, api_key=make_key("seller", seller_id="s_ada"))
    own = web.get(f"/dashboard/payments/{sales[0]['id']}")
    assert own.status_code == 200 and "$49.99" in own.text
    assert "Ledger entries" not in own.text and "Audit trail" not in own.text
    assert web.get(f"/dashboard/payments/{sales[1]['id']}").status_code == 404
    for admin_only in ("/dashboard/payments", "/dashboard/payments.csv"):
        assert web.get(admin_only).status_code == 404, admin_only
