"""/v1/event-endpoints and /v1/events: admins only; an endpoint's secret is shown once,
stored encrypted, and never again; events list newest first with their deliveries, and
redeliver on request."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from standardwebhooks import Webhook

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.tables import event_endpoints, idempotency_keys
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.events import DeliveryRules
from paytrack.domain.splits import Policy
from paytrack.entrypoints.upkeep import run_once
from tests.receiver import receiving

URL = "https://platform.example/paytrack/events"
RULES = DeliveryRules(max_attempts=2, timeout_s=2, lease_s=30)


@pytest.fixture
def storage(engine) -> Storage:
    return Storage(engine, Policy(), payout_keys=PayoutKeyring.of(Fernet.generate_key()))


def create(admin, **body):
    return admin.post("/v1/event-endpoints", json={"url": URL, **body})


def patch(api, path, body):
    return api.client.patch(path, json=body, headers=api.headers)


def delete(api, path):
    return api.client.delete(path, headers=api.headers)


ROUTES = [("POST", "/v1/event-endpoints"), ("GET", "/v1/event-endpoints"),
          ("GET", "/v1/event-endpoints/we_1"), ("PATCH", "/v1/event-endpoints/we_1"),
          ("DELETE", "/v1/event-endpoints/we_1"),
          ("POST", "/v1/event-endpoints/we_1/rotate-secret"), ("GET", "/v1/events"),
          ("GET", "/v1/events/evt_1"), ("GET", "/v1/events/evt_1/deliveries"),
          ("POST", "/v1/events/evt_1/redeliver")]


@pytest.mark.parametrize("role", ["seller", "customer"])
def test_only_admins_reach_events_and_endpoints(as_key, role):
    api = as_key(role, **{f"{role}_id": "x1"})
    for method, path in ROUTES:
        response = api.client.request(method, path, headers=api.headers,
                                      json={"url": URL} if method != "GET" else None)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"


def test_the_secret_is_shown_once_and_stored_encrypted(admin, storage):
    response = create(admin, event_types=["payment.succeeded"], description="enroll")
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and Webhook(secret)  # what the libraries take
    assert (created["url"], created["event_types"], created["active"]) == (
        URL, ["payment.succeeded"], True)
    shown = admin.get(f"/v1/event-endpoints/{created['id']}").json()
    listed = admin.get("/v1/event-endpoints").json()["data"]
    assert "secret" not in shown and all("secret" not in e for e in listed)
    assert secret not in str(shown) + str(listed)
    with storage.engine.connect() as conn:
        stored = conn.execute(select(event_endpoints.c.secret_encrypted)).scalar_one()
        everything = " ".join(str(r) for t in ("event_endpoints", "audit_log")
                              for r in conn.execute(text(f"SELECT * FROM {t}")))
    assert secret not in everything
    assert storage.payout_keys.decrypt(stored) == {"secret": secret}


def test_a_replay_answers_with_the_same_secret_which_is_stored_encrypted(admin, storage):
    key = {"Idempotency-Key": "endpoint-1"}
    first = admin.post("/v1/event-endpoints", json={"url": URL}, headers=key)
    again = admin.post("/v1/event-endpoints", json={"url": URL}, headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    with storage.engine.connect() as conn:
        body = conn.execute(select(idempotency_keys.c.response_body)).scalar_one()
    assert first.json()["secret"] not in body and first.json()["id"] in body


def test_rotating_makes_a_new_secret_shown_once(admin, storage):
    made = create(admin).json()
    rotated = admin.post(f"/v1/event-endpoints/{made['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != made["secret"]
    assert rotated.json()["secret"].startswith("whsec_")
    assert "secret" not in admin.get(f"/v1/event-endpoints/{made['id']}").json()


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://platform.example/x"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "https://user:pw@platform.example/x"}, "url"),
    ({"url": "https://platform.example:99999/x"}, "url"),
    ({"url": "https://[::1/x"}, "url"),
    ({"url": "https://platform.example/" + "x" * 2048}, "url"),
    ({"url": URL, "event_types": ["payment.exploded"]}, "event_types"),
    ({"url": URL, "secret": "whsec_mine"}, "secret"),
])
def test_a_bad_endpoint_is_a_422_naming_the_field(admin, body, field):
    response = admin.post("/v1/event-endpoints", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_patch_changes_what_is_sent_and_delete_deactivates(admin):
    made = create(admin, description="first").json()
    path = f"/v1/event-endpoints/{made['id']}"
    changed = patch(admin, path, {"event_types": ["refund.succeeded", "refund.succeeded"],
                                  "description": None, "url": URL + "/v2"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["event_types"], changed.json()["description"],
            changed.json()["url"]) == (["refund.succeeded"], None, URL + "/v2")
    assert patch(admin, path, {"url": "ftp://x"}).status_code == 422
    gone = delete(admin, path)
    assert gone.status_code == 200
    assert (gone.json()["active"], gone.json()["disabled_reason"]) == (
        False, "deactivated by an admin")
    assert admin.get("/v1/event-endpoints", params={"active": "false"}).json()["data"][0][
        "id"] == made["id"]
    back = patch(admin, path, {"active": True}).json()
    assert (back["active"], back["disabled_reason"]) == (True, None)
    assert patch(admin, "/v1/event-endpoints/we_0123", {"active": True}).status_code == 404


def test_events_list_newest_first_with_filters_and_their_deliveries(admin, captured,
                                                                    storage):
    with receiving() as receiver:
        made = admin.post("/v1/event-endpoints", json={"url": receiver.url}).json()
        receiver.secret = made["secret"]
        first, second = captured(), captured()
        failed = admin.post("/v1/payments", json={
            "customer_id": "cust_1", "seller_id": "seller_1", "item_type": "course",
            "item_id": "course_1", "currency": "USD", "subtotal": 500,
            "method": "card"}).json()
        admin.post(f"/v1/payments/{failed['id']}/fail", json={"reason": "declined"})
        run_once(storage, rules=RULES)
    page = admin.get("/v1/events", params={"limit": 2}).json()
    assert [e["type"] for e in page["data"]] == ["payment.failed", "payment.succeeded"]
    assert page["has_more"] and page["data"][1]["data"]["object"]["id"] == second["id"]
    rest = admin.get("/v1/events", params={"cursor": page["next_cursor"]}).json()
    assert [e["data"]["object"]["id"] for e in rest["data"]] == [first["id"]]
    only = admin.get("/v1/events", params={"type": "payment.failed"}).json()["data"]
    assert [e["object_id"] for e in only] == [failed["id"]]
    mine = admin.get("/v1/events", params={"object_id": first["id"]}).json()["data"]
    assert [e["type"] for e in mine] == ["payment.succeeded"]
    assert admin.get("/v1/events", params={"created_lt": "2000-01-01T00:00:00Z"}
                     ).json()["data"] == []

    event = admin.get(f"/v1/events/{mine[0]['id']}").json()
    (delivery,) = event["deliveries"]
    assert (delivery["endpoint_id"], delivery["status"], delivery["attempts"]) == (
        made["id"], "succeeded", 1)
    assert event["dispatched_at"] is not None
    delivered = {p["id"]: p for p in receiver.payloads()}[event["id"]]
    assert delivered == {k: event[k] for k in ("id", "type", "created_at", "data")}
    assert admin.get(f"/v1/events/{event['id']}/deliveries").json()["data"] == [delivery]
    assert admin.get("/v1/events/evt_0123").status_code == 404
    assert admin.get("/v1/events", params={"type": "payment.exploded"}).status_code == 422


def test_redeliver_sends_an_event_again(admin, captured, storage):
    with receiving() as receiver:
        made = admin.post("/v1/event-endpoints", json={"url": receiver.url}).json()
        receiver.secret = made["secret"]
        payment = captured()
        run_once(storage, rules=RULES)
        (event,) = admin.get("/v1/events", params={"object_id": payment["id"]}).json()["data"]
        again = admin.post(f"/v1/events/{event['id']}/redeliver")
        assert again.status_code == 200, again.text
        assert [(d["status"], d["attempts"]) for d in again.json()["data"]] == [("pending", 0)]
        run_once(storage, rules=RULES)
    assert receiver.ids == [event["id"], event["id"]]
    delete(admin, f"/v1/event-endpoints/{made['id']}")
    refused = admin.post(f"/v1/events/{event['id']}/redeliver",
                         json={"endpoint_id": made["id"]})
    assert refused.status_code == 409 and "inactive" in refused.json()["detail"]
    unknown = admin.post(f"/v1/events/{event['id']}/redeliver",
                         json={"endpoint_id": "we_0123"})
    assert unknown.status_code == 404
