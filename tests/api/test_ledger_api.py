def test_trial_balance_accounts_and_entries(admin, captured):
    payment = captured(subtotal=10000)
    assert admin.get("/v1/ledger/trial-balance").json() == {
        "balanced": True, "currencies": [{"currency": "USD", "debits": 10000,
                                          "credits": 10000}]}
    accounts = admin.get("/v1/ledger/accounts", params={"limit": 100}).json()["data"]
    assert {(a["code"], a["balance"]) for a in accounts} == {
        ("gateway:manual:clearing", 10000), ("platform:revenue", 2000),
        ("seller:seller_1:pending", 8000)}
    first = admin.get("/v1/ledger/accounts", params={"limit": 2}).json()
    rest = admin.get("/v1/ledger/accounts", params={"limit": 2,
                                                    "cursor": first["next_cursor"]}).json()
    assert len(first["data"]) + len(rest["data"]) == 3 and not rest["has_more"]
    only = admin.get("/v1/ledger/accounts", params={"code": "platform:revenue"}).json()
    assert only["data"] == [{"code": "platform:revenue", "currency": "USD", "balance": 2000}]
    entries = admin.get("/v1/ledger/entries", params={"payment_id": payment["id"]}).json()
    assert entries["data"][0]["kind"] == "payment.captured"
    assert sum(p["amount"] for p in entries["data"][0]["postings"]) == 0
    assert admin.get("/v1/ledger/verify").json()["ok"] is True


def test_seller_balance(admin, captured):
    captured(subtotal=10000)
    captured(subtotal=5000, currency="EUR")
    assert admin.get("/v1/sellers/seller_1/balance").json() == {
        "seller_id": "seller_1", "balances": [
            {"currency": "EUR", "pending": 4000, "available": 0, "in_transit": 0,
             "paid_out": 0, "debt": 0},
            {"currency": "USD", "pending": 8000, "available": 0, "in_transit": 0,
             "paid_out": 0, "debt": 0}]}
    assert admin.get("/v1/sellers/nobody/balance").json() == {"seller_id": "nobody",
                                                              "balances": []}


def test_sellers_and_customers_are_editable(admin, captured):
    seller = admin.put("/v1/sellers/seller_9", json={"name": "Nine", "commission_rate": "0.05"})
    assert seller.status_code == 200 and seller.json()["commission_rate"] == "0.05"
    payment = captured(seller_id="seller_9", item_id="i9")
    assert payment["platform_fee"] == 500
    cleared = admin.put("/v1/sellers/seller_9", json={"clear_commission_rate": True}).json()
    assert cleared["commission_rate"] is None and cleared["name"] == "Nine"
    customer = admin.put("/v1/customers/cust_1", json={"email": "a@b.example"}).json()
    assert customer["email"] == "a@b.example"
    assert admin.get("/v1/customers/cust_1").json()["email"] == "a@b.example"
    assert admin.get("/v1/customers/nobody").status_code == 404
