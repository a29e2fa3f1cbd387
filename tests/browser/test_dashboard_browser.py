"""The dashboard as a person uses it: in Chromium, signed in, clicking."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from paytrack.entrypoints.web.i18n import Formats
from paytrack.services import analytics
from paytrack.services.dashboard_access import create_user
from paytrack.services.parties import upsert_party
from paytrack.services.refunds import request_refund
from tests.integration.conftest import ADMIN, committed, new_payment

PASSWORD = "correct horse battery"
SERIOUS = ("serious", "critical")


@pytest.fixture
def market(storage):
    """Two sellers, their payments in USD, a refund waiting, and a user for each role."""
    for seller in ("s_ada", "s_bob"):
        committed(storage, upsert_party, "seller", seller, ADMIN)
    paid = [new_payment(storage, seller_id="s_ada", subtotal=4999, customer_id="c1"),
            new_payment(storage, seller_id="s_ada", subtotal=12000, customer_id="c2"),
            new_payment(storage, seller_id="s_bob", subtotal=2500, customer_id="c3")]
    new_payment(storage, seller_id="s_bob", subtotal=999, capture=False)
    committed(storage, request_refund, paid[1]["id"], ADMIN, reason="wrong size",
              amount=2000)
    committed(storage, create_user, ADMIN, "ana", PASSWORD, "admin")
    committed(storage, create_user, ADMIN, "ada", PASSWORD, "seller", seller_id="s_ada")
    return paid


def sign_in(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def accessible(page: Page) -> None:
    """axe-core finds nothing serious or critical on the page."""
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert not bad, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]


def test_the_admin_overview_shows_the_apis_figures(page: Page, server, market, storage,
                                                    shoot):
    sign_in(page, server, "ana")
    with storage.unit_of_work(readonly=True) as uow:
        today = uow.now().date()
        summary = analytics.summary(uow, ADMIN, currency="USD", start=today, end=today)
    money = Formats("en").money
    for kpi in ("gross", "net", "platform_revenue", "average_transaction_value"):
        expect(page.locator(f'[data-kpi="{kpi}"] .value')).to_have_text(
            money(summary[kpi], "USD"))
    expect(page.locator('[data-kpi="transactions"] .value')).to_have_text(
        str(summary["transactions"]))
    assert summary["transactions"] == 3 and summary["gross"] == 4999 + 12000 + 2500
    expect(page.get_by_role("img", name=re.compile("Revenue"))).to_be_visible()
    accessible(page)
    shoot("admin-overview")


def test_the_payments_table_filters_and_opens_a_payment(page: Page, server, market, shoot):
    sign_in(page, server, "ana")
    page.get_by_role("link", name="Payments").click()
    rows = page.locator("table.payments tbody tr")
    expect(rows).to_have_count(4)
    page.get_by_label("Seller").fill("s_bob")
    page.get_by_label("Status").select_option("succeeded")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("s_bob")
    expect(rows.first).to_contain_text("$25.00")
    accessible(page)
    shoot("admin-payments")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Ledger entries")).to_be_visible()
    expect(page.get_by_text("platform:revenue").first).to_be_visible()
    accessible(page)
    shoot("admin-payment")


def test_a_seller_sees_its_balance_and_gets_404_for_another_sellers_payment(
        page: Page, server, market, shoot):
    sign_in(page, server, "ada")
    expect(page.get_by_role("heading", name="Balance", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Ledger")).to_have_count(0)
    accessible(page)
    shoot("seller-balance")
    own = page.goto(f"{server}/dashboard/payments/{market[0]['id']}")
    assert own is not None and own.status == 200
    other = page.goto(f"{server}/dashboard/payments/{market[2]['id']}")
    assert other is not None and other.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    admin_page = page.goto(f"{server}/dashboard/payments")
    assert admin_page is not None and admin_page.status == 404


def test_a_form_post_without_the_csrf_token_is_refused(page: Page, server, market):
    sign_in(page, server, "ana")
    refused = page.request.post(f"{server}/dashboard/sign-out", form={"csrf_token": "nope"},
                                max_redirects=0)
    assert refused.status == 403
    page.goto(f"{server}/dashboard/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in


def test_russian_from_the_switch_and_a_phone_sized_screen(page: Page, server, market, shoot):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, server, "ana")
    page.get_by_role("link", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide on a 375 px screen"
    accessible(page)
    shoot("admin-overview-ru-375")


def test_the_keyboard_reaches_the_content_first(page: Page, server, market):
    sign_in(page, server, "ana")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused, "after the skip link, Tab lands inside the main content"


def test_the_accessibility_check_does_catch_a_serious_violation(page: Page):
    page.set_content("<html lang='en'><title>t</title><main><input type='text'>"
                     "<img src='x.png'></main></html>")
    with pytest.raises(AssertionError, match="label"):
        accessible(page)
