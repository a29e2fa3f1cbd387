"""Probes over HTTP: authorization across sellers and customers on the new routes,
secrets in error messages, and hostile input on every write route (no 500s)."""

from __future__ import annotations

import json
import re

import pytest

from paytrack.services import seller_funds
from tests.api.conftest import payment_body
from tests.integration.conftest import committed

IBAN = "DE89370400440532013000"
SECRET_ACCOUNT = "98765432101234567"  # an account number nobody should ever see again


@pytest.fixture
def world(admin, as_key, storage):
    """Two sellers with a captured payment each (released), a dispute on seller_2's and
    a payout of seller_2; keys for each seller and a customer."""
    for seller in ("seller_1", "seller_2"):
        assert admin.put(f"/v1/sellers/{seller}", json={"hold_days": 0}).status_code in (
            200, 404) or True
    made = {}
    for seller, customer in (("seller_1", "cust_1"), ("seller_2", "cust_2")):
        body = payment_body(seller_id=seller, customer_id=customer, item_id=f"c_{seller}",
                            subtotal=20000)
        created = admin.post("/v1/payments", json=body)
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        assert admin.post(f"/v1/payments/{pid}/capture").status_code == 200
        made[seller] = pid
    for seller in ("seller_1", "seller_2"):
        assert admin.put(f"/v1/sellers/{seller}", json={"hold_days": 0}).status_code == 200
    storage.clock = lambda: __import__("datetime").datetime.now(
        __import__("datetime").UTC) + __import__("datetime").timedelta(days=30)
    committed(storage, seller_funds.release_due)
    for seller in ("seller_1", "seller_2"):
        r = admin.put(f"/v1/sellers/{seller}/payout-account",
                      json={"method": "bank_transfer", "account_holder": "Ada", "iban": IBAN})
        assert r.status_code == 200, r.text
    dispute = admin.post("/v1/disputes", json={"payment_id": made["seller_2"], "amount": 500,
                                               "reason": "fraud"})
    assert dispute.status_code == 201, dispute.text
    payout = admin.post("/v1/payouts", json={"seller_id": "seller_2", "amount": 2000,
                                             "currency": "USD", "method": "bank_transfer"})
    assert payout.status_code == 201, payout.text
    coupon = admin.post("/v1/coupons", json={"code": "ONLY2", "kind": "percent",
                                             "percent_off": "0.1", "seller_ids": ["seller_2"]})
    assert coupon.status_code == 201, coupon.text
    return {
        "payments": made, "dispute": dispute.json()["id"], "payout": payout.json()["id"],
        "coupon": coupon.json()["id"],
        "s1": as_key("seller", seller_id="seller_1"),
        "s2": as_key("seller", seller_id="seller_2"),
        "c1": as_key("customer", customer_id="cust_1"),
    }


def test_a_seller_reaches_nothing_of_another_seller(world):
    s1, w = world["s1"], world
    reads = ["/v1/sellers/seller_2/earnings", "/v1/sellers/seller_2/balance",
             "/v1/sellers/seller_2/payout-accounts", f"/v1/payouts/{w['payout']}",
             f"/v1/disputes/{w['dispute']}", f"/v1/coupons/{w['coupon']}",
             f"/v1/coupons/{w['coupon']}/usage", f"/v1/payments/{w['payments']['seller_2']}",
             "/v1/sellers/seller_2/statement?currency=USD&from=2000-01-01T00:00:00Z"
             "&to=2100-01-01T00:00:00Z"]
    for path in reads:
        response = s1.get(path)
        assert response.status_code == 404, (path, response.status_code, response.text)
    for path, body in [
        (f"/v1/disputes/{w['dispute']}/evidence", {"text": "mine"}),
        (f"/v1/payouts/{w['payout']}/cancel", None),
        ("/v1/payouts", {"seller_id": "seller_2", "amount": 1000, "currency": "USD",
                         "method": "bank_transfer"}),
        ("/v1/refunds", {"payment_id": w["payments"]["seller_2"], "reason": "x"}),
    ]:
        response = s1.post(path, json=body)
        assert response.status_code in (403, 404), (path, response.status_code, response.text)
    response = s1.put("/v1/sellers/seller_2/payout-account",
                      json={"method": "paypal", "email": "thief@example.com"})
    assert response.status_code in (403, 404), response.text
    for path in ("/v1/payouts?seller_id=seller_2", "/v1/disputes?seller_id=seller_2",
                 "/v1/payouts", "/v1/disputes", "/v1/coupons"):
        response = s1.get(path)
        assert response.status_code == 200 and response.json()["data"] == [], (path,
                                                                              response.text)


def test_a_customer_reaches_no_seller_money_and_no_other_customer(world):
    c1, w = world["c1"], world
    for path in ["/v1/sellers/seller_1/earnings", "/v1/sellers/seller_1/balance",
                 "/v1/sellers/seller_1/payout-accounts", f"/v1/payouts/{w['payout']}",
                 f"/v1/disputes/{w['dispute']}", "/v1/payouts", "/v1/disputes",
                 f"/v1/coupons/{w['coupon']}/usage", "/v1/ledger/accounts"]:
        response = c1.get(path)
        assert response.status_code in (403, 404), (path, response.status_code, response.text)
    response = c1.post("/v1/coupons/validate", json={
        "code": "ONLY2", "customer_id": "cust_2", "seller_id": "seller_2", "item_id": "x",
        "currency": "USD", "subtotal": 1000})
    assert response.status_code in (403, 404), response.text
    mine = c1.get(f"/v1/payments/{w['payments']['seller_1']}").json()
    assert not {"platform_fee", "seller_amount", "commission_rate"} & set(mine)


def test_payout_account_details_never_echo_in_errors(admin, world):
    bodies = [
        {"method": "bank_transfer", "account_holder": "Ada", "account_number": SECRET_ACCOUNT,
         "routing_number": "123456789"},
        {"method": "bank_transfer", "account_holder": "Ada", "account_number": SECRET_ACCOUNT,
         "sort_code": "12-34-56"},
        {"method": "bank_transfer", "account_holder": "Ada",
         "iban": "DE89" + SECRET_ACCOUNT + "X" * 30},
        {"method": "bank_transfer", "account_holder": "Ada", "iban": "DE00" + SECRET_ACCOUNT},
        {"method": "paypal", "email": SECRET_ACCOUNT},
        {"method": "stripe_connect", "account_id": SECRET_ACCOUNT},
        {"method": "paypal", "iban": SECRET_ACCOUNT},
        {"method": "bank_transfer", "account_holder": "Ada", "account_number": 98765432101234567,
         "routing_number": "011000015"},
        {"method": "bank_transfer", "account_holder": "Ada",
         "account_number": [SECRET_ACCOUNT], "routing_number": "011000015"},
        {"method": "wire", "account_number": SECRET_ACCOUNT},
        {"method": "bank_transfer", "account_holder": "Ada", "routing_number": "011000015",
         "account_number": SECRET_ACCOUNT, "extra": SECRET_ACCOUNT},
    ]
    for body in bodies:
        response = admin.put("/v1/sellers/seller_1/payout-account", json=body)
        assert response.status_code == 422, (body, response.status_code, response.text)
        assert "7654321012345" not in response.text, (body, response.text)


HOSTILE = [None, True, -1, 0, 2**31, 2**63, 2**64, -(2**63) - 1, 10**40, 1.5, 1e308, "1000",
           "", " ", "\x00", "a\x00b", "\u202e", "💸" * 300, "x" * 100_000, [], {}, [1],
           {"$gt": 0}, "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00-23:59",
           "2026-01-01T00:00:00", "0001-01-01T00:00:00+14:00"]


def _write_routes(app):
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            if method not in ("post", "put", "patch"):
                continue
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            yield method, path, schema.get("schema")


def _props(app, schema):
    if not schema:
        return []
    ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("anyOf", [])
                                      if s.get("$ref")), None)
    if ref is None:
        return []
    comp = app.openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return list(comp.get("properties", {}))


# A customer is refused these routes before its body matters (the seller's are enough to
# show a refused role's hostile body is never a 500).
@pytest.mark.parametrize("role", ["admin", "seller"])
def test_hostile_values_in_every_field_of_every_write_route_are_never_a_500(
        app, world, admin, role):
    api = {"admin": admin, "seller": world["s2"], "customer": world["c1"]}[role]
    ids = {"payment_id": world["payments"]["seller_2"],
           "refund_id": "re_01JD8X5R2C4E6G8J0K2M4N6P8Q",
           "dispute_id": world["dispute"], "payout_id": world["payout"],
           "coupon_id": world["coupon"], "seller_id": "seller_2", "customer_id": "cust_2",
           "gateway": "stripe", "mode": "test", "delivery_id": "whd_01JD8X5R2C4E6G8J0K2M4N6P8Q",
           "endpoint_id": "we_01JD8X5R2C4E6G8J0K2M4N6P8Q",
           "event_id": "evt_01JD8X5R2C4E6G8J0K2M4N6P8Q",
           "subscription_id": "sub_01JD8X5R2C4E6G8J0K2M4N6P8Q",
           "order_id": "ord_01JD8X5R2C4E6G8J0K2M4N6P8Q",
           "import_id": "rci_01JD8X5R2C4E6G8J0K2M4N6P8Q",
           "exception_id": "rcl_01JD8X5R2C4E6G8J0K2M4N6P8Q"}
    failures = []
    for method, path, schema in _write_routes(app):
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m[1]], path)
        if url.endswith(("/capture", "/pay", "/approve", "/lose", "/win")) and role == "admin":
            continue  # keep the world as it is for the other probes
        fields = _props(app, schema) or ["x"]
        bodies = [json.dumps({f: v}) for f in fields for v in HOSTILE]
        bodies += ["", "null", "[]", "{", '{"a":1,"a":2}', "\"str\"", "1e999", "NaN",
                   '{"amount": NaN}', '{"amount": Infinity}', "\ufeff{}"]
        # Every hostile body as JSON; the malformed ones also under another content type (the
        # body is read the same way whatever the header says).
        tries = [(body, "application/json") for body in bodies]
        tries += [(body, "text/plain") for body in bodies[-11:]]
        for body, ctype in tries:
            response = api.client.request(method.upper(), url, content=body.encode(),
                                          headers={**api.headers, "Content-Type": ctype})
            if response.status_code >= 500:
                failures.append((method, url, body[:80], ctype, response.status_code))
    assert not failures, failures[:10]


def test_hostile_query_parameters_are_never_a_500(app, world, admin):
    values = ["\x00", "-1", "0", "101", "9" * 40, "2026-01-01T00:00:00", "9999-12-31T23:59:59Z",
              "0001-01-01T00:00:00+00:00", "po_\x00", "pay_" + "z" * 200, "%", "_", "\u202e",
              "true", "[]", "USD\x00", "usd"]
    failures = []
    for path, ops in app.openapi()["paths"].items():
        if "get" not in ops or "{" in path:
            continue
        for param in [p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"]:
            for value in values:
                for api in (admin, world["s1"], world["c1"]):
                    response = api.get(path, params={param: value})
                    if response.status_code >= 500:
                        failures.append((path, param, value, response.status_code))
    assert not failures, failures[:10]
