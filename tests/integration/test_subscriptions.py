"""Subscriptions follow their payments: activation on the first payment, renewal, upgrade,
cancel now or at period end, and the background job (past_due, expired). Each event is
emitted once per real change. Races on PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from paytrack.adapters.storage.subscriptions import SubscriptionRepository
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    Conflict,
    Forbidden,
    InvalidAmount,
    InvalidTransition,
    ItemSellerMismatch,
    NotFound,
    ValidationFailed,
)
from paytrack.domain.splits import Policy
from paytrack.domain.subscriptions import add_months
from paytrack.services import gateway_jobs, ledger
from paytrack.services.events import list_events
from paytrack.services.payments import (
    cancel_payment,
    capture_payment,
    fail_payment,
    get_payment,
    payment_history,
)
from paytrack.services.refunds import refund_payment
from paytrack.services.subscriptions import (
    CreateSubscription,
    advance_subscriptions,
    cancel_subscription,
    confirm_subscription,
    create_subscription,
    customer_payments,
    get_subscription,
    list_subscriptions,
    renew_subscription,
    subscription_payments,
    upgrade_subscription,
)
from tests.clock import Clock
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, race

START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
CUSTOMER = Actor(Role.CUSTOMER, "cust_1")
OTHER_CUSTOMER = Actor(Role.CUSTOMER, "cust_2")
SELLER = Actor(Role.SELLER, "seller_1")
OTHER_SELLER = Actor(Role.SELLER, "seller_2")
WEBHOOK = Actor(Role.SYSTEM, "simulator_webhook")
DAY = timedelta(days=1)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(subscription_grace_days=7), clock=clock)


def _create(storage: Storage, **changes) -> tuple[dict, dict]:
    cmd = CreateSubscription(**{
        "customer_id": "cust_1", "seller_id": "seller_1", "item_id": "premium",
        "period_months": 1, "fee": 3000, "currency": "USD", **changes})
    return committed(storage, create_subscription, cmd, ADMIN)


def _sub(storage: Storage, sub_id: str) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return get_subscription(uow, sub_id, ADMIN)


def _active(storage: Storage, **changes) -> dict:
    sub, payment = _create(storage, **changes)
    committed(storage, capture_payment, payment["id"], ADMIN)
    return _sub(storage, sub["id"])


def _events(storage: Storage, sub_id: str) -> list[str]:
    with storage.unit_of_work(readonly=True) as uow:
        return sorted(e["type"] for e in list_events(uow, ADMIN, object_id=sub_id, limit=100))


def _history(storage: Storage, sub_id: str) -> list[tuple]:
    with storage.unit_of_work(readonly=True) as uow:
        return [(e["from_status"], e["to_status"], e["reason"])
                for e in uow.records.status_history("subscription", sub_id)]


def _ledger_ok(storage: Storage) -> None:
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert report["ok"], report


# -- creation and activation ----------------------------------------------------------------

def test_a_new_subscription_waits_for_its_first_payment(storage):
    sub, payment = _create(storage, description="Premium, monthly")
    assert (sub["status"], sub["open_payment_id"]) == ("pending_payment", payment["id"])
    assert (payment["kind"], payment["subscription_id"], payment["total"]) == (
        "subscription", sub["id"], 3000)
    assert payment["status"] == "pending" and payment["item_id"] == "premium"
    assert _history(storage, sub["id"]) == [(None, "pending_payment", None)]
    assert _events(storage, sub["id"]) == []


def test_its_first_payment_activates_it_once_for_the_period(storage, clock):
    sub, payment = _create(storage, period_months=1)
    clock.now = START + timedelta(hours=2)
    committed(storage, capture_payment, payment["id"], ADMIN)
    active = _sub(storage, sub["id"])
    assert active["status"] == "active" and active["open_payment_id"] is None
    assert active["current_period_start"] == clock.now == active["activated_at"]
    # 31 January + 1 month: the last day of February.
    assert active["current_period_end"] == datetime(2026, 2, 28, 14, 0, tzinfo=UTC)
    with pytest.raises(InvalidTransition):
        committed(storage, capture_payment, payment["id"], ADMIN)
    assert _events(storage, sub["id"]) == ["subscription.activated"]


@pytest.mark.parametrize("lose", [fail_payment, cancel_payment])
def test_a_lost_first_payment_leaves_it_incomplete_expired(storage, lose):
    sub, payment = _create(storage)
    committed(storage, lose, payment["id"], ADMIN, reason="card declined")
    ended = _sub(storage, sub["id"])
    assert (ended["status"], ended["open_payment_id"]) == ("incomplete_expired", None)
    assert ended["ended_at"] == START and ended["current_period_end"] is None
    assert _events(storage, sub["id"]) == ["subscription.expired"]


def test_an_expired_checkout_leaves_it_incomplete_expired(storage, clock):
    sub, payment = _create(storage, gateway="simulator")
    assert payment["payment_url"] and payment["payment_url_expires_at"] > START
    clock.now = START + timedelta(days=2)  # past the expiry and its grace
    assert gateway_jobs.expire_checkouts(storage) == 1
    assert _sub(storage, sub["id"])["status"] == "incomplete_expired"
    with storage.unit_of_work(readonly=True) as uow:
        assert get_payment(uow, payment["id"], ADMIN)["status"] == "canceled"
    assert _events(storage, sub["id"]) == ["subscription.expired"]


def test_a_late_confirmation_after_it_ended_changes_nothing_and_is_noted(storage):
    sub, payment = _create(storage)
    committed(storage, cancel_payment, payment["id"], ADMIN)
    committed(storage, capture_payment, payment["id"], ADMIN)  # the money is recorded
    assert _sub(storage, sub["id"])["status"] == "incomplete_expired"
    with storage.unit_of_work(readonly=True) as uow:
        assert payment_history(uow, payment["id"], ADMIN)[-1]["needs_review"]
    assert "no longer waited" in _history(storage, sub["id"])[-1][2]
    assert _events(storage, sub["id"]) == ["subscription.expired"]
    _ledger_ok(storage)


def test_a_confirmation_read_before_a_cancel_does_not_capture_the_canceled_payment(
        storage, monkeypatch):
    # The confirmation read the subscription while it still waited for its payment; a
    # cancel then ended both before the capture: the admin's confirmation is refused, it
    # does not record money the gateway never took as a late payment.
    sub, payment = _create(storage)
    renewing = _active(storage)
    _, renewal = committed(storage, renew_subscription, renewing["id"], ADMIN)
    for sub_id, pay_id in ((sub["id"], payment["id"]), (renewing["id"], renewal["id"])):
        stale = _sub(storage, sub_id)
        committed(storage, cancel_subscription, sub_id, ADMIN)
        with monkeypatch.context() as patch:
            patch.setattr(SubscriptionRepository, "get",
                          lambda self, _id, stale=stale: stale)
            with pytest.raises(InvalidTransition, match="no longer waits"):
                committed(storage, confirm_subscription, sub_id, ADMIN)
        with storage.unit_of_work(readonly=True) as uow:
            assert get_payment(uow, pay_id, ADMIN)["status"] == "canceled"
        assert _sub(storage, sub_id)["status"] == "canceled"
    _ledger_ok(storage)


@pytest.mark.parametrize(("changes", "error"), [
    ({"period_months": 0}, ValidationFailed), ({"period_months": 121}, ValidationFailed),
    ({"period_months": True}, ValidationFailed), ({"fee": 0}, InvalidAmount),
    ({"fee": 10.5}, InvalidAmount), ({"fee": "3000"}, InvalidAmount),
    ({"currency": "XXQ"}, ValidationFailed), ({"gateway": "nope"}, ValidationFailed),
])
def test_bad_terms_are_refused_and_nothing_is_written(storage, changes, error):
    with pytest.raises(error):
        _create(storage, **changes)
    with storage.unit_of_work(readonly=True) as uow:
        assert list_subscriptions(uow, ADMIN) == []


def test_only_an_admin_creates_one(storage):
    cmd = CreateSubscription(customer_id="cust_1", seller_id="seller_1", item_id="premium",
                             period_months=1, fee=3000, currency="USD")
    for actor in (CUSTOMER, SELLER):
        with storage.unit_of_work() as uow, pytest.raises(Forbidden):
            create_subscription(uow, cmd, actor)


# -- renewal --------------------------------------------------------------------------------

def test_a_paid_renewal_extends_the_period_from_its_end(storage, clock):
    sub = _active(storage)
    end = sub["current_period_end"]
    clock.now = START + 20 * DAY
    renewing, payment = committed(storage, renew_subscription, sub["id"], CUSTOMER)
    assert (payment["kind"], payment["total"], renewing["open_payment_id"]) == (
        "renewal", 3000, payment["id"])
    with pytest.raises(Conflict, match=payment["id"]):
        committed(storage, renew_subscription, sub["id"], ADMIN)
    committed(storage, capture_payment, payment["id"], ADMIN)
    renewed = _sub(storage, sub["id"])
    # counted from the activation: 31 January -> 28 February -> 31 March (no drift to 28th)
    assert (renewed["current_period_start"], renewed["current_period_end"]) == (
        end, add_months(sub["activated_at"], 2))
    assert (renewed["status"], renewed["renewals"], renewed["open_payment_id"]) == (
        "active", 1, None)
    assert _events(storage, sub["id"]) == ["subscription.activated", "subscription.renewed"]


def test_a_lost_renewal_only_frees_the_subscription(storage):
    sub = _active(storage)
    _, payment = committed(storage, renew_subscription, sub["id"], ADMIN)
    committed(storage, fail_payment, payment["id"], ADMIN, reason="card declined")
    after = _sub(storage, sub["id"])
    assert (after["status"], after["open_payment_id"], after["current_period_end"]) == (
        "active", None, sub["current_period_end"])
    committed(storage, renew_subscription, sub["id"], ADMIN)  # may try again
    assert _events(storage, sub["id"]) == ["subscription.activated"]


def test_a_refunded_renewal_moves_money_only(storage):
    sub = _active(storage)
    _, payment = committed(storage, renew_subscription, sub["id"], ADMIN)
    committed(storage, capture_payment, payment["id"], ADMIN)
    before = _sub(storage, sub["id"])
    refund = committed(storage, refund_payment, payment["id"], ADMIN, reason="goodwill")
    assert refund["status"] == "succeeded"
    assert _sub(storage, sub["id"]) == before
    _ledger_ok(storage)


def test_nobody_renews_what_is_not_running_or_not_theirs(storage):
    pending, _ = _create(storage)
    with pytest.raises(InvalidTransition):
        committed(storage, renew_subscription, pending["id"], ADMIN)
    sub = _active(storage)
    with pytest.raises(NotFound):
        committed(storage, renew_subscription, sub["id"], OTHER_CUSTOMER)
    with pytest.raises(Forbidden):
        committed(storage, renew_subscription, sub["id"], SELLER)


# -- upgrade --------------------------------------------------------------------------------

def test_an_upgrade_costs_the_prorated_difference_and_switches_when_paid(storage, clock):
    sub = _active(storage, period_months=1, fee=3000)  # 31 Jan 12:00 to 28 Feb 12:00
    clock.now = START + 7 * DAY  # 21 of 28 days left
    pending, payment = committed(storage, upgrade_subscription, sub["id"], ADMIN,
                                 item_id="premium_plus", fee=5001)
    assert payment["total"] == 1501  # round_half_up(2001 × 21 / 28) = 1500.75 -> 1501
    assert (payment["kind"], payment["item_id"]) == ("upgrade", "premium_plus")
    assert (pending["item_id"], pending["upgrade_item_id"], pending["upgrade_fee"]) == (
        "premium", "premium_plus", 5001)
    committed(storage, capture_payment, payment["id"], ADMIN)
    upgraded = _sub(storage, sub["id"])
    assert (upgraded["item_id"], upgraded["fee"], upgraded["upgrade_item_id"],
            upgraded["upgrade_fee"]) == ("premium_plus", 5001, None, None)
    assert upgraded["current_period_end"] == sub["current_period_end"]
    assert _events(storage, sub["id"]) == ["subscription.activated",
                                           "subscription.upgraded"]


def test_an_upgrade_after_renewals_paid_ahead_costs_every_period_it_upgrades(storage, clock):
    # Monthly from 31 Jan 12:00; two renewals paid ahead: now to 31 Mar is 28 + 31 days paid
    # at the old fee, and the upgrade switches at once: the difference of the rest of this
    # period and of both periods paid ahead.
    sub = _active(storage, period_months=1, fee=3000)
    for _ in range(2):
        _, renewal = committed(storage, renew_subscription, sub["id"], ADMIN)
        committed(storage, capture_payment, renewal["id"], ADMIN)
    ahead = _sub(storage, sub["id"])
    assert (ahead["current_period_start"], ahead["current_period_end"]) == (
        datetime(2026, 3, 31, 12, tzinfo=UTC), datetime(2026, 4, 30, 12, tzinfo=UTC))
    clock.now = START + 7 * DAY  # 21 of this period's 28 days left
    _, payment = committed(storage, upgrade_subscription, sub["id"], ADMIN,
                           item_id="premium_plus", fee=5001)
    assert payment["total"] == 1501 + 2001 + 2001  # round_half_up(2001 × 21 / 28) = 1501


def test_an_upgrade_unpaid_when_its_period_ends_is_dropped_with_the_period(storage, clock):
    sub = _active(storage, period_months=1, fee=3000)
    clock.now = START + 7 * DAY
    _, payment = committed(storage, upgrade_subscription, sub["id"], ADMIN,
                           item_id="premium_plus", fee=5001)
    clock.now = sub["current_period_end"]
    assert advance_subscriptions(storage) == 1
    after = _sub(storage, sub["id"])
    assert (after["status"], after["item_id"], after["upgrade_item_id"],
            after["open_payment_id"]) == ("past_due", "premium", None, None)
    with storage.unit_of_work(readonly=True) as uow:
        canceled = uow.payments.get(payment["id"])
    assert canceled is not None and canceled["status"] == "canceled"
    _, renewal = committed(storage, renew_subscription, sub["id"], CUSTOMER)  # may renew
    assert renewal["total"] == 3000


def test_a_lost_upgrade_keeps_the_old_service(storage):
    sub = _active(storage)
    _, payment = committed(storage, upgrade_subscription, sub["id"], ADMIN,
                           item_id="premium_plus", fee=5000)
    committed(storage, cancel_payment, payment["id"], ADMIN)
    after = _sub(storage, sub["id"])
    assert (after["item_id"], after["fee"], after["upgrade_item_id"],
            after["open_payment_id"]) == ("premium", 3000, None, None)
    assert _events(storage, sub["id"]) == ["subscription.activated"]


def test_an_upgrade_with_nothing_of_the_period_left_switches_at_once(storage, clock):
    sub = _active(storage)
    clock.now = sub["current_period_end"]  # the job has not made it past_due yet
    upgraded, payment = committed(storage, upgrade_subscription, sub["id"], ADMIN,
                                  item_id="premium_plus", fee=5000)
    assert payment is None and (upgraded["item_id"], upgraded["fee"]) == ("premium_plus", 5000)
    assert _events(storage, sub["id"]) == ["subscription.activated",
                                           "subscription.upgraded"]


def test_upgrades_that_are_not_are_refused(storage):
    sub = _active(storage)
    committed(storage, _other_seller_item)
    for item_id, fee, error in [("premium_plus", 3000, InvalidAmount),  # not dearer
                                ("premium_plus", 2000, InvalidAmount),  # a downgrade
                                ("premium", 5000, ValidationFailed),  # the same service
                                ("theirs", 5000, ItemSellerMismatch)]:
        with pytest.raises(error):
            committed(storage, upgrade_subscription, sub["id"], ADMIN, item_id=item_id,
                      fee=fee)
    with pytest.raises(Forbidden):
        committed(storage, upgrade_subscription, sub["id"], CUSTOMER, item_id="x", fee=9000)
    assert _sub(storage, sub["id"])["open_payment_id"] is None


def _other_seller_item(uow) -> None:
    uow.parties.ensure("seller", "seller_2", uow.now())
    uow.parties.ensure_item("service", "theirs", "seller_2", uow.now())


# -- cancel ---------------------------------------------------------------------------------

def test_cancel_now_cancels_its_open_payment_first(storage):
    sub = _active(storage)
    _, renewal = committed(storage, renew_subscription, sub["id"], ADMIN)
    canceled = committed(storage, cancel_subscription, sub["id"], CUSTOMER, reason="moving")
    assert (canceled["status"], canceled["cancel_reason"], canceled["open_payment_id"]) == (
        "canceled", "moving", None)
    with storage.unit_of_work(readonly=True) as uow:
        assert get_payment(uow, renewal["id"], ADMIN)["status"] == "canceled"
    assert _events(storage, sub["id"]) == ["subscription.activated",
                                           "subscription.canceled"]
    with pytest.raises(InvalidTransition):
        committed(storage, cancel_subscription, sub["id"], ADMIN)


def test_a_pending_subscription_is_canceled_with_its_payment(storage):
    sub, payment = _create(storage)
    canceled = committed(storage, cancel_subscription, sub["id"], ADMIN, reason="mistake")
    assert canceled["status"] == "canceled"
    with storage.unit_of_work(readonly=True) as uow:
        assert get_payment(uow, payment["id"], ADMIN)["status"] == "canceled"
    assert _events(storage, sub["id"]) == ["subscription.canceled"]


def test_only_its_customer_or_an_admin_cancels(storage):
    sub = _active(storage)
    with pytest.raises(NotFound):
        committed(storage, cancel_subscription, sub["id"], OTHER_CUSTOMER)
    with pytest.raises(Forbidden):
        committed(storage, cancel_subscription, sub["id"], SELLER)


def test_cancel_at_period_end_waits_for_the_job(storage, clock):
    sub = _active(storage)
    flagged = committed(storage, cancel_subscription, sub["id"], CUSTOMER, at_period_end=True)
    assert (flagged["status"], flagged["cancel_at_period_end"]) == ("active", True)
    with pytest.raises(InvalidTransition):  # no renewal of what is to end
        committed(storage, renew_subscription, sub["id"], CUSTOMER)
    clock.now = sub["current_period_end"] - timedelta(seconds=1)
    assert advance_subscriptions(storage) == 0
    clock.now = sub["current_period_end"]
    assert advance_subscriptions(storage) == 1
    assert _sub(storage, sub["id"])["status"] == "canceled"
    assert advance_subscriptions(storage) == 0
    assert _events(storage, sub["id"]) == ["subscription.activated",
                                           "subscription.canceled"]


# -- the background job ---------------------------------------------------------------------

def test_an_unpaid_period_goes_past_due_then_expires_after_the_grace(storage, clock):
    sub = _active(storage)
    end = sub["current_period_end"]
    clock.now = end
    assert advance_subscriptions(storage) == 1
    assert _sub(storage, sub["id"])["status"] == "past_due"
    assert advance_subscriptions(storage) == 0  # nothing more until the grace is over
    _, renewal = committed(storage, renew_subscription, sub["id"], CUSTOMER)
    clock.now = end + 7 * DAY
    assert advance_subscriptions(storage) == 1
    expired = _sub(storage, sub["id"])
    assert (expired["status"], expired["ended_at"], expired["open_payment_id"]) == (
        "expired", clock.now, None)
    with storage.unit_of_work(readonly=True) as uow:
        assert get_payment(uow, renewal["id"], ADMIN)["status"] == "canceled"
    assert advance_subscriptions(storage) == 0
    assert _events(storage, sub["id"]) == ["subscription.activated",
                                           "subscription.expired"]


def test_a_renewal_paid_while_past_due_continues_the_period(storage, clock):
    sub = _active(storage)
    end = sub["current_period_end"]
    clock.now = end + DAY
    advance_subscriptions(storage)
    committed(storage, _renew_and_confirm, sub["id"])
    after = _sub(storage, sub["id"])
    assert (after["status"], after["current_period_start"], after["current_period_end"]) == (
        "active", end, add_months(sub["activated_at"], 2))
    assert _events(storage, sub["id"]) == ["subscription.activated", "subscription.renewed"]


def _renew_and_confirm(uow, sub_id: str) -> None:
    renew_subscription(uow, sub_id, ADMIN)
    confirm_subscription(uow, sub_id, ADMIN)


# -- reading --------------------------------------------------------------------------------

def test_each_role_reads_its_own(storage):
    mine = _active(storage)
    theirs, _ = _create(storage, customer_id="cust_2", seller_id="seller_2", item_id="gold")
    with storage.unit_of_work(readonly=True) as uow:
        assert [s["id"] for s in list_subscriptions(uow, CUSTOMER)] == [mine["id"]]
        assert [s["id"] for s in list_subscriptions(uow, SELLER)] == [mine["id"]]
        assert list_subscriptions(uow, SELLER, seller_id="seller_2") == []
        assert len(list_subscriptions(uow, ADMIN)) == 2
        assert [s["id"] for s in list_subscriptions(uow, ADMIN, status="pending_payment")] \
            == [theirs["id"]]
        for actor in (CUSTOMER, SELLER):
            with pytest.raises(NotFound):
                get_subscription(uow, theirs["id"], actor)
            with pytest.raises(NotFound):
                subscription_payments(uow, theirs["id"], actor)
        assert len(subscription_payments(uow, mine["id"], CUSTOMER)) == 1
        with pytest.raises(NotFound):
            customer_payments(uow, "cust_2", CUSTOMER)
        assert customer_payments(uow, "cust_2", SELLER) == []
        assert len(customer_payments(uow, "cust_2", OTHER_SELLER)) == 1


def test_a_subscriptions_payments_are_its_history_newest_first(storage):
    sub = _active(storage)
    _, renewal = committed(storage, renew_subscription, sub["id"], ADMIN)
    with storage.unit_of_work(readonly=True) as uow:
        kinds = [(p["kind"], p["id"]) for p in subscription_payments(uow, sub["id"], ADMIN)]
        assert kinds[0] == ("renewal", renewal["id"]) and kinds[1][0] == "subscription"
        assert [p["id"] for p in customer_payments(uow, "cust_1", CUSTOMER)] == [
            i for _, i in kinds]


# -- races (PostgreSQL) ---------------------------------------------------------------------

@postgres_only
def test_two_confirmations_activate_once(storage):
    for _ in range(5):
        sub, payment = _create(storage)
        outcome = race(storage, 2, lambda uow, i, pay_id=payment["id"]: capture_payment(
            uow, pay_id, ADMIN if i else WEBHOOK))
        assert outcome == Counter({"ok": 1, "invalid_transition": 1})
        assert _sub(storage, sub["id"])["status"] == "active"
        assert _events(storage, sub["id"]) == ["subscription.activated"]
    _ledger_ok(storage)


@postgres_only
def test_a_cancel_racing_a_success_ends_consistent(storage):
    def capture_later(uow, payment_id: str, delay_s: float) -> None:
        time.sleep(delay_s)  # vary which one reaches the payment row first
        capture_payment(uow, payment_id, WEBHOOK)

    for n in range(8):
        sub, payment = _create(storage)
        outcome = race(storage, 2, lambda uow, i, sub_id=sub["id"], pay_id=payment["id"],
                       delay_s=0.005 * (n % 4): (
            capture_later(uow, pay_id, delay_s) if i == 0
            else cancel_subscription(uow, sub_id, ADMIN)))
        assert outcome == Counter({"ok": 2}), outcome
        ended = _sub(storage, sub["id"])
        assert (ended["status"], ended["open_payment_id"]) == ("canceled", None)
        with storage.unit_of_work(readonly=True) as uow:
            paid = get_payment(uow, payment["id"], ADMIN)
            late = payment_history(uow, payment["id"], ADMIN)[-1]["needs_review"]
        events = _events(storage, sub["id"])
        assert events.count("subscription.canceled") == 1
        if paid["status"] == "succeeded" and not late:  # activated, then canceled
            assert events == ["subscription.activated", "subscription.canceled"]
        else:  # canceled with its payment; a capture after it is flagged for review
            assert events == ["subscription.canceled"]
    _ledger_ok(storage)


@postgres_only
def test_two_renewals_make_one_payment(storage):
    sub = _active(storage)
    outcome = race(storage, 4, lambda uow, i: renew_subscription(uow, sub["id"], ADMIN))
    assert outcome == Counter({"ok": 1, "conflict": 3})
    with storage.unit_of_work(readonly=True) as uow:
        renewals = [p for p in subscription_payments(uow, sub["id"], ADMIN)
                    if p["kind"] == "renewal"]
    assert [p["id"] for p in renewals] == [_sub(storage, sub["id"])["open_payment_id"]]


@postgres_only
def test_two_workers_expire_each_subscription_once(storage, clock):
    subs = [_active(storage) for _ in range(4)]
    for sub in subs[:2]:
        committed(storage, renew_subscription, sub["id"], ADMIN)
    clock.now = subs[-1]["current_period_end"]
    advance_subscriptions(storage)
    clock.now += 8 * DAY
    outcome = race(storage, 2, lambda uow, i: advance_subscriptions(storage))
    assert outcome == Counter({"ok": 2})
    for sub in subs:
        assert _sub(storage, sub["id"])["status"] == "expired"
        assert _events(storage, sub["id"]) == ["subscription.activated",
                                               "subscription.expired"]
