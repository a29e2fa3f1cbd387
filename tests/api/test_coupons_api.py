"""/v1/coupons over HTTP: roles, scoping, problem codes, and a payment with a code."""

import pytest

from tests.api.conftest import payment_body

SPRING = {"code": "SPRING25", "kind": "percent", "percent_off": "0.25",
          "seller_ids": ["seller_1"], "funded_by": "seller"}
CHECK = {"code": "spring25", "customer_id": "cust_1", "seller_id": "seller_1",
         "item_id": "course_1", "currency": "USD", "subtotal": 10000}


@pytest.fixture
def spring(admin):
    created = admin.post("/v1/coupons", json=SPRING)
    assert created.status_code == 201, created.text
    return created.json()


def test_an_admin_creates_lists_reads_and_deactivates_a_coupon(admin, spring):
    assert spring["id"].startswith("cpn_")
    assert (spring["active"], spring["redemptions_held"]) == (True, 0)
    listed = admin.get("/v1/coupons", params={"code": "Spring25", "active": "true"}).json()
    assert [c["id"] for c in listed["data"]] == [spring["id"]]
    assert admin.get(f"/v1/coupons/{spring['id']}").json() == spring
    off = admin.post(f"/v1/coupons/{spring['id']}/deactivate", json={"reason": "over"})
    assert (off.status_code, off.json()["active"]) == (200, False)
    again = admin.post(f"/v1/coupons/{spring['id']}/deactivate")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert admin.get("/v1/coupons", params={"active": "true"}).json()["data"] == []


def test_a_code_is_unique_whatever_its_case(admin, spring):
    taken = admin.post("/v1/coupons", json={**SPRING, "code": "spring25"})
    assert (taken.status_code, taken.json()["code"]) == (409, "coupon_code_taken")


@pytest.mark.parametrize(("change", "field"), [
    ({"percent_off": "15"}, "percent_off"),
    ({"percent_off": 0.15}, "percent_off"),
    ({"percent_off": "0"}, "percent_off"),
    ({"code": "spring 25"}, "code"),
    ({"kind": "bogo"}, "kind"),
    ({"expires_at": "2027-01-01T00:00:00"}, "expires_at"),
    ({"max_redemptions": 0}, "max_redemptions"),
    ({"max_discount": 500}, "currency"),
    ({"amount_off": 500}, "amount_off"),
    ({"redemptions_held": 3}, "redemptions_held"),
])
def test_bad_terms_are_a_422_naming_the_field(admin, change, field):
    response = admin.post("/v1/coupons", json={**SPRING, **change})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field, response.text


def test_a_payment_with_a_code_gets_its_discount_or_a_reason(admin, spring):
    paid = admin.post("/v1/payments", json=payment_body(coupon_code="spring25"))
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert (body["discount"], body["total"], body["coupon_id"], body["discount_funded_by"]) \
        == (2500, 7500, spring["id"], "seller")
    mismatch = admin.post("/v1/payments", json=payment_body(coupon_code="SPRING25",
                                                            discount=100))
    assert (mismatch.status_code, mismatch.json()["code"]) == (422, "discount_mismatch")
    refused = admin.post("/v1/payments", json=payment_body(coupon_code="SPRING25",
                                                           currency="EUR", seller_id="seller_2",
                                                           item_id="course_2"))
    problem = refused.json()
    assert (refused.status_code, problem["code"], problem["reason"]) == (
        422, "coupon_not_applicable", "not_for_seller")
    assert problem["errors"][0]["field"] == "coupon_code"


def test_validate_answers_valid_or_a_reason_and_changes_nothing(admin, spring):
    ok = admin.post("/v1/coupons/validate", json=CHECK)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"code": "SPRING25", "valid": True, "discount": 2500,
                         "currency": "USD", "reason": None, "detail": None}
    other = admin.post("/v1/coupons/validate", json={**CHECK, "seller_id": "seller_2"}).json()
    assert (other["valid"], other["reason"]) == (False, "not_for_seller")
    unknown = admin.post("/v1/coupons/validate", json={**CHECK, "code": "NOPE"}).json()
    assert unknown["reason"] == "unknown_code"
    assert admin.get(f"/v1/coupons/{spring['id']}").json()["redemptions_held"] == 0


def test_a_customer_validates_for_itself_only_and_cannot_read_coupons(as_key, spring):
    customer = as_key("customer", customer_id="cust_1")
    assert customer.post("/v1/coupons/validate", json=CHECK).json()["valid"] is True
    other = customer.post("/v1/coupons/validate", json={**CHECK, "customer_id": "cust_2"})
    assert other.status_code == 404, other.text
    assert customer.get("/v1/coupons").status_code == 403
    assert customer.get(f"/v1/coupons/{spring['id']}/usage").status_code == 403
    assert customer.post("/v1/coupons", json={**SPRING, "code": "X"}).status_code == 403


def test_a_seller_validates_its_own_sales_only(as_key, spring):
    seller = as_key("seller", seller_id="seller_1")
    assert seller.post("/v1/coupons/validate", json=CHECK).json()["valid"] is True
    other = seller.post("/v1/coupons/validate", json={**CHECK, "seller_id": "seller_2"})
    assert other.status_code == 404, other.text


def test_a_seller_sees_its_coupons_usage_from_its_own_payments_only(admin, as_key, spring):
    shared = admin.post("/v1/coupons", json={**SPRING, "code": "SHARED",
                                             "seller_ids": ["seller_1", "seller_2"]}).json()
    theirs = admin.post("/v1/coupons", json={**SPRING, "code": "THEIRS",
                                             "seller_ids": ["seller_2"]}).json()
    for seller_id, subtotal in (("seller_1", 10000), ("seller_2", 4000)):
        created = admin.post("/v1/payments", json=payment_body(
            coupon_code="SHARED", seller_id=seller_id, item_id=f"course_{seller_id}",
            subtotal=subtotal)).json()
        assert admin.post(f"/v1/payments/{created['id']}/capture").status_code == 200
    seller = as_key("seller", seller_id="seller_1")
    assert {c["code"] for c in seller.get("/v1/coupons").json()["data"]} == {"SPRING25",
                                                                          "SHARED"}
    assert seller.get(f"/v1/coupons/{theirs['id']}").status_code == 404
    assert seller.get(f"/v1/coupons/{theirs['id']}/usage").status_code == 404
    seen = seller.get(f"/v1/coupons/{shared['id']}").json()
    assert "seller_ids" not in seen and "redemptions_held" not in seen
    own = seller.get(f"/v1/coupons/{shared['id']}/usage").json()
    assert own["currencies"] == [{"currency": "USD", "redemptions": 1, "reserved": 0,
                                  "discount_given": 2500, "revenue": 7500, "refunded": 0}]
    everything = admin.get(f"/v1/coupons/{shared['id']}/usage").json()
    assert (everything["redemptions"], everything["currencies"][0]["discount_given"]) == (
        2, 3500)


def test_a_platform_funded_coupon_is_borne_by_platform_discounts(admin, captured):
    admin.post("/v1/coupons", json={"code": "PLATFORM10", "kind": "percent",
                                    "percent_off": "0.10", "funded_by": "platform"})
    payment = captured(coupon_code="PLATFORM10")
    assert (payment["total"], payment["platform_discount"], payment["seller_amount"]) == (
        9000, 1000, 8000)
    account = admin.get("/v1/ledger/accounts", params={"code": "platform:discounts"}).json()
    rows = account["data"] if isinstance(account, dict) else account
    assert [(a["code"], a["currency"], a["balance"]) for a in rows] == [
        ("platform:discounts", "USD", 1000)]


def test_a_code_filter_no_coupon_can_have_finds_nothing(admin, spring):
    for code in ("\x00", "no spaces", "x" * 64):
        response = admin.get("/v1/coupons", params={"code": code})
        assert (response.status_code, response.json()["data"]) == (200, []), response.text
