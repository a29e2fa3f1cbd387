"""The admin's queues and management pages: each action does what the API's route does
(checked through the API), once per form, only with the session's CSRF token, and a seller
gets the 404 page for all of them."""

from __future__ import annotations

import re
from html import unescape

import pytest

from paytrack.services import payouts, reconciliation, refunds, seller_funds
from paytrack.services.parties import upsert_party
from tests.api import test_stripe_webhooks_api as stripe_hooks
from tests.integration.conftest import ADMIN, committed, new_payment
from tests.integration.reconciliation_support import report
from tests.web.conftest import field, sign_in

QUEUES = "/dashboard/queues"
IBAN = "DE89370400440532013000"


def form_of(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, form key) of the form posting to ``action``."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>',
                      html, re.S)
    assert found, f"no form for {action} on the page"
    return {"csrf_token": field(found.group(1), "csrf_token"),
            "form_key": field(found.group(1), "form_key")}


def submit(client, page_path: str, action: str, data: dict | None = None):
    """Post the form for ``action`` found on ``page_path``, as a browser would."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={**form_of(page.text, action), **(data or {})},
                       follow_redirects=False)


def notice(client, response) -> str:
    """The page the redirect lands on, with its notice."""
    assert response.status_code == 303, response.text
    landed = client.get(response.headers["location"])
    assert landed.status_code == 200, landed.text
    found = re.search(r'<p class="notice (\w+)"[^>]*>(.*?)</p>', landed.text, re.S)
    assert found, "no notice on the page"
    return f"{found.group(1)}: {unescape(found.group(2))}"


def requested_refund(storage, *, subtotal: int = 10000, amount: int = 2000) -> dict:
    payment = new_payment(storage, subtotal=subtotal)
    return committed(storage, refunds.request_refund, payment["id"], ADMIN,
                     reason="customer asked", amount=amount)


def available(api, seller: str = "seller_1", currency: str = "USD") -> dict:
    balance = api.get(f"/v1/sellers/{seller}/balance")
    assert balance.status_code == 200, balance.text
    return next(b for b in balance.json()["balances"] if b["currency"] == currency)


def funded_payout(storage, amount: int = 2000) -> dict:
    """A requested payout of ``amount`` to seller_1's bank account (its hold: none)."""
    committed(storage, upsert_party, "seller", "seller_1", ADMIN, hold_days=0)
    new_payment(storage, subtotal=10000)
    committed(storage, seller_funds.release_due)
    committed(storage, payouts.set_payout_account, "seller_1", ADMIN, method="bank_transfer",
              details={"account_holder": "Ada Lovelace", "iban": IBAN})
    return committed(storage, payouts.request_payout, ADMIN, seller_id="seller_1",
                     amount=amount, currency="USD", method="bank_transfer")


# -- the refund form on the payment page -------------------------------------------------


def test_the_payment_page_requests_a_partial_refund(admin_web, storage, api):
    payment = new_payment(storage, subtotal=10000)
    path = f"/dashboard/payments/{payment['id']}"
    sent = submit(admin_web, path, f"{path}/refunds", {"amount": "12.50", "reason": "late"})
    assert "Refund re_" in notice(admin_web, sent)
    listed = api.get(f"/v1/refunds?payment_id={payment['id']}").json()["data"]
    assert [(r["amount"], r["reason"]) for r in listed] == [(1250, "late")]


def test_a_bad_refund_amount_is_shown_not_a_500(admin_web, storage, api):
    payment = new_payment(storage, subtotal=10000)
    path = f"/dashboard/payments/{payment['id']}"
    sent = submit(admin_web, path, f"{path}/refunds", {"amount": "12.5.0", "reason": "x"})
    assert notice(admin_web, sent).startswith("error:")
    assert api.get(f"/v1/refunds?payment_id={payment['id']}").json()["data"] == []


def test_a_seller_requests_a_refund_of_its_own_payment_only(web, storage, make_key, api):
    own = new_payment(storage, seller_id="s1")
    other = new_payment(storage, seller_id="s2")
    sign_in(web, api_key=make_key("seller", seller_id="s1"))
    path = f"/dashboard/payments/{own['id']}"
    sent = submit(web, path, f"{path}/refunds", {"amount": "", "reason": "broken"})
    assert "Refund re_" in notice(web, sent)
    assert len(api.get(f"/v1/refunds?payment_id={own['id']}").json()["data"]) == 1
    page = web.get(path)
    refused = web.post(f"/dashboard/payments/{other['id']}/refunds", follow_redirects=False,
                       data={"csrf_token": field(page.text, "csrf_token"),
                             "form_key": "k-other", "reason": "mine?"})
    assert refused.status_code == 404  # another seller's: the 404 page, as on a GET
    assert api.get(f"/v1/refunds?payment_id={other['id']}").json()["data"] == []


# -- queues --------------------------------------------------------------------------------


def test_approving_a_refund_in_the_queue_moves_the_seller_balance(admin_web, storage, api):
    refund = requested_refund(storage)
    before = available(api)
    page = admin_web.get(QUEUES)
    assert refund["id"] in page.text and f'href="/dashboard/payments/{refund["payment_id"]}"' \
        in page.text and "$20.00" in page.text
    sent = submit(admin_web, QUEUES, f"{QUEUES}/refunds/{refund['id']}/approve")
    assert "approved" in notice(admin_web, sent)
    assert api.get(f"/v1/refunds/{refund['id']}").json()["status"] == "succeeded"
    after = available(api)
    assert after["pending"] == before["pending"] - 1600  # the seller's 80% of 20.00


def test_rejecting_a_refund_needs_and_keeps_the_reason(admin_web, storage, api):
    refund = requested_refund(storage)
    action = f"{QUEUES}/refunds/{refund['id']}/reject"
    empty = submit(admin_web, QUEUES, action, {"reason": "  "})
    assert notice(admin_web, empty).startswith("error:")
    assert api.get(f"/v1/refunds/{refund['id']}").json()["status"] == "requested"
    sent = submit(admin_web, QUEUES, action, {"reason": "outside the window"})
    assert "rejected" in notice(admin_web, sent)
    rejected = api.get(f"/v1/refunds/{refund['id']}").json()
    assert (rejected["status"], rejected["rejection_reason"]) == ("rejected",
                                                                 "outside the window")
    assert refund["id"] not in admin_web.get(QUEUES).text


def test_the_same_form_posted_twice_approves_once(admin_web, storage, api):
    first = requested_refund(storage, amount=1000)
    action = f"{QUEUES}/refunds/{first['id']}/approve"
    data = form_of(admin_web.get(QUEUES).text, action)
    before = available(api)
    answers = [admin_web.post(action, data=data, follow_redirects=False) for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"] == QUEUES
    assert available(api)["pending"] == before["pending"] - 800
    entries = api.get(f"/v1/ledger/entries?payment_id={first['payment_id']}").json()["data"]
    assert sum(e["kind"].startswith("refund") for e in entries) == 1


def test_a_form_without_the_csrf_token_is_refused(admin_web, storage, api):
    refund = requested_refund(storage)
    action = f"{QUEUES}/refunds/{refund['id']}/approve"
    data = form_of(admin_web.get(QUEUES).text, action)
    for sent in ({"form_key": data["form_key"]},
                 {"form_key": data["form_key"], "csrf_token": "not-the-token"}):
        answer = admin_web.post(action, data=sent, follow_redirects=False)
        assert answer.status_code == 403
    assert api.get(f"/v1/refunds/{refund['id']}").json()["status"] == "requested"


def test_a_payout_is_approved_then_paid_with_its_reference(admin_web, storage, api):
    payout = funded_payout(storage)
    page = admin_web.get(QUEUES)
    assert payout["id"] in page.text and "****3000" in page.text and IBAN not in page.text
    approved = submit(admin_web, QUEUES, f"{QUEUES}/payouts/{payout['id']}/approve")
    assert "approved" in notice(admin_web, approved)
    paid = submit(admin_web, QUEUES, f"{QUEUES}/payouts/{payout['id']}/pay",
                  {"reference": "tr_123"})
    assert "paid" in notice(admin_web, paid)
    shown = api.get(f"/v1/payouts/{payout['id']}").json()
    assert (shown["status"], shown["reference"]) == ("paid", "tr_123")
    assert available(api)["paid_out"] == 2000


def test_a_failed_payout_gives_the_money_back(admin_web, storage, api):
    payout = funded_payout(storage)
    before = available(api)
    sent = submit(admin_web, QUEUES, f"{QUEUES}/payouts/{payout['id']}/fail",
                  {"reason": "account closed"})
    assert "failed" in notice(admin_web, sent)
    shown = api.get(f"/v1/payouts/{payout['id']}").json()
    assert (shown["status"], shown["failure_reason"]) == ("failed", "account closed")
    assert available(api)["available"] == before["available"] + 2000


def test_an_open_reconciliation_exception_is_resolved_with_a_note(admin_web, storage, api):
    committed(storage, reconciliation.import_report, "stripe", report("stripe"), ADMIN,
              filename="stripe.csv")
    listed = api.get("/v1/reconciliation/exceptions?status=open&limit=100").json()["data"]
    line = listed[0]
    assert line["id"] in admin_web.get(QUEUES).text
    sent = submit(admin_web, QUEUES, f"{QUEUES}/exceptions/{line['id']}/resolve",
                  {"note": "refunded at the gateway by hand"})
    assert "resolved" in notice(admin_web, sent)
    resolved = api.get("/v1/reconciliation/exceptions?status=resolved").json()["data"]
    assert [(r["id"], r["resolution_note"]) for r in resolved] == [
        (line["id"], "refunded at the gateway by hand")]


def test_a_dispute_outcome_is_recorded(admin_web, storage, api):
    payment = new_payment(storage, subtotal=10000)
    opened = api.post("/v1/disputes", json={"payment_id": payment["id"], "amount": 10000,
                                            "reason": "not received",
                                            "reason_code": "product_not_received"})
    assert opened.status_code == 201, opened.text
    dispute = opened.json()
    assert dispute["id"] in admin_web.get(QUEUES).text
    sent = submit(admin_web, QUEUES, f"{QUEUES}/disputes/{dispute['id']}/won",
                  {"reason": "delivery proven"})
    assert "won" in notice(admin_web, sent)
    assert api.get(f"/v1/disputes/{dispute['id']}").json()["status"] == "won"
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"


def test_a_failed_webhook_delivery_is_replayed_from_the_queue(admin_web, api):
    assert api.put("/v1/gateways/stripe/test", json={"credentials": {
        "secret_key": stripe_hooks.KEY, "webhook_secret": stripe_hooks.SECRET}}
    ).status_code == 200
    body = stripe_hooks.event("payment_intent.succeeded",
                              stripe_hooks.intent("pi_later", "succeeded"), "evt_later")
    assert stripe_hooks.deliver(api.client, body).status_code == 503  # unknown payment yet
    delivery = api.get("/v1/webhooks/deliveries?status=failed").json()["data"][0]
    payment = api.post("/v1/payments", json={
        "customer_id": "cust_1", "seller_id": "seller_1", "item_type": "course",
        "item_id": "course_1", "currency": "USD", "subtotal": 10000, "gateway": "stripe",
        "gateway_payment_id": "pi_later"}).json()
    action = f"{QUEUES}/deliveries/{delivery['id']}/replay"
    assert admin_web.post(action, data={}).status_code == 403  # no CSRF token
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == "pending"
    sent = submit(admin_web, QUEUES, action)
    assert "processed" in notice(admin_web, sent)
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"
    assert delivery["id"] not in admin_web.get(QUEUES).text


def test_an_unknown_or_malformed_id_is_refused_not_a_500(admin_web):
    token = field(admin_web.get(QUEUES).text, "csrf_token")
    answer = admin_web.post(f"{QUEUES}/refunds/re_nothing/approve", follow_redirects=False,
                            data={"csrf_token": token, "form_key": "k-unknown"})
    assert notice(admin_web, answer).startswith("error:")
    malformed = admin_web.post(f"{QUEUES}/refunds/bad%20id/approve",
                               data={"csrf_token": token, "form_key": "k-bad"})
    assert malformed.status_code == 400


# -- a seller sees none of it ------------------------------------------------------------


@pytest.mark.parametrize("path", [
    QUEUES, "/dashboard/coupons", "/dashboard/coupons/cpn_x", "/dashboard/sellers",
    "/dashboard/sellers/s1", "/dashboard/gateways", "/dashboard/ledger"])
def test_a_seller_gets_the_404_page_for_admin_pages(web, make_key, make_seller, path):
    make_seller("s1")
    sign_in(web, api_key=make_key("seller", seller_id="s1"))
    answer = web.get(path)
    assert answer.status_code == 404 and "Not found" in answer.text


# -- ledger --------------------------------------------------------------------------------


def test_the_ledger_shows_the_trial_balance_and_verifies(admin_web, storage):
    new_payment(storage, subtotal=10000)
    page = admin_web.get("/dashboard/ledger")
    assert page.status_code == 200
    assert "Balanced" in page.text and "seller:seller_1:pending" in page.text
    verified = admin_web.post("/dashboard/ledger/verify",
                              data=form_of(page.text, "/dashboard/ledger/verify"))
    assert verified.status_code == 200
    assert "Verified: every balance matches its postings." in verified.text


def test_verify_without_the_csrf_token_is_refused(admin_web):
    assert admin_web.post("/dashboard/ledger/verify", data={}).status_code == 403
    assert admin_web.get("/dashboard/ledger/verify").status_code == 405  # never a GET


# -- coupons -------------------------------------------------------------------------------


def test_a_coupon_is_created_listed_and_deactivated(admin_web, api):
    sent = submit(admin_web, "/dashboard/coupons", "/dashboard/coupons", {
        "code": "SPRING25", "kind": "fixed", "amount_off": "5.00", "currency": "usd",
        "min_order_amount": "20", "max_redemptions": "100", "seller_ids": "s1, s2",
        "expires_at": "2030-06-01T00:00", "funded_by": "seller", "active": "on"})
    assert "SPRING25 created" in notice(admin_web, sent)
    coupon = api.get("/v1/coupons?code=SPRING25").json()["data"][0]
    assert (coupon["kind"], coupon["amount_off"], coupon["currency"],
            coupon["min_order_amount"], coupon["max_redemptions"], coupon["seller_ids"],
            coupon["funded_by"], coupon["active"]) == (
        "fixed", 500, "USD", 2000, 100, ["s1", "s2"], "seller", True)
    assert coupon["expires_at"].startswith("2030-06-01T00:00:00")
    listed = admin_web.get("/dashboard/coupons").text
    assert "SPRING25" in listed and "$5.00" in listed
    usage = admin_web.get(f"/dashboard/coupons/{coupon['id']}")
    assert usage.status_code == 200 and "Not used yet." in usage.text
    off = submit(admin_web, "/dashboard/coupons",
                 f"/dashboard/coupons/{coupon['id']}/deactivate")
    assert "deactivated" in notice(admin_web, off)
    assert api.get(f"/v1/coupons/{coupon['id']}").json()["active"] is False


def test_a_coupon_the_api_would_refuse_is_refused_with_a_notice(admin_web, api):
    for fields in ({"code": "BAD", "kind": "fixed", "amount_off": "5.00"},  # no currency
                   {"code": "BAD", "kind": "percent", "percent_off": "150%"},
                   {"code": "BAD", "kind": "percent", "percent_off": "0.1",
                    "max_redemptions": "many"},
                   {"code": "has space", "kind": "percent", "percent_off": "0.1"}):
        sent = submit(admin_web, "/dashboard/coupons", "/dashboard/coupons", fields)
        assert notice(admin_web, sent).startswith("error:"), fields
    assert api.get("/v1/coupons").json()["data"] == []


def test_a_coupon_usage_page_for_an_unknown_coupon_is_404(admin_web):
    assert admin_web.get("/dashboard/coupons/cpn_nothing").status_code == 404


# -- sellers -------------------------------------------------------------------------------


def test_sellers_are_listed_with_their_balances(admin_web, storage):
    new_payment(storage, subtotal=10000, seller_id="seller_1")
    new_payment(storage, subtotal=5000, seller_id="seller_2", currency="EUR")
    page = admin_web.get("/dashboard/sellers")
    assert page.status_code == 200
    assert 'href="/dashboard/sellers/seller_1"' in page.text
    assert "$80.00" in page.text and "€40.00" in page.text


def test_a_seller_commission_and_hold_are_edited(admin_web, storage, api):
    committed(storage, upsert_party, "seller", "seller_1", ADMIN)
    committed(storage, payouts.set_payout_account, "seller_1", ADMIN, method="bank_transfer",
              details={"account_holder": "Ada Lovelace", "iban": IBAN})
    path = "/dashboard/sellers/seller_1"
    page = admin_web.get(path)
    assert "****3000" in page.text and IBAN not in page.text and "Ada Lovelace" not in page.text
    sent = submit(admin_web, path, path, {"commission_rate": "0.15", "hold_days": "3"})
    assert "saved" in notice(admin_web, sent)
    seller = api.get("/v1/sellers/seller_1").json()
    assert (seller["commission_rate"], seller["hold_days"]) == ("0.15", 3)
    bad = submit(admin_web, path, path, {"commission_rate": "fifteen"})
    assert notice(admin_web, bad).startswith("error:")
    cleared = submit(admin_web, path, path, {"clear_commission_rate": "on"})
    assert "saved" in notice(admin_web, cleared)
    seller = api.get("/v1/sellers/seller_1").json()
    assert (seller["commission_rate"], seller["hold_days"]) == (None, 3)


def test_an_unknown_seller_is_404_and_is_not_created(admin_web, api):
    assert admin_web.get("/dashboard/sellers/nobody").status_code == 404
    token = field(admin_web.get("/dashboard/sellers").text, "csrf_token")
    answer = admin_web.post("/dashboard/sellers/nobody", follow_redirects=False,
                            data={"csrf_token": token, "form_key": "k1", "hold_days": "2"})
    assert answer.status_code == 303
    assert api.get("/v1/sellers/nobody").status_code == 404


# -- gateways ------------------------------------------------------------------------------


def test_gateways_show_which_secrets_are_set_never_the_secrets(admin_web, api):
    secret = "sk_test_51Habcdefghijklmnopqrstuvwxyz0123456789SECRET"
    put = api.put("/v1/gateways/stripe/test", json={"credentials": {
        "secret_key": secret, "webhook_secret": "whsec_abcdefghijklmnop1234"}})
    assert put.status_code == 200, put.text
    page = admin_web.get("/dashboard/gateways")
    assert page.status_code == 200
    assert "stripe" in page.text and "/v1/webhooks/stripe" in page.text
    assert "secret_key" in page.text
    assert secret not in page.text and "whsec_abcdefghijklmnop1234" not in page.text
