"""Subscriptions through the HTTP API: the seed's application and confirmation shapes, each
role's view and reach, hostile input, and the subscription seed's scenario at the simulator
gateway (application -> payment_url -> webhook -> active; renewal; upgrade; refund)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from paytrack.adapters.gateways.registry import GatewayWiring
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.splits import Policy
from paytrack.domain.subscriptions import add_months
from paytrack.entrypoints.upkeep import run_once
from tests.clock import Clock

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
APPLICATION = {"customer_id": "cust_1", "seller_id": "seller_1", "item_id": "premium",
               "period_months": 6, "fee": 54999, "currency": "USD",
               "description": "Premium Membership - 6 months"}


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(), clock=clock)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _apply(admin, **changes) -> dict:
    created = admin.post("/v1/subscriptions", json={**APPLICATION, **changes})
    assert created.status_code == 201, created.text
    return created.json()


def test_an_application_answers_in_the_seeds_shape(admin):
    answer = _apply(admin)
    assert answer["status"] == "pending_payment"
    sub, payment = answer["subscription"], answer["payment"]
    assert (sub["active"], sub["subscription_duration"], sub["subscription_fee"]) == (
        False, 6, 54999)
    assert _when(sub["subscription_expires_at"]) == add_months(START, 6)
    assert (sub["status"], sub["item_type"], sub["open_payment_id"]) == (
        "pending_payment", "service", payment["payment_id"])
    assert set(payment) == {"payment_id", "status", "payment_url", "amount", "currency",
                            "expires_at"}
    assert (payment["amount"], payment["currency"], payment["status"]) == (54999, "USD",
                                                                           "pending")
    record = admin.get(f"/v1/payments/{payment['payment_id']}").json()
    assert (record["kind"], record["subscription_id"]) == ("subscription", sub["id"])


def test_a_confirmation_answers_in_the_seeds_shape(admin, clock):
    sub_id = _apply(admin)["subscription"]["id"]
    clock.now = START + timedelta(minutes=5)
    confirmed = admin.post(f"/v1/subscriptions/{sub_id}/confirm",
                           json={"gateway_payment_id": "pi_confirmed", "gateway_fee": 171})
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "activated" and body["subscription"]["active"] is True
    assert body["payment_record"]["id"] == body["payment_id"]
    assert {k: v for k, v in body["payment_record"].items() if k != "id"} == {
        "status": "succeeded", "paid_at": "2026-03-01T09:05:00Z", "amount": 54999,
        "payment_method": "card"}
    assert _when(body["subscription"]["current_period_end"]) == add_months(clock.now, 6)
    again = admin.post(f"/v1/subscriptions/{sub_id}/confirm")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_renew_upgrade_and_cancel_through_the_api(admin, as_key, clock):
    sub_id = _apply(admin, period_months=1, fee=3000)["subscription"]["id"]
    admin.post(f"/v1/subscriptions/{sub_id}/confirm")
    customer = as_key("customer", customer_id="cust_1")
    renewal = customer.post(f"/v1/subscriptions/{sub_id}/renew")
    assert renewal.status_code == 200, renewal.text
    assert renewal.json()["payment"]["amount"] == 3000
    twice = customer.post(f"/v1/subscriptions/{sub_id}/renew")
    assert twice.status_code == 409 and renewal.json()["payment"]["payment_id"] in \
        twice.json()["detail"]
    assert admin.post(f"/v1/subscriptions/{sub_id}/confirm").json()["status"] == "renewed"
    down = admin.post(f"/v1/subscriptions/{sub_id}/upgrade",
                      json={"item_id": "basic", "fee": 1000})
    assert down.status_code == 422 and "downgrades are not supported" in down.json()["detail"]
    up = admin.post(f"/v1/subscriptions/{sub_id}/upgrade",
                    json={"item_id": "premium_plus", "fee": 6000})
    assert up.status_code == 200, up.text
    assert up.json()["subscription"]["upgrade_item_id"] == "premium_plus"
    confirmed = admin.post(f"/v1/subscriptions/{sub_id}/confirm").json()
    assert confirmed["status"] == "upgraded"
    assert confirmed["subscription"]["item_id"] == "premium_plus"
    later = customer.post(f"/v1/subscriptions/{sub_id}/cancel",
                          json={"at_period_end": True, "reason": "moving"})
    assert later.status_code == 200 and later.json()["cancel_at_period_end"] is True
    now = customer.post(f"/v1/subscriptions/{sub_id}/cancel")
    assert now.status_code == 200 and now.json()["status"] == "canceled"
    history = admin.get(f"/v1/subscriptions/{sub_id}/payments").json()["data"]
    assert [p["kind"] for p in history] == ["upgrade", "renewal", "subscription"]


def test_each_role_sees_and_reaches_its_own(admin, as_key):
    mine = _apply(admin, metadata={"crm": "x1"})["subscription"]["id"]
    theirs = _apply(admin, customer_id="cust_2", seller_id="seller_2",
                    item_id="gold")["subscription"]["id"]
    customer = as_key("customer", customer_id="cust_1")
    seller = as_key("seller", seller_id="seller_1")
    seen = customer.get(f"/v1/subscriptions/{mine}").json()
    assert "metadata" not in seen and seen["id"] == mine
    assert seller.get(f"/v1/subscriptions/{mine}").json()["metadata"] == {"crm": "x1"}
    for api in (customer, seller):
        assert [s["id"] for s in api.get("/v1/subscriptions").json()["data"]] == [mine]
        for path in (f"/v1/subscriptions/{theirs}", f"/v1/subscriptions/{theirs}/payments"):
            assert api.get(path).status_code == 404
    assert customer.post(f"/v1/subscriptions/{theirs}/cancel").status_code == 404
    assert customer.get("/v1/customers/cust_2/payments").status_code == 404
    assert len(customer.get("/v1/customers/cust_1/payments").json()["data"]) == 1
    assert seller.get("/v1/customers/cust_2/payments").json()["data"] == []
    for path in (f"/v1/subscriptions/{mine}/renew", f"/v1/subscriptions/{mine}/cancel",
                 f"/v1/subscriptions/{mine}/confirm"):
        assert seller.post(path).status_code == 403
    assert customer.post("/v1/subscriptions", json=APPLICATION).status_code == 403
    assert customer.post(f"/v1/subscriptions/{mine}/upgrade",
                         json={"item_id": "x", "fee": 99999}).status_code == 403
    assert admin.get("/v1/subscriptions/sub_01JD8X5R2C4E6G8J0K2M4N6P8Q").status_code == 404
    assert admin.get("/v1/subscriptions", params={"status": "nope"}).status_code == 422
    assert admin.get("/v1/subscriptions", params={"customer_id": "a\x00b"}).status_code == 422


@pytest.mark.parametrize("changes", [
    {"period_months": 0}, {"period_months": 121}, {"period_months": 1.5},
    {"period_months": "6"}, {"fee": 0}, {"fee": -1}, {"fee": 10.5}, {"fee": "549.99"},
    {"fee": 10**15}, {"item_id": "a\x00b"}, {"description": "a\x00b"}, {"currency": "usd"},
    {"status": "active"}, {"item_type": "Service"},
])
def test_hostile_applications_are_422_and_write_nothing(admin, changes):
    response = admin.post("/v1/subscriptions", json={**APPLICATION, **changes})
    assert response.status_code == 422, response.text
    assert admin.get("/v1/subscriptions").json()["data"] == []


def test_hostile_upgrades_and_cancels_are_422(admin):
    sub_id = _apply(admin)["subscription"]["id"]
    for body in ({"item_id": "x", "fee": 1.5}, {"item_id": "x", "fee": "9"}, {"fee": 9},
                 {"item_id": "x\x00", "fee": 99999}):
        assert admin.post(f"/v1/subscriptions/{sub_id}/upgrade", json=body).status_code == 422
    for body in ({"at_period_end": "yes"}, {"reason": "a\x00"}, {"x": 1}):
        assert admin.post(f"/v1/subscriptions/{sub_id}/cancel", json=body).status_code == 422


# -- the subscription seed's scenario, at the simulator -----------------------------------

def _pay_on_the_page(client, payment_url: str) -> None:
    page_path = re.sub(r"^https?://[^/]+", "", payment_url)
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    paid = client.post(page_path, data={"card": "4242 4242 4242 4242", "duplicates": "1",
                                        "delay_s": "0", "order": "in_order"},
                       follow_redirects=False)
    assert paid.status_code == 303 and "status=succeeded" in paid.headers["location"]


def _balances(admin) -> dict[str, int]:
    """The USD balances, a seller's as what the platform owes it (pending + available -
    debt: the hold period may have released its earnings meanwhile)."""
    accounts = admin.get("/v1/ledger/accounts", params={"currency": "USD",
                                                        "limit": 100}).json()["data"]
    found = {a["code"]: a["balance"] for a in accounts}
    owed = sum(found.get(f"seller:seller_1:{part}", 0) for part in ("pending", "available"))
    return {"seller_1": owed - found.get("seller:seller_1:debt", 0),
            "revenue": found.get("platform:revenue", 0),
            "clearing": found.get("gateway:simulator:clearing", 0)}


def test_the_subscription_seeds_scenario_at_the_simulator(storage, client, admin, clock):
    storage.gateways = GatewayWiring("http://testserver", http=client)
    applied = _apply(admin, period_months=1, fee=3000, gateway="simulator",
                     return_url="https://club.example/welcome")
    sub_id, payment = applied["subscription"]["id"], applied["payment"]
    assert payment["payment_url"] and _when(payment["expires_at"]) > START

    # The customer pays on the checkout page; the simulator's webhook activates it.
    _pay_on_the_page(client, payment["payment_url"])
    assert admin.get(f"/v1/subscriptions/{sub_id}").json()["status"] == "pending_payment"
    assert run_once(storage).simulated == 1
    active = admin.get(f"/v1/subscriptions/{sub_id}").json()
    assert (active["status"], active["active"]) == ("active", True)
    start, end = _when(active["current_period_start"]), _when(active["current_period_end"])
    assert (start, end) == (START, add_months(START, 1))
    assert _event_types(admin, sub_id) == ["subscription.activated"]

    # Renewal: its own checkout, paid the same way; the period goes on from its end.
    clock.now = START + timedelta(days=20)
    before_renewal = _balances(admin)
    renewal = admin.post(f"/v1/subscriptions/{sub_id}/renew").json()["payment"]
    _pay_on_the_page(client, renewal["payment_url"])
    run_once(storage)
    renewed = admin.get(f"/v1/subscriptions/{sub_id}").json()
    assert (_when(renewed["current_period_start"]), _when(renewed["current_period_end"]),
            renewed["renewals"]) == (end, add_months(end, 1), 1)

    # Upgrade in the middle of the renewed period: the prorated difference.
    period_s = (add_months(end, 1) - end).total_seconds()
    clock.now = end + timedelta(seconds=period_s / 4)  # three quarters of it left
    up = admin.post(f"/v1/subscriptions/{sub_id}/upgrade",
                    json={"item_id": "premium_plus", "fee": 5000}).json()
    assert up["payment"]["amount"] == 1500  # (5000 - 3000) × 3/4
    _pay_on_the_page(client, up["payment"]["payment_url"])
    run_once(storage)
    upgraded = admin.get(f"/v1/subscriptions/{sub_id}").json()
    assert (upgraded["item_id"], upgraded["fee"]) == ("premium_plus", 5000)
    assert upgraded["current_period_end"] == renewed["current_period_end"]

    # A refund of the renewal moves money back exactly and leaves the subscription be.
    paid = admin.get(f"/v1/payments/{renewal['payment_id']}").json()
    after_renewal = _balances(admin)
    refund = admin.post("/v1/refunds", json={"payment_id": renewal["payment_id"],
                                             "reason": "changed their mind",
                                             "approve": True})
    assert refund.status_code == 201, refund.text
    run_once(storage)  # the simulator's refund.succeeded comes back
    assert admin.get(f"/v1/refunds/{refund.json()['id']}").json()["status"] == "succeeded"
    after_refund = _balances(admin)
    assert {k: after_refund[k] - after_renewal[k] for k in after_refund} == {
        "seller_1": -paid["seller_amount"], "revenue": -paid["platform_fee"],
        "clearing": -paid["total"]}
    assert paid["seller_amount"] + paid["platform_fee"] == paid["total"] == 3000
    # What is left of the renewal and the upgrade is the upgrade alone.
    upgrade = admin.get(f"/v1/payments/{up['payment']['payment_id']}").json()
    assert after_refund["seller_1"] - before_renewal["seller_1"] == upgrade["seller_amount"]
    assert after_refund["revenue"] - before_renewal["revenue"] == upgrade["platform_fee"]
    assert admin.get(f"/v1/subscriptions/{sub_id}").json() == upgraded
    assert admin.get("/v1/ledger/verify").json()["ok"]
    # (events older than PAYTRACK_EVENT_RETENTION_DAYS were purged by then)
    assert _event_types(admin, sub_id) == ["subscription.renewed", "subscription.upgraded"]


def _event_types(admin, sub_id: str) -> list[str]:
    events = admin.get("/v1/events", params={"object_id": sub_id}).json()["data"]
    return sorted(e["type"] for e in events)

