"""The issue's journeys in Chromium: an admin approves a refund and pays a payout, changes
a booking's status in Russian; a seller asks for a payout and downloads a statement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from paytrack.services import seller_funds
from paytrack.services.dashboard_access import create_user
from tests.browser.test_dashboard_browser import PASSWORD, accessible, sign_in
from tests.integration.conftest import ADMIN, committed

BANK = {"method": "bank_transfer", "account_holder": "Ada Lovelace",
        "iban": "DE89 3704 0044 0532 0130 00", "bank_name": "Deutsche Bank"}


def paid(api, seller: str, subtotal: int) -> dict:
    created = api.post("/v1/payments", json={
        "customer_id": "c1", "seller_id": seller, "item_type": "course",
        "item_id": f"course_{seller}", "currency": "USD", "subtotal": subtotal,
        "method": "card"})
    assert created.status_code == 201, created.text
    captured = api.post(f"/v1/payments/{created.json()['id']}/capture")
    assert captured.status_code == 200, captured.text
    return captured.json()


def balance(api, seller: str = "s_ada") -> dict:
    return api.get(f"/v1/sellers/{seller}/balance").json()["balances"][0]


@pytest.fixture
def shop(api, storage):
    """s_ada: a payment with a refund requested, another released and available, and a
    bank account; users for an admin and for s_ada."""
    assert api.put("/v1/sellers/s_ada", json={"hold_days": 0}).status_code == 200
    first = paid(api, "s_ada", 10000)
    paid(api, "s_ada", 20000)
    committed(storage, seller_funds.release_due)
    assert api.put("/v1/sellers/s_ada/payout-account", json=BANK).status_code == 200
    refund = api.post("/v1/refunds", json={"payment_id": first["id"], "amount": 3000,
                                           "reason": "the course was cancelled"})
    assert refund.status_code == 201, refund.text
    committed(storage, create_user, ADMIN, "ana", PASSWORD, "admin")
    committed(storage, create_user, ADMIN, "ada", PASSWORD, "seller", seller_id="s_ada")
    return refund.json()


def test_an_admin_approves_a_refund_and_the_sellers_balance_moves(page: Page, server, api,
                                                                   shop, shoot):
    before = balance(api)
    sign_in(page, server, "ana")
    page.get_by_role("link", name="Queues").click()
    row = page.locator("tr", has_text=shop["id"])
    accessible(page)
    shoot("admin-queues")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    expect(page.locator("tr", has_text=shop["id"])).to_have_count(0)
    refund = api.get(f"/v1/refunds/{shop['id']}").json()
    assert refund["status"] == "succeeded" and refund["seller_part"] > 0
    assert balance(api)["available"] == before["available"] - refund["seller_part"]


def test_a_seller_asks_for_a_payout_and_the_admin_pays_it(page: Page, server, api, shop,
                                                           browser, shoot):
    sign_in(page, server, "ada")
    page.get_by_role("link", name="Payouts").click()
    expect(page.get_by_text(re.compile("Minimum payout"))).to_be_visible()
    accessible(page)
    shoot("seller-payouts")
    page.get_by_label("Amount").fill("50.00")
    page.get_by_role("button", name="Request payout").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    payout = api.get("/v1/payouts?seller_id=s_ada").json()["data"][0]
    assert (payout["amount"], payout["status"]) == (5000, "requested")

    admin = browser.new_page()
    sign_in(admin, server, "ana")
    admin.goto(f"{server}/dashboard/queues")
    admin.locator("tr", has_text=payout["id"]).get_by_role("button", name="Approve").click()
    expect(admin.locator(".notice.ok")).to_be_visible()
    row = admin.locator("tr", has_text=payout["id"])
    row.get_by_label("Provider's reference").fill("SEPA-2026-0042")
    row.get_by_role("button", name="Mark paid").click()
    expect(admin.locator(".notice.ok")).to_be_visible()
    assert api.get(f"/v1/payouts/{payout['id']}").json()["status"] == "paid"
    assert balance(api)["paid_out"] == 5000


def test_an_admin_changes_a_bookings_status_in_russian(page: Page, server, api, shop, shoot):
    created = api.post("/v1/orders", json={
        "customer_id": "stu_1", "currency": "USD", "stream": "2026-spring",
        "lines": [{"item_type": "course", "item_id": "course_py", "seller_id": "s_ada",
                   "unit_price": 5000}]})
    assert created.status_code == 201, created.text
    booking = created.json()["id"]
    sign_in(page, server, "ana")
    page.get_by_role("link", name="Русский").click()
    page.get_by_role("link", name="Бронирования").click()
    row = page.locator("tr", has_text=booking)
    expect(row.locator(".badge").first).to_have_text("В ожидании")
    row.get_by_label("Новый статус").select_option(label="Подтверждено")
    row.get_by_label("Причина").fill("оплачено на стойке")
    row.get_by_role("button", name="Изменить").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    expect(page.locator("tr", has_text=booking).locator(".badge").first).to_have_text(
        "Подтверждено")
    accessible(page)
    shoot("admin-bookings-ru")
    assert api.get(f"/v1/orders/{booking}").json()["status"] == "confirmed"


def test_a_seller_downloads_its_statement(page: Page, server, api, shop, shoot):
    sign_in(page, server, "ada")
    page.get_by_role("link", name="Statements").click()
    expect(page.get_by_text("Closing balance").first).to_be_visible()
    accessible(page)
    shoot("seller-statements")
    with page.expect_download() as csv:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(csv.value.path()).read_text(encoding="utf-8")
    assert "closing" in text.lower() and "s_ada" in text
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Download PDF").click()
    assert Path(pdf.value.path()).read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize("path", ["/dashboard/coupons", "/dashboard/sellers",
                                  "/dashboard/gateways", "/dashboard/ledger",
                                  "/dashboard/bookings"])
def test_every_admin_page_is_accessible_and_shot(page: Page, server, shop, shoot, path):
    sign_in(page, server, "ana")
    response = page.goto(server + path)
    assert response is not None and response.status == 200
    accessible(page)
    shoot("admin-" + path.rsplit("/", 1)[1])
    fits(page, 375)


def fits(page: Page, width: int) -> None:
    """At ``width`` px the page needs no sideways scrolling (wide tables scroll inside
    their own region)."""
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide} px wide on a {width} px screen"


@pytest.mark.parametrize("path", ["/dashboard/transactions", "/dashboard/bookings"])
def test_every_seller_page_is_accessible_and_shot(page: Page, server, shop, shoot, path):
    sign_in(page, server, "ada")
    response = page.goto(server + path)
    assert response is not None and response.status == 200
    accessible(page)
    shoot("seller-" + path.rsplit("/", 1)[1])
    fits(page, 375)
