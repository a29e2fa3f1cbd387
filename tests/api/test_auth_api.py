"""Keys and scopes: 401 without a valid key, 403 for a role that may not call, 404 for
another party's objects, and lists that show only what the caller may see."""

from paytrack.services.keys import revoke_key
from tests.api.conftest import Api, payment_body
from tests.integration.conftest import ADMIN


def test_no_key_a_bad_key_or_a_revoked_key_is_a_401(client, storage, make_key):
    assert client.get("/v1/payments").status_code == 401
    assert Api(client, "ptk_nope_nope").get("/v1/payments").status_code == 401
    assert Api(client, "not-a-key").get("/v1/payments").status_code == 401
    token = make_key("admin")
    assert Api(client, token).get("/v1/payments").status_code == 200
    with storage.unit_of_work() as uow:
        revoke_key(uow, token.split("_")[1], ADMIN)
        uow.commit()
    response = Api(client, token).get("/v1/payments")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_keys_are_stored_hashed(storage, make_key):
    token = make_key("admin")
    with storage.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_keys"))
    assert token not in dump and token.split("_", 2)[2] not in dump


def test_a_seller_never_learns_of_another_sellers_payment_or_balance(admin, as_key,
                                                                      captured):
    mine = captured(seller_id="seller_a", item_id="ia")
    theirs = captured(seller_id="seller_b", item_id="ib")
    seller_a = as_key("seller", seller_id="seller_a")
    assert seller_a.get(f"/v1/payments/{mine['id']}").status_code == 200
    assert seller_a.get(f"/v1/payments/{theirs['id']}").status_code == 404
    assert seller_a.get(f"/v1/payments/{theirs['id']}/events").status_code == 404
    assert [p["id"] for p in seller_a.get("/v1/payments").json()["data"]] == [mine["id"]]
    assert seller_a.get("/v1/payments", params={"seller_id": "seller_b"}).json()["data"] == []
    assert seller_a.get("/v1/sellers/seller_a/balance").status_code == 200
    assert seller_a.get("/v1/sellers/seller_b/balance").status_code == 404
    assert seller_a.get("/v1/sellers/seller_b").status_code == 404


def test_a_customer_can_request_refunds_only_on_its_own_payments(as_key, captured, admin):
    mine = captured(customer_id="cust_a")
    theirs = captured(customer_id="cust_b")
    customer = as_key("customer", customer_id="cust_a")
    ok = customer.post("/v1/refunds", json={"payment_id": mine["id"], "reason": "r"})
    assert ok.status_code == 201 and ok.json()["status"] == "requested"
    refused = customer.post("/v1/refunds", json={"payment_id": theirs["id"], "reason": "r"})
    assert refused.status_code == 404
    one_step = customer.post("/v1/refunds", json={"payment_id": mine["id"], "reason": "r",
                                                  "approve": True})
    assert one_step.status_code == 403
    assert customer.post(f"/v1/refunds/{ok.json()['id']}/approve").status_code == 403
    assert [r["id"] for r in customer.get("/v1/refunds").json()["data"]] == [ok.json()["id"]]
    assert len(admin.get("/v1/refunds").json()["data"]) == 1


def test_roles_that_may_not_call_get_a_403(as_key, captured):
    payment = captured()
    customer = as_key("customer", customer_id="cust_1")
    seller = as_key("seller", seller_id="seller_1")
    assert customer.post("/v1/payments", json=payment_body()).status_code == 403
    assert seller.post("/v1/payments", json=payment_body()).status_code == 403
    assert seller.post(f"/v1/payments/{payment['id']}/fail").status_code == 403
    assert customer.get("/v1/sellers/seller_1/balance").status_code == 403
    for path in ("/v1/ledger/trial-balance", "/v1/ledger/accounts", "/v1/ledger/entries"):
        assert seller.get(path).status_code == 403
        assert customer.get(path).status_code == 403


def test_a_customer_may_cancel_its_own_pending_payment(admin, as_key):
    mine = admin.post("/v1/payments", json=payment_body(customer_id="cust_a")).json()
    theirs = admin.post("/v1/payments", json=payment_body(customer_id="cust_b")).json()
    customer = as_key("customer", customer_id="cust_a")
    assert customer.post(f"/v1/payments/{theirs['id']}/cancel").status_code == 404
    assert customer.post(f"/v1/payments/{mine['id']}/cancel").json()["status"] == "canceled"
