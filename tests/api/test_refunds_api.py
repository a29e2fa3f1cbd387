def test_request_then_approve_moves_money(admin, captured):
    payment = captured()
    refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 2500,
                                             "reason": "late delivery"})
    assert refund.status_code == 201
    body = refund.json()
    assert body["id"].startswith("re_") and body["status"] == "requested"
    assert body["seller_part"] is None
    done = admin.post(f"/v1/refunds/{body['id']}/approve")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["seller_part"], done.json()["platform_part"]) == (
        "succeeded", 2000, 500)
    paid = admin.get(f"/v1/payments/{payment['id']}").json()
    assert (paid["status"], paid["refunded_amount"]) == ("partially_refunded", 2500)
    assert admin.get(f"/v1/refunds/{body['id']}").json()["status"] == "succeeded"


def test_reject_keeps_the_reason(admin, captured):
    payment = captured()
    refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "reason": "r"}).json()
    rejected = admin.post(f"/v1/refunds/{refund['id']}/reject", json={"reason": "too late"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "too late"
    again = admin.post(f"/v1/refunds/{refund['id']}/approve")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_a_one_step_full_refund(admin, captured):
    payment = captured(subtotal=999)
    refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "reason": "dup",
                                             "approve": True}).json()
    assert (refund["amount"], refund["status"]) == (999, "succeeded")
    assert refund["seller_part"] + refund["platform_part"] == 999
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "refunded"
    listed = admin.get("/v1/refunds", params={"payment_id": payment["id"],
                                              "status": "succeeded"}).json()
    assert [r["id"] for r in listed["data"]] == [refund["id"]]


def test_a_refund_needs_a_reason(admin, captured):
    payment = captured()
    response = admin.post("/v1/refunds", json={"payment_id": payment["id"], "reason": ""})
    assert response.status_code == 422
