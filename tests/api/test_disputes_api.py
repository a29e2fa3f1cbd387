"""/v1/disputes through the HTTP app: who may do what, strict input, stable error codes."""

from __future__ import annotations

import pytest

from tests.api.conftest import payment_body

DUE = "2026-02-14T23:59:59Z"


def open_body(payment: dict, **changes) -> dict:
    return {"payment_id": payment["id"], "amount": payment["total"],
            "reason": "never delivered", **changes}


@pytest.fixture
def disputed(admin, captured):
    """A captured payment of seller_1 and an open dispute on it."""
    payment = captured()
    response = admin.post("/v1/disputes", json=open_body(
        payment, amount=5000, due_by=DUE, gateway_dispute_id="du_1", fee=1500,
        reason_code="product_not_received"))
    assert response.status_code == 201, response.text
    return payment, response.json()


def test_an_admin_opens_a_dispute_and_the_payment_shows_disputed(admin, disputed):
    payment, dispute = disputed
    assert dispute["id"].startswith("dp_")
    assert (dispute["status"], dispute["amount"], dispute["fee"]) == ("open", 5000, 1500)
    assert (dispute["seller_part"], dispute["platform_part"]) == (4000, 1000)
    assert dispute["due_by"].startswith("2026-02-14T23:59:59")
    shown = admin.get(f"/v1/payments/{payment['id']}").json()
    assert (shown["status"], shown["disputed_amount"], shown["refundable_amount"]) == (
        "disputed", 5000, 0)  # nothing may be refunded while it is disputed
    refused = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 100,
                                              "reason": "r"})
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"


def test_the_seller_defends_its_own_dispute_but_cannot_decide_it(admin, as_key, disputed):
    payment, dispute = disputed
    seller = as_key("seller", seller_id="seller_1")
    assert seller.get(f"/v1/disputes/{dispute['id']}").status_code == 200
    assert [d["id"] for d in seller.get("/v1/disputes").json()["data"]] == [dispute["id"]]
    response = seller.post(f"/v1/disputes/{dispute['id']}/evidence",
                           json={"text": "delivery logs", "references": ["file_1"]})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "under_review"
    assert response.json()["evidence"][0]["submitted_by"] == "seller"
    for verb in ("win", "lose"):
        refused = seller.post(f"/v1/disputes/{dispute['id']}/{verb}")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert seller.post("/v1/disputes", json=open_body(payment)).status_code == 403


def test_another_seller_sees_nothing_and_a_customer_may_not_look(admin, as_key, disputed):
    _, dispute = disputed
    other = as_key("seller", seller_id="seller_2")
    assert other.get(f"/v1/disputes/{dispute['id']}").status_code == 404
    assert other.post(f"/v1/disputes/{dispute['id']}/evidence",
                      json={"text": "mine"}).status_code == 404
    assert other.get("/v1/disputes").json()["data"] == []
    assert other.get("/v1/disputes", params={"seller_id": "seller_1"}).json()["data"] == []
    customer = as_key("customer", customer_id="cust_1")
    assert customer.get(f"/v1/disputes/{dispute['id']}").status_code == 403
    assert customer.get("/v1/disputes").status_code == 403
    assert customer.post(f"/v1/disputes/{dispute['id']}/evidence",
                         json={"text": "x"}).status_code == 403


def test_winning_and_losing(admin, captured, disputed):
    payment, dispute = disputed
    won = admin.post(f"/v1/disputes/{dispute['id']}/win",
                     json={"reason": "issuer accepted the logs"})
    assert won.status_code == 200, won.text
    assert (won.json()["status"], won.json()["decision_reason"]) == (
        "won", "issuer accepted the logs")
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"
    again = admin.post(f"/v1/disputes/{dispute['id']}/lose")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

    other = captured()
    opened = admin.post("/v1/disputes", json=open_body(other)).json()
    lost = admin.post(f"/v1/disputes/{opened['id']}/lose")  # no body: no reason
    assert lost.status_code == 200 and lost.json()["status"] == "lost"
    assert admin.get(f"/v1/payments/{other['id']}").json()["status"] == "charged_back"
    accounts = {a["code"]: a["balance"]
                for a in admin.get("/v1/ledger/accounts").json()["data"]}
    assert accounts["platform:disputes"] == 1500  # the first dispute's fee alone
    assert admin.get("/v1/ledger/verify").json()["ok"]


def test_a_dispute_above_what_is_left_is_a_409_with_a_stable_code(admin, captured):
    payment = captured()
    assert admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 6000,
                                           "reason": "r", "approve": True}).status_code == 201
    response = admin.post("/v1/disputes", json=open_body(payment, amount=4001))
    assert response.status_code == 409
    assert response.json()["code"] == "dispute_exceeds_captured"
    assert "40.00 USD left" in response.json()["detail"]


def test_a_payment_not_captured_cannot_be_disputed(admin):
    created = admin.post("/v1/payments", json=payment_body()).json()
    response = admin.post("/v1/disputes", json=open_body(created))
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    unknown = admin.post("/v1/disputes", json={**open_body(created),
                                               "payment_id": "pay_0123"})
    assert unknown.status_code == 404


def test_a_gateway_dispute_id_is_recorded_once(admin, captured, disputed):
    response = admin.post("/v1/disputes", json=open_body(captured(), amount=100,
                                                         gateway_dispute_id="du_1"))
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_gateway_dispute"
    assert disputed[1]["id"] in response.json()["detail"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount": 49.99}, "amount"),
    ({"amount": "5000"}, "amount"),
    ({"amount": 0}, "amount"),
    ({"fee": -1}, "fee"),
    ({"due_by": "2026-02-14T23:59:59"}, "due_by"),  # no offset
    ({"reason_code": "bored"}, "reason_code"),
    ({"reason": ""}, "reason"),
    ({"status": "won"}, "status"),  # no mass assignment
    ({"seller_part": 0}, "seller_part"),
])
def test_strict_input(admin, captured, changes, field):
    response = admin.post("/v1/disputes", json=open_body(captured(), **changes))
    assert response.status_code == 422, response.text
    assert field in str(response.json()["errors"])


def test_a_deadline_without_an_offset_says_to_give_one(admin, captured):
    response = admin.post("/v1/disputes", json=open_body(
        captured(), due_by="2026-02-14T23:59:59"))
    assert "UTC offset" in response.json()["detail"]
    assert "2026-02-14T23:59:59Z" in response.json()["detail"]


def test_evidence_is_text_with_references(admin, disputed):
    _, dispute = disputed
    path = f"/v1/disputes/{dispute['id']}/evidence"
    assert admin.post(path, json={}).status_code == 422
    assert admin.post(path, json={"text": "t", "references": ["a"] * 21}).status_code == 422
    assert admin.post(path, json={"text": "t", "extra": 1}).status_code == 422
    assert admin.post(path, json={"text": "t", "references": ["bad\nline"]}).status_code == 422


def test_lists_filter_by_status_payment_and_seller(admin, captured, disputed):
    payment, dispute = disputed
    other = admin.post("/v1/disputes", json=open_body(captured(), amount=100)).json()
    assert [d["id"] for d in admin.get("/v1/disputes").json()["data"]] == [
        other["id"], dispute["id"]]
    by_payment = admin.get("/v1/disputes", params={"payment_id": payment["id"]}).json()
    assert [d["id"] for d in by_payment["data"]] == [dispute["id"]]
    assert admin.get("/v1/disputes", params={"status": "won"}).json()["data"] == []
    first = admin.get("/v1/disputes", params={"limit": 1}).json()
    assert first["has_more"]
    second = admin.get("/v1/disputes", params={"limit": 1, "cursor": first["next_cursor"]})
    assert [d["id"] for d in second.json()["data"]] == [dispute["id"]]
    assert admin.get("/v1/disputes", params={"cursor": "re_0"}).json()["code"] == \
        "invalid_cursor"
    assert admin.get("/v1/disputes", params={"status": "closed"}).status_code == 422


def test_an_idempotent_retry_opens_once(admin, captured):
    payment = captured()
    headers = {"Idempotency-Key": "chargeback-1"}
    first = admin.post("/v1/disputes", json=open_body(payment), headers=headers)
    again = admin.post("/v1/disputes", json=open_body(payment), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert len(admin.get("/v1/disputes").json()["data"]) == 1


def test_the_readme_dispute_example_fits_the_readme_payment(admin):
    """The README's dispute follows its payment session (49.99 USD, 10.00 refunded)."""
    import json
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = re.search(r"### Disputes.*?```bash\n(.*?)```", readme, re.S)[1]
    body = json.loads(re.search(r"-d '(.*?)' \|", block, re.S)[1].replace("'$PAY'", "PAY"))
    payment = admin.post("/v1/payments", json=payment_body(subtotal=4999, discount=500,
                                                           tax=360, captured=True)).json()
    assert admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 1000,
                                           "reason": "r", "approve": True}).status_code == 201
    opened = admin.post("/v1/disputes", json={**body, "payment_id": payment["id"]})
    assert opened.status_code == 201, opened.text
    lost = admin.post(f"/v1/disputes/{opened.json()['id']}/lose")
    assert lost.status_code == 200 and lost.json()["status"] == "lost"
