"""Reconciliation through the HTTP API: a settlement report uploaded as a file, its report,
the exceptions queue, marking payments by hand, and who may do any of it."""

from __future__ import annotations

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.splits import Policy
from tests.clock import Clock
from tests.integration.reconciliation_support import (
    EXPECTED_COUNTS,
    IN_PERIOD,
    record_paytrack_side,
    report,
)


@pytest.fixture
def storage(engine) -> Storage:
    return Storage(engine, Policy(), clock=Clock(IN_PERIOD))


def upload(api, gateway: str, data: bytes, name: str = "report.csv", **kw):
    return api.post("/v1/reconciliation/imports", data={"gateway": gateway},
                    files={"file": (name, data, "text/csv")}, **kw)


def test_a_report_uploaded_twice_is_imported_once(storage, admin):
    record_paytrack_side(storage, "stripe")
    first = upload(admin, "stripe", report("stripe"), "balance_transactions_nov.csv")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["counts"] == EXPECTED_COUNTS and body["exceptions"] == 6
    assert body["filename"] == "balance_transactions_nov.csv"
    again = upload(admin, "stripe", report("stripe"))
    assert again.status_code == 200 and again.json() == body
    listed = admin.get("/v1/reconciliation/imports", params={"gateway": "stripe"}).json()
    assert [i["id"] for i in listed["data"]] == [body["id"]] and not listed["has_more"]
    assert admin.get(f"/v1/reconciliation/imports/{body['id']}").json() == body
    assert admin.get("/v1/reconciliation/imports",
                     params={"gateway": "paypal"}).json()["data"] == []


def test_an_import_replays_for_its_idempotency_key(storage, admin):
    # The key's fingerprint is the request's bytes: a retry sends the same body (its
    # multipart boundary included). Without a key, the file's hash keeps it once anyway.
    boundary = "paytrack-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"gateway\"\r\n\r\n"
            f"paypal\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"activity.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() \
        + report("paypal") + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Idempotency-Key": "recon-nov-1",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    first = admin.post("/v1/reconciliation/imports", content=body, headers=headers)
    replay = admin.post("/v1/reconciliation/imports", content=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(("gateway", "data", "code"), [
    ("stripe", "Source,Amount\n\xe9".encode("latin-1"), "invalid_report"),
    ("stripe", b"id,Type,Source,Amount,Fee,Net,Currency,Created (UTC)\n"
               b"txn_1,charge,ch_1,=1+1,0,0,usd,2026-11-02 09:37\n", "invalid_report"),
    ("razorpay", b"", "invalid_report"),
    ("paypal", report("stripe"), "invalid_report"),
    ("adyen", report("stripe"), "validation_failed"),
])
def test_a_hostile_report_is_a_422_that_names_the_problem(storage, admin, gateway, data, code):
    response = upload(admin, gateway, data)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert admin.get("/v1/reconciliation/imports").json()["data"] == []


def test_an_upload_without_a_file_is_a_422(admin):
    response = admin.post("/v1/reconciliation/imports", data={"gateway": "stripe"})
    assert response.status_code == 422, response.text


def test_exceptions_are_listed_by_kind_and_resolved(storage, admin):
    record_paytrack_side(storage, "razorpay")
    imported = upload(admin, "razorpay", report("razorpay")).json()
    listed = admin.get("/v1/reconciliation/exceptions", params={
        "status": "open", "gateway": "razorpay", "import_id": imported["id"], "limit": 4})
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["data"]) == 4 and listed.json()["has_more"]
    rest = admin.get("/v1/reconciliation/exceptions",
                     params={"cursor": listed.json()["next_cursor"]}).json()
    assert len(rest["data"]) == 2 and not rest["has_more"]
    fee, = admin.get("/v1/reconciliation/exceptions",
                     params={"kind": "fee_mismatch"}).json()["data"]
    assert (fee["report_fee"], fee["paytrack_fee"], fee["fee_posted"]) == (175, 150, 25)
    resolved = admin.post(f"/v1/reconciliation/exceptions/{fee['id']}/resolve",
                          json={"note": "Razorpay raised its fee on 1 November"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["exception_status"] == "resolved"
    assert resolved.json()["resolved_by"].startswith("admin:key_")
    again = admin.post(f"/v1/reconciliation/exceptions/{fee['id']}/resolve",
                       json={"note": "again"})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert admin.post("/v1/reconciliation/exceptions/rcl_nothing/resolve",
                      json={"note": "x"}).status_code == 404
    assert len(admin.get("/v1/reconciliation/exceptions",
                         params={"status": "open"}).json()["data"]) == 5


def test_payments_are_marked_by_hand_and_filtered(storage, admin, as_key):
    ids = list(record_paytrack_side(storage, "paypal").values())
    marked = admin.post("/v1/reconciliation/mark",
                        json={"payment_ids": [*ids[:2], "pay_unknown"], "note": "statement"})
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": sorted(ids[:2]), "already_reconciled": [],
                             "not_found": ["pay_unknown"]}
    done = admin.get("/v1/payments", params={"reconciled": "true"}).json()["data"]
    assert sorted(p["id"] for p in done) == sorted(ids[:2])
    left = admin.get("/v1/payments", params={"reconciled": "false", "limit": 100}).json()
    assert len(left["data"]) == len(ids) - 2
    shown = admin.get(f"/v1/payments/{ids[0]}").json()
    assert shown["reconciled"] and shown["reconciled_by"].startswith("admin:key_")
    seller = as_key("seller", seller_id="seller_1").get(f"/v1/payments/{ids[0]}").json()
    assert seller["reconciled"] and seller["reconciled_at"] and "reconciled_by" not in seller
    too_many = admin.post("/v1/reconciliation/mark",
                          json={"payment_ids": [f"pay_{n}" for n in range(1001)]})
    assert too_many.status_code == 422


@pytest.mark.parametrize("role", ["seller", "customer"])
def test_only_an_admin_reaches_reconciliation(as_key, role):
    api = as_key(role, **({"seller_id": "seller_1"} if role == "seller"
                          else {"customer_id": "cust_1"}))
    assert upload(api, "stripe", report("stripe")).status_code == 403
    for path in ("/v1/reconciliation/imports", "/v1/reconciliation/exceptions"):
        assert api.get(path).status_code == 403
    assert api.post("/v1/reconciliation/mark",
                    json={"payment_ids": ["pay_x"]}).status_code == 403


def test_a_customer_cannot_learn_reconciled_through_the_filter(storage, admin, as_key):
    # A customer is not shown `reconciled`; filtering by it would tell it all the same.
    ids = list(record_paytrack_side(storage, "paypal").values())
    admin.post("/v1/reconciliation/mark", json={"payment_ids": ids[:1]})
    customer = as_key("customer", customer_id="cust_0")
    assert len(customer.get("/v1/payments").json()["data"]) == 1
    for value in ("true", "false"):
        response = customer.get("/v1/payments", params={"reconciled": value})
        assert response.status_code == 403, response.text
    seller = as_key("seller", seller_id="seller_1")
    assert len(seller.get("/v1/payments", params={"reconciled": "true"}).json()["data"]) == 1
