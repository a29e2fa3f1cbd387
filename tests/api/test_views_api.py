"""Each role sees its own view (DESIGN principle 7), on every endpoint that answers with a
payment, a refund or a status history: an admin sees everything; a seller its split but not
the customer's personal data; a customer what it paid and its refunds, never the platform's
commission, and actors only as roles."""

from __future__ import annotations

import pytest
import schemathesis

from paytrack.domain.actors import Role
from paytrack.entrypoints.api import create_app
from paytrack.entrypoints.api.schemas import PaymentOut, RefundOut, StatusEventOut
from paytrack.services.permissions import visible_fields
from tests.api.conftest import payment_body

SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", create_app(None))

ROLES = {"admin", "seller", "customer", "system"}
COMMISSION = {"commission_rate", "commission_base", "platform_fee", "seller_amount",
              "tax_collected", "shipping_collected", "gateway_fee"}
PERSONAL = {"ip_address", "billing_details"}
PLATFORM_NOTES = {"metadata", "reconciled", "reconciled_at"}
RECONCILER = {"reconciled_by"}  # which key marked it: an admin's to see
REFUND_SPLIT = {"seller_part", "platform_part", "tax_part", "shipping_part"}
ORDER = {"id", "status", "customer_id", "seller_id", "item_type", "item_id", "currency",
         "subtotal", "discount", "tax", "shipping", "total", "refunded_amount", "method",
         "gateway", "created_at", "succeeded_at"}

# role -> (payment fields it must see, payment fields it must never see)
PAYMENT_VIEW = {
    "admin": (ORDER | COMMISSION | PERSONAL | PLATFORM_NOTES | RECONCILER, set()),
    "seller": (ORDER | COMMISSION | PLATFORM_NOTES, PERSONAL | RECONCILER),
    "customer": (ORDER | PERSONAL, COMMISSION | PLATFORM_NOTES | RECONCILER),
}
REFUND_VIEW = {
    "admin": ({"id", "amount", "status", "reason"} | REFUND_SPLIT, set()),
    "seller": ({"id", "amount", "status", "reason"} | REFUND_SPLIT, set()),
    "customer": ({"id", "payment_id", "amount", "status", "reason"}, REFUND_SPLIT),
}
ACTOR_FIELDS = {"refund": ("requested_by", "decided_by"), "event": ("actor",)}


def check(kind: str, role: str, obj: dict) -> None:
    """``obj`` is exactly what ``role`` may see of a ``kind``."""
    if kind == "payment":
        shown, hidden = PAYMENT_VIEW[role]
    elif kind == "refund":
        shown, hidden = REFUND_VIEW[role]
    else:
        shown, hidden = {"from_status", "to_status", "actor", "reason", "created_at"}, set()
    assert shown <= set(obj), f"{role} misses {shown - set(obj)} of a {kind}"
    assert not hidden & set(obj), f"{role} sees {hidden & set(obj)} of a {kind}"
    for name in ACTOR_FIELDS.get(kind, ()):
        if obj[name] is None:
            continue
        if role == "admin":
            assert obj[name].startswith(("admin:key_", "seller:", "customer:", "system"))
        else:
            assert obj[name] in ROLES, f"{role} sees the actor {obj[name]!r}"


@pytest.fixture
def world(admin, as_key):
    """A captured payment with a refund carried out (by an admin) and a refund requested
    (by the customer), and a pending payment for each role to cancel."""
    keys = {"admin": admin, "seller": as_key("seller", seller_id="seller_1"),
            "customer": as_key("customer", customer_id="cust_1")}
    personal = {"billing_details": {"name": "Ada", "line1": "1 Main St"},
                "ip_address": "203.0.113.7", "metadata": {"cohort": "spring"}}
    created = admin.post("/v1/payments", json=payment_body(tax=500, **personal)).json()
    pid = created["id"]
    admin.post(f"/v1/payments/{pid}/capture", json={"gateway_fee": 300})
    done = admin.post("/v1/refunds", json={"payment_id": pid, "amount": 1000,
                                           "reason": "late", "approve": True}).json()
    asked = keys["customer"].post("/v1/refunds", json={"payment_id": pid, "amount": 500,
                                                       "reason": "scratched"}).json()
    pending = {role: admin.post("/v1/payments", json=payment_body(**personal)).json()["id"]
               for role in keys}
    return {"keys": keys, "pid": pid, "done": done["id"], "asked": asked["id"],
            "pending": pending}


# (GET path, its OpenAPI path, kind of object in the answer, shape of the answer)
READS = [
    ("/v1/payments/{pid}", "/v1/payments/{payment_id}", "payment", "one"),
    ("/v1/payments", "/v1/payments", "payment", "page"),
    ("/v1/payments/{pid}/events", "/v1/payments/{payment_id}/events", "event", "list"),
    ("/v1/refunds/{done}", "/v1/refunds/{refund_id}", "refund", "one"),
    ("/v1/refunds/{asked}", "/v1/refunds/{refund_id}", "refund", "one"),
    ("/v1/refunds", "/v1/refunds", "refund", "page"),
]
WRITES = [  # (role, POST path, its OpenAPI path, kind of object in the answer)
    ("admin", "/v1/payments", "/v1/payments", "payment"),
    ("admin", "/v1/payments/{new}/processing", "/v1/payments/{payment_id}/processing",
     "payment"),
    ("admin", "/v1/payments/{new}/capture", "/v1/payments/{payment_id}/capture", "payment"),
    ("admin", "/v1/payments/{new}/fail", "/v1/payments/{payment_id}/fail", "payment"),
    *[(role, "/v1/payments/{own_pending}/cancel", "/v1/payments/{payment_id}/cancel",
       "payment") for role in ("admin", "seller", "customer")],
    *[(role, "/v1/refunds", "/v1/refunds", "refund") for role in ("admin", "seller",
                                                                 "customer")],
    ("admin", "/v1/refunds/{new_refund}/approve", "/v1/refunds/{refund_id}/approve",
     "refund"),
    ("admin", "/v1/refunds/{new_refund}/reject", "/v1/refunds/{refund_id}/reject", "refund"),
]


@pytest.mark.parametrize("role", ["admin", "seller", "customer"])
@pytest.mark.parametrize(("path", "documented", "kind", "shape"), READS)
def test_every_read_answers_with_the_callers_view(world, role, path, documented, kind, shape):
    response = world["keys"][role].get(path.format(**world))
    assert response.status_code == 200, response.text
    SCHEMA[documented]["GET"].validate_response(response)
    body = response.json()
    objects = {"one": lambda: [body], "list": lambda: body, "page": lambda: body["data"]}[shape]()
    assert objects
    for obj in objects:
        check(kind, role, obj)


@pytest.mark.parametrize(("role", "path", "documented", "kind"), WRITES)
def test_every_write_answers_with_the_callers_view(world, admin, role, path, documented, kind):
    new = admin.post("/v1/payments", json=payment_body()).json()["id"]
    new_refund = admin.post("/v1/refunds", json={"payment_id": world["pid"], "amount": 100,
                                                 "reason": "r"}).json()["id"]
    body = {"/v1/payments": payment_body(),
            "/v1/refunds": {"payment_id": world["pid"], "amount": 200, "reason": "dent"},
            "/v1/refunds/{new_refund}/reject": {"reason": "no"}}.get(path)
    url = path.format(new=new, new_refund=new_refund, own_pending=world["pending"][role])
    response = world["keys"][role].post(url, json=body)
    assert response.status_code in (200, 201), response.text
    SCHEMA[documented]["POST"].validate_response(response)
    check(kind, role, response.json())


def test_a_customer_sees_actors_as_roles_and_no_commission(world):
    """The issue's own reproduction: key ids in the history and refunds, and the split."""
    customer = world["keys"]["customer"]
    events = customer.get(f"/v1/payments/{world['pid']}/events").json()
    assert {e["actor"] for e in events} == {"admin"}
    refund = customer.get(f"/v1/refunds/{world['done']}").json()
    assert (refund["requested_by"], refund["decided_by"]) == ("admin", "admin")
    assert customer.get(f"/v1/refunds/{world['asked']}").json()["requested_by"] == "customer"
    paid = customer.get(f"/v1/payments/{world['pid']}").json()
    assert paid["total"] == 10500 and paid["refunded_amount"] == 1000
    assert "platform_fee" not in paid and "commission_rate" not in paid


def test_a_seller_sees_its_split_but_not_the_customers_personal_data(world):
    seller = world["keys"]["seller"]
    paid = seller.get(f"/v1/payments/{world['pid']}").json()
    assert (paid["platform_fee"], paid["seller_amount"], paid["gateway_fee"]) == (
        2100, 8400, 300)
    assert "ip_address" not in paid and "billing_details" not in paid
    assert seller.get("/v1/customers/cust_1").status_code == 403


def test_an_admin_sees_everything_and_the_acting_keys(world):
    admin = world["keys"]["admin"]
    paid = admin.get(f"/v1/payments/{world['pid']}").json()
    assert paid["ip_address"] == "203.0.113.7" and paid["billing_details"]["name"] == "Ada"
    events = admin.get(f"/v1/payments/{world['pid']}/events").json()
    assert all(e["actor"].startswith("admin:key_") for e in events)
    asked = admin.get(f"/v1/refunds/{world['asked']}").json()
    assert asked["requested_by"] == "customer:cust_1"


def test_party_endpoints_answer_only_the_party_itself_or_an_admin(world, as_key):
    keys = world["keys"]
    assert keys["seller"].get("/v1/sellers/seller_1").status_code == 200
    assert keys["customer"].get("/v1/sellers/seller_1").status_code == 403
    assert keys["customer"].get("/v1/customers/cust_1").status_code == 200
    assert as_key("customer", customer_id="cust_2").get("/v1/customers/cust_1").status_code \
        == 404
    assert keys["customer"].get("/v1/sellers/seller_1/balance").status_code == 403
    assert as_key("seller", seller_id="seller_2").get(
        "/v1/sellers/seller_1/balance").status_code == 404


def test_every_field_of_a_full_view_is_placed_in_a_group():
    """A new response field is hidden from sellers and customers until permissions.py
    places it; the full (admin) models and the permissions table never drift apart."""
    for model, kind in ((PaymentOut, "payment"), (RefundOut, "refund"),
                        (StatusEventOut, "status_event")):
        assert set(model.model_fields) == visible_fields(Role.ADMIN, kind)
