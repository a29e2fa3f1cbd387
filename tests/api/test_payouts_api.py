"""Payouts over HTTP: who may do what, the admin's queue, masked payout accounts, and no
clear payout detail in any response, the database's other columns or the logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import JSON, String, Text, select

from paytrack.adapters.storage.tables import metadata, payout_accounts
from paytrack.services import seller_funds
from tests.integration.conftest import committed

IBAN = "DE89 3704 0044 0532 0130 00"
IBAN_COMPACT = IBAN.replace(" ", "")
EMAIL = "ada.payouts@example.com"
BANK = {"method": "bank_transfer", "account_holder": "Ada Lovelace", "iban": IBAN,
        "bank_name": "Deutsche Bank"}


@pytest.fixture
def funded(admin, captured, storage):
    """seller_1 with 8000 USD available and a bank account."""
    assert admin.put("/v1/sellers/seller_1", json={"hold_days": 0}).status_code == 200
    captured(subtotal=10000)
    committed(storage, seller_funds.release_due)
    response = admin.put("/v1/sellers/seller_1/payout-account", json=BANK)
    assert response.status_code == 200, response.text
    return admin


def test_a_seller_requests_and_an_admin_approves_and_pays(funded, as_key):
    seller = as_key("seller", seller_id="seller_1")
    created = seller.post("/v1/payouts", json={"amount": 2500, "currency": "USD",
                                               "method": "bank_transfer"})
    assert created.status_code == 201, created.text
    payout = created.json()
    assert payout["id"].startswith("po_")
    assert (payout["status"], payout["seller_id"], payout["destination"],
            payout["requested_by"]) == ("requested", "seller_1", "****3000", "seller")
    balance = seller.get("/v1/sellers/seller_1/balance").json()["balances"][0]
    assert (balance["available"], balance["in_transit"]) == (5500, 2500)
    assert funded.post(f"/v1/payouts/{payout['id']}/approve").json()["status"] == "approved"
    missing = funded.post(f"/v1/payouts/{payout['id']}/pay", json={})
    assert missing.status_code == 422
    paid = funded.post(f"/v1/payouts/{payout['id']}/pay", json={"reference": "tr_1"})
    assert (paid.json()["status"], paid.json()["reference"]) == ("paid", "tr_1")
    assert seller.get(f"/v1/payouts/{payout['id']}").json()["decided_by"] == "admin"
    balance = seller.get("/v1/sellers/seller_1/balance").json()["balances"][0]
    assert (balance["available"], balance["in_transit"], balance["paid_out"]) == (5500, 0, 2500)
    assert funded.get("/v1/ledger/verify").json()["ok"] is True


def test_roles(funded, as_key):
    seller_a = as_key("seller", seller_id="seller_1")
    seller_b = as_key("seller", seller_id="seller_2")
    customer = as_key("customer", customer_id="cust_1")
    payout = seller_a.post("/v1/payouts", json={"amount": 2500, "currency": "USD",
                                                "method": "bank_transfer"}).json()
    path = f"/v1/payouts/{payout['id']}"
    assert seller_b.get(path).status_code == 404
    assert seller_b.post(f"{path}/cancel").status_code == 404
    assert seller_b.get("/v1/payouts").json()["data"] == []
    assert seller_b.get("/v1/payouts?seller_id=seller_1").json()["data"] == []
    assert seller_b.get("/v1/sellers/seller_1/payout-accounts").status_code == 404
    assert seller_b.put("/v1/sellers/seller_1/payout-account", json=BANK).status_code == 404
    assert seller_b.post("/v1/payouts", json={
        "seller_id": "seller_1", "amount": 2500, "currency": "USD",
        "method": "bank_transfer"}).status_code == 404
    for verb, body in (("approve", None), ("pay", {"reference": "r"}),
                       ("fail", {"reason": "r"})):
        assert seller_a.post(f"{path}/{verb}", json=body).status_code == 403
    assert seller_a.get("/v1/payouts/pending").status_code == 403
    for request in (lambda: customer.get(path), lambda: customer.get("/v1/payouts"),
                    lambda: customer.post("/v1/payouts", json={
                        "seller_id": "seller_1", "amount": 2500, "currency": "USD",
                        "method": "bank_transfer"}),
                    lambda: customer.post(f"{path}/cancel"),
                    lambda: customer.get("/v1/sellers/seller_1/payout-accounts")):
        response = request()
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    assert [p["id"] for p in seller_a.get("/v1/payouts").json()["data"]] == [payout["id"]]
    canceled = seller_a.post(f"{path}/cancel", json={"reason": "changed my mind"})
    assert canceled.json()["status"] == "canceled"


def test_a_seller_cannot_cancel_after_approval(funded, as_key):
    seller = as_key("seller", seller_id="seller_1")
    payout = seller.post("/v1/payouts", json={"amount": 2500, "currency": "USD",
                                              "method": "bank_transfer"}).json()
    funded.post(f"/v1/payouts/{payout['id']}/approve")
    refused = seller.post(f"/v1/payouts/{payout['id']}/cancel")
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")


def test_refusals_have_stable_codes(funded, as_key):
    admin = funded
    below = admin.post("/v1/payouts", json={"seller_id": "seller_1", "amount": 999,
                                            "currency": "USD", "method": "bank_transfer"})
    assert (below.status_code, below.json()["code"]) == (422, "payout_below_minimum")
    assert "10.00 USD" in below.json()["detail"]
    above = admin.post("/v1/payouts", json={"seller_id": "seller_1", "amount": 8001,
                                            "currency": "USD", "method": "bank_transfer"})
    assert (above.status_code, above.json()["code"]) == (409, "insufficient_funds")
    assert "available 80.00 USD" in above.json()["detail"]
    no_account = admin.post("/v1/payouts", json={"seller_id": "seller_1", "amount": 1000,
                                                 "currency": "USD", "method": "paypal"})
    assert (no_account.status_code, no_account.json()["code"]) == (409,
                                                                   "payout_account_missing")
    no_seller = admin.post("/v1/payouts", json={"amount": 1000, "currency": "USD",
                                                "method": "paypal"})
    assert no_seller.status_code == 422
    for bad in ({"amount": 10.5}, {"amount": "1000"}, {"method": "cash"}, {"status": "paid"},
                {"currency": "usd"}):
        body = {"seller_id": "seller_1", "amount": 1000, "currency": "USD",
                "method": "bank_transfer", **bad}
        assert admin.post("/v1/payouts", json=body).status_code == 422, bad
    assert admin.get("/v1/payouts/po_01JD8X5R2C4E6G8J0K2M4N6P8Q").status_code == 404
    assert admin.post("/v1/payouts/po_01JD8X5R2C4E6G8J0K2M4N6P8Q/approve").status_code == 404


def test_the_pending_queue_lists_open_payouts_oldest_first(funded):
    ids = [funded.post("/v1/payouts", json={"seller_id": "seller_1", "amount": 1000 + i,
                                            "currency": "USD", "method": "bank_transfer"}
                       ).json()["id"] for i in range(3)]
    funded.post(f"/v1/payouts/{ids[1]}/fail", json={"reason": "turned down"})
    funded.post(f"/v1/payouts/{ids[2]}/approve")
    first = funded.get("/v1/payouts/pending?limit=1").json()
    assert [p["id"] for p in first["data"]] == [ids[0]] and first["has_more"] is True
    rest = funded.get(f"/v1/payouts/pending?cursor={first['next_cursor']}").json()
    assert [p["id"] for p in rest["data"]] == [ids[2]]
    assert [p["id"] for p in funded.get("/v1/payouts?status=failed").json()["data"]] == [ids[1]]
    assert [p["id"] for p in funded.get("/v1/payouts").json()["data"]] == ids[::-1]


def test_payout_accounts_are_shown_masked(funded, as_key):
    seller = as_key("seller", seller_id="seller_1")
    put = seller.put("/v1/sellers/seller_1/payout-account",
                     json={"method": "paypal", "email": EMAIL})
    assert put.status_code == 200, put.text
    assert (put.json()["last4"], put.json()["masked"]) == (".com", "****.com")
    listed = seller.get("/v1/sellers/seller_1/payout-accounts").json()["data"]
    assert [(a["method"], a["masked"]) for a in listed] == [
        ("bank_transfer", "****3000"), ("paypal", "****.com")]
    assert set(listed[0]) == {"seller_id", "method", "last4", "masked", "created_at",
                              "updated_at"}
    replaced = seller.put("/v1/sellers/seller_1/payout-account", json={
        "method": "bank_transfer", "account_holder": "Ada Lovelace",
        "account_number": "000123456789", "routing_number": "011000015"})
    assert replaced.json()["masked"] == "****6789"
    for bad in ({"method": "paypal", "email": "nope"}, {"method": "paypal", "iban": IBAN},
                {"method": "stripe_connect", "account_id": "acct_"},
                {"method": "bank_transfer", "iban": IBAN},
                {**BANK, "iban": IBAN[:-1] + "1"}, {**BANK, "swift": "DEUTDEFF"}):
        response = seller.put("/v1/sellers/seller_1/payout-account", json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert admin_sees_unknown_seller_404(funded)


def admin_sees_unknown_seller_404(admin) -> bool:
    response = admin.put("/v1/sellers/nobody/payout-account", json=BANK)
    return response.status_code == 404


def test_clear_details_appear_in_no_response_no_other_column_and_no_log(
        funded, as_key, storage, caplog):
    caplog.set_level(logging.DEBUG)
    seller = as_key("seller", seller_id="seller_1")
    responses = [
        seller.put("/v1/sellers/seller_1/payout-account", json={"method": "paypal",
                                                                 "email": EMAIL}),
        seller.put("/v1/sellers/seller_1/payout-account", json={**BANK, "iban": IBAN[:-1] + "1"}),
        seller.put("/v1/sellers/seller_1/payout-account", json={"method": "paypal",
                                                                 "email": EMAIL + "\x01"}),
        seller.put("/v1/sellers/seller_1/payout-account", json={"method": "paypal",
                                                                 "email": EMAIL, "iban": IBAN}),
        seller.put("/v1/sellers/seller_1/payout-account", json={**BANK}),
    ]
    payout = funded.post("/v1/payouts", json={"seller_id": "seller_1", "amount": 2500,
                                              "currency": "USD", "method": "paypal"},
                         headers={"Idempotency-Key": "po-1"})
    responses.append(payout)
    pid = payout.json()["id"]
    responses += [funded.post(f"/v1/payouts/{pid}/approve", headers={"Idempotency-Key": "a"}),
                  funded.post(f"/v1/payouts/{pid}/pay", json={"reference": "tr_9"}),
                  funded.get(f"/v1/payouts/{pid}"), funded.get("/v1/payouts"),
                  funded.get("/v1/sellers/seller_1/payout-accounts"),
                  seller.get("/v1/sellers/seller_1/payout-accounts"),
                  funded.get("/v1/ledger/entries?limit=100")]
    secrets = (IBAN, IBAN_COMPACT, IBAN_COMPACT[:-1] + "1", EMAIL, "Ada Lovelace")
    for response in responses:
        assert response.status_code < 500
        for secret in secrets[:4]:
            assert secret not in response.text, response.text
    for secret in secrets[:4]:
        assert secret not in caplog.text
    with storage.unit_of_work(readonly=True) as uow:
        for table in metadata.sorted_tables:
            textual = [c for c in table.c if isinstance(c.type, String | Text | JSON)
                       and not (table is payout_accounts and c.name == "details_encrypted")]
            if not textual:
                continue
            for row in uow.conn.execute(select(*textual)):
                for value in row:
                    for secret in secrets[:4]:
                        assert secret not in str(value), (table.name, value)
        tokens = uow.conn.execute(select(payout_accounts.c.details_encrypted)).scalars().all()
    assert len(tokens) == 2
    assert all(secret not in token for token in tokens for secret in secrets)


def test_an_unknown_currency_filter_is_refused_not_an_empty_list(admin):
    for path in ("/v1/payouts", "/v1/exports/payouts.csv"):
        response = admin.get(path, params={"currency": "XYZ"})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "invalid_currency"
