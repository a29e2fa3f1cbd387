"""The seller's dashboard pages: its transactions, its payouts (request with the minimum
and the available balance shown, cancel) and its statements (HTML, CSV, PDF)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest

from paytrack.services import seller_funds
from tests.api.conftest import payment_body
from tests.integration.conftest import committed
from tests.web.conftest import field, form_post, sign_in

BANK = {"method": "bank_transfer", "account_holder": "Ada Lovelace",
        "iban": "DE89 3704 0044 0532 0130 00", "bank_name": "Deutsche Bank"}


def pay(api, *, capture: bool = True, **changes) -> dict:
    seller = changes.get("seller_id", "seller_1")
    body = payment_body(**{"item_id": f"course_{seller}", **changes})
    created = api.post("/v1/payments", json=body)
    assert created.status_code == 201, created.text
    if not capture:
        return created.json()
    captured = api.post(f"/v1/payments/{created.json()['id']}/capture")
    assert captured.status_code == 200, captured.text
    return captured.json()


@pytest.fixture
def seller_web(web, make_user, make_seller):
    """Signed in as seller s1's user."""
    make_seller("s1")
    make_user("sam", role="seller", seller_id="s1")
    assert sign_in(web, username="sam").status_code == 303
    return web


@pytest.fixture
def funded(api, storage, make_seller):
    """s1 with 8,000 USD cents available and a bank account to be paid to."""
    make_seller("s1")
    assert api.put("/v1/sellers/s1", json={"hold_days": 0}).status_code == 200
    pay(api, seller_id="s1", subtotal=10000)
    committed(storage, seller_funds.release_due)
    assert api.put("/v1/sellers/s1/payout-account", json=BANK).status_code == 200
    available = api.get("/v1/sellers/s1/balance").json()["balances"][0]["available"]
    assert available == 8000
    return api


def payouts_of(api, seller_id: str = "s1") -> list[dict]:
    return api.get("/v1/payouts", params={"seller_id": seller_id}).json()["data"]


# -- transactions ------------------------------------------------------------------------


def test_a_seller_sees_only_its_own_transactions_newest_first(seller_web, api, make_seller):
    make_seller("s2")
    first = pay(api, seller_id="s1")
    second = pay(api, seller_id="s1", subtotal=2000)
    other = pay(api, seller_id="s2")
    page = seller_web.get("/dashboard/transactions")
    assert page.status_code == 200
    assert first["id"] in page.text and second["id"] in page.text
    assert other["id"] not in page.text
    assert page.text.index(second["id"]) < page.text.index(first["id"])
    assert f'href="/dashboard/payments/{first["id"]}"' in page.text
    assert seller_web.get(f"/dashboard/payments/{first['id']}").status_code == 200
    refused = seller_web.get(f"/dashboard/payments/{other['id']}")
    assert refused.status_code == 404 and "text/html" in refused.headers["content-type"]


def test_the_transactions_filter_by_status_and_currency(seller_web, api):
    paid = pay(api, seller_id="s1")
    waiting = pay(api, seller_id="s1", capture=False)
    euros = pay(api, seller_id="s1", currency="EUR")
    succeeded = seller_web.get("/dashboard/transactions?status=succeeded").text
    assert paid["id"] in succeeded and euros["id"] in succeeded
    assert waiting["id"] not in succeeded
    pending = seller_web.get("/dashboard/transactions?status=pending").text
    assert waiting["id"] in pending and paid["id"] not in pending
    in_euros = seller_web.get("/dashboard/transactions?currency=EUR").text
    assert euros["id"] in in_euros and paid["id"] not in in_euros
    assert seller_web.get("/dashboard/transactions?status=nonsense").status_code == 422
    assert seller_web.get("/dashboard/transactions?currency=XXZ").status_code in (400, 422)


def test_the_transactions_page_through_with_a_cursor(seller_web, api, monkeypatch):
    from paytrack.entrypoints.web.pages import seller
    monkeypatch.setattr(seller, "PAGE_SIZE", 2)
    made = [pay(api, seller_id="s1", subtotal=1000 + i)["id"] for i in range(3)]
    first = seller_web.get("/dashboard/transactions").text
    assert made[2] in first and made[1] in first and made[0] not in first
    cursor = re.search(r'href="\?cursor=([^"&]+)" rel="next"', first)
    assert cursor, "no link to the next page"
    second = seller_web.get(f"/dashboard/transactions?cursor={cursor.group(1)}").text
    assert made[0] in second and made[2] not in second
    assert seller_web.get("/dashboard/transactions?cursor=made-up").status_code == 400


def test_an_admin_has_no_transactions_page(admin_web):
    assert admin_web.get("/dashboard/transactions").status_code == 404


# -- payouts -----------------------------------------------------------------------------


def test_the_payout_form_shows_the_available_balance_and_the_minimum(seller_web, funded):
    page = seller_web.get("/dashboard/payouts")
    assert page.status_code == 200
    assert "$80.00" in page.text  # available
    assert "Minimum payout: $10.00" in page.text
    assert 'name="amount"' in page.text and 'name="method"' in page.text


def test_a_seller_requests_a_payout_and_cancels_it(seller_web, funded):
    done = form_post(seller_web, "/dashboard/payouts", "/dashboard/payouts",
                     {"amount": "25.00", "currency": "USD", "method": "bank_transfer"})
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/payouts"
    [payout] = payouts_of(funded)
    assert (payout["amount"], payout["status"], payout["method"]) == (
        2500, "requested", "bank_transfer")
    balance = funded.get("/v1/sellers/s1/balance").json()["balances"][0]
    assert (balance["available"], balance["in_transit"]) == (5500, 2500)
    page = seller_web.get("/dashboard/payouts")
    assert payout["id"] in page.text and "requested" in page.text
    assert f'action="/dashboard/payouts/{payout["id"]}/cancel"' in page.text
    canceled = form_post(seller_web, "/dashboard/payouts",
                         f"/dashboard/payouts/{payout['id']}/cancel", {})
    assert canceled.status_code == 303
    assert funded.get(f"/v1/payouts/{payout['id']}").json()["status"] == "canceled"
    assert funded.get("/v1/sellers/s1/balance").json()["balances"][0]["available"] == 8000
    after = seller_web.get("/dashboard/payouts").text
    assert f'action="/dashboard/payouts/{payout["id"]}/cancel"' not in after


def test_a_payout_below_the_minimum_is_a_notice_not_an_error(seller_web, funded):
    done = form_post(seller_web, "/dashboard/payouts", "/dashboard/payouts",
                     {"amount": "5.00", "currency": "USD", "method": "bank_transfer"},
                     follow=True)
    assert done.status_code == 200
    assert "at least 10.00 USD" in done.text and 'class="notice error"' in done.text
    assert payouts_of(funded) == []


@pytest.mark.parametrize("amount, currency, method", [
    ("twelve", "USD", "bank_transfer"), ("12.345", "USD", "bank_transfer"),
    ("-5", "USD", "bank_transfer"), ("", "USD", "bank_transfer"),
    ("20.00", "XXZ", "bank_transfer"), ("20.00", "USD", "carrier_pigeon"),
    ("9" * 60, "USD", "bank_transfer"), ("900.00", "USD", "bank_transfer")])
def test_bad_payout_input_is_shown_as_a_notice(seller_web, funded, amount, currency, method):
    done = form_post(seller_web, "/dashboard/payouts", "/dashboard/payouts",
                     {"amount": amount, "currency": currency, "method": method},
                     follow=True)
    assert done.status_code == 200 and 'class="notice error"' in done.text
    assert payouts_of(funded) == []


def test_a_double_submitted_payout_form_requests_once(seller_web, funded):
    html = seller_web.get("/dashboard/payouts").text
    body = {"csrf_token": field(html, "csrf_token"), "form_key": field(html, "form_key"),
            "amount": "25.00", "currency": "USD", "method": "bank_transfer"}
    first = seller_web.post("/dashboard/payouts", data=body, follow_redirects=False)
    again = seller_web.post("/dashboard/payouts", data=body, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert len(payouts_of(funded)) == 1


def test_payout_forms_without_their_csrf_token_are_refused(seller_web, funded):
    html = seller_web.get("/dashboard/payouts").text
    data = {"form_key": field(html, "form_key"), "amount": "25.00", "currency": "USD",
            "method": "bank_transfer"}
    assert seller_web.post("/dashboard/payouts", data=data).status_code == 403
    assert payouts_of(funded) == []
    form_post(seller_web, "/dashboard/payouts", "/dashboard/payouts",
              {"amount": "25.00", "currency": "USD", "method": "bank_transfer"})
    [payout] = payouts_of(funded)
    refused = seller_web.post(f"/dashboard/payouts/{payout['id']}/cancel",
                              data={"form_key": "k1"})
    assert refused.status_code == 403
    assert payouts_of(funded)[0]["status"] == "requested"


def test_another_sellers_payout_cannot_be_canceled(web, funded, make_user, make_seller):
    make_seller("s2")
    made = funded.post("/v1/payouts", json={"seller_id": "s1", "amount": 2500,
                                            "currency": "USD", "method": "bank_transfer"})
    assert made.status_code == 201, made.text
    make_user("sue", role="seller", seller_id="s2")
    sign_in(web, username="sue")
    html = web.get("/dashboard/payouts").text
    assert made.json()["id"] not in html
    refused = web.post(f"/dashboard/payouts/{made.json()['id']}/cancel",
                       data={"csrf_token": field(html, "csrf_token"), "form_key": "k1"})
    assert refused.status_code == 404
    assert funded.get(f"/v1/payouts/{made.json()['id']}").json()["status"] == "requested"


def test_an_admin_sees_every_payout_without_the_request_form(admin_web, funded):
    made = funded.post("/v1/payouts", json={"seller_id": "s1", "amount": 2500,
                                            "currency": "USD", "method": "bank_transfer"})
    page = admin_web.get("/dashboard/payouts")
    assert page.status_code == 200 and made.json()["id"] in page.text
    assert 'name="amount"' not in page.text
    refused = form_post(admin_web, "/dashboard/payouts", "/dashboard/payouts",
                        {"amount": "25.00", "currency": "USD", "method": "bank_transfer"})
    assert refused.status_code == 404
    assert len(payouts_of(funded)) == 1


# -- statements --------------------------------------------------------------------------


def statement_params(days_back: int = 3) -> dict:
    today = date.today()
    return {"currency": "USD", "start": str(today - timedelta(days=days_back)),
            "end": str(today)}


def test_the_statement_page_shows_the_opening_lines_and_closing(seller_web, funded):
    form_post(seller_web, "/dashboard/payouts", "/dashboard/payouts",
              {"amount": "25.00", "currency": "USD", "method": "bank_transfer"})
    page = seller_web.get("/dashboard/statements", params=statement_params())
    assert page.status_code == 200
    assert 'data-opening="0"' in page.text and 'data-closing="8000"' in page.text
    assert "earning" in page.text and "payout_requested" in page.text
    assert 'href="/dashboard/statements.csv?' in page.text
    assert 'href="/dashboard/statements.pdf?' in page.text


def test_the_statement_downloads_as_csv_with_the_apis_closing_balance(seller_web, funded):
    params = statement_params()
    response = seller_web.get("/dashboard/statements.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["kind"] == "opening_balance" and rows[-1]["kind"] == "closing_balance"
    end = date.fromisoformat(params["end"]) + timedelta(days=1)
    expected = funded.get("/v1/sellers/s1/statement", params={
        "currency": "USD", "from": f"{params['start']}T00:00:00Z",
        "to": f"{end}T00:00:00Z"}).json()
    assert int(rows[-1]["balance"]) == expected["closing_balance"] == 8000
    assert len(rows) == len(expected["lines"]) + 2


def test_the_statement_downloads_as_pdf(seller_web, funded):
    response = seller_web.get("/dashboard/statements.pdf", params=statement_params())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_bad_statement_period_is_a_4xx_page(seller_web, funded):
    today = date.today()
    backwards = {"currency": "USD", "start": str(today), "end": str(today - timedelta(1))}
    for path in ("/dashboard/statements", "/dashboard/statements.csv"):
        assert seller_web.get(path, params=backwards).status_code == 422
        assert seller_web.get(path, params={"currency": "XXZ"}).status_code in (400, 422)
        assert seller_web.get(path, params={"start": "yesterday"}).status_code in (400, 422)


def test_a_seller_without_money_has_no_statement_yet(seller_web):
    page = seller_web.get("/dashboard/statements")
    assert page.status_code == 200 and "there is no statement" in page.text
    assert seller_web.get("/dashboard/statements.pdf").status_code == 404


def test_the_statements_days_are_the_analytics_time_zones(seller_web, funded, storage,
                                                          monkeypatch):
    import dataclasses
    monkeypatch.setattr(storage, "policy",
                        dataclasses.replace(storage.policy, analytics_tz="Asia/Kolkata"))
    params = statement_params()
    response = seller_web.get("/dashboard/statements.csv", params=params)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    start = date.fromisoformat(params["start"])
    assert rows[0]["date"] == f"{start - timedelta(days=1)}T18:30:00Z"  # 00:00 in Kolkata
    assert rows[-1]["date"] == f"{params['end']}T18:30:00Z"
    assert "Asia/Kolkata" in seller_web.get("/dashboard/statements", params=params).text
