"""The outbox: every state change the platform hears about writes exactly one event, in the
change's own transaction (rolled back with it), with a JSON snapshot of the object as an
admin sees it. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.errors import InvalidTransition
from paytrack.services import disputes, payments, payouts, refunds, seller_funds
from paytrack.services.events import emit_refund_failed
from paytrack.services.payments import CreatePayment
from tests.integration.conftest import ADMIN, committed, new_payment
from tests.integration.event_fixtures import Clock, clocked_storage, stored_events


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return clocked_storage(engine, clock)


def _approved_payout(storage) -> str:
    new_payment(storage, subtotal=10000)
    committed(storage, seller_funds.release_due)
    committed(storage, payouts.set_payout_account, "seller_1", ADMIN, method="paypal",
              details={"email": "ada@example.com"})
    payout = committed(storage, payouts.request_payout, ADMIN, seller_id="seller_1",
                       amount=2500, currency="USD", method="paypal")
    return committed(storage, payouts.approve_payout, payout["id"], ADMIN)["id"]


def _open_dispute(storage) -> str:
    paid = new_payment(storage)
    return committed(storage, disputes.open_dispute, paid["id"], ADMIN, amount=1000,
                     reason="not received")["id"]


def _record(storage):
    cmd = CreatePayment(customer_id="c1", seller_id="s1", item_type="course", item_id="c1",
                        currency="USD", subtotal=5000, captured=True)
    return lambda uow: payments.create_payment(uow, cmd, ADMIN)


def _capture(storage):
    pending = new_payment(storage, capture=False)["id"]
    return lambda uow: payments.capture_payment(uow, pending, ADMIN)


def _fail(storage):
    pending = new_payment(storage, capture=False)["id"]
    return lambda uow: payments.fail_payment(uow, pending, ADMIN, reason="declined")


def _cancel(storage):
    pending = new_payment(storage, capture=False)["id"]
    return lambda uow: payments.cancel_payment(uow, pending, ADMIN)


def _refund(storage):
    paid = new_payment(storage)["id"]
    return lambda uow: refunds.refund_payment(uow, paid, ADMIN, reason="r", amount=1000)


def _pay_payout(storage):
    payout = _approved_payout(storage)
    return lambda uow: payouts.pay_payout(uow, payout, ADMIN, reference="tr_1")


def _fail_payout(storage):
    payout = _approved_payout(storage)
    return lambda uow: payouts.fail_payout(uow, payout, ADMIN, reason="account closed")


def _dispute(storage):
    paid = new_payment(storage)["id"]
    return lambda uow: disputes.open_dispute(uow, paid, ADMIN, amount=1000, reason="fraud")


def _win(storage):
    dispute = _open_dispute(storage)
    return lambda uow: disputes.win_dispute(uow, dispute, ADMIN)


def _lose(storage):
    dispute = _open_dispute(storage)
    return lambda uow: disputes.lose_dispute(uow, dispute, ADMIN)


# Each sets up what its change needs and returns the change, to run in a unit of work.
CHANGES = {"payment.succeeded (recorded)": _record, "payment.succeeded": _capture,
           "payment.failed": _fail, "payment.canceled": _cancel, "refund.succeeded": _refund,
           "payout.paid": _pay_payout, "payout.failed": _fail_payout,
           "dispute.opened": _dispute, "dispute.closed (won)": _win,
           "dispute.closed (lost)": _lose}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_state_change_writes_exactly_one_event_and_only_if_it_commits(storage, change):
    action = CHANGES[change](storage)
    before = {e["id"] for e in stored_events(storage)}
    with storage.unit_of_work() as uow:
        action(uow)  # rolled back: not committed
    assert {e["id"] for e in stored_events(storage)} == before

    with storage.unit_of_work() as uow:
        changed = action(uow)
        uow.commit()
    new = [e for e in stored_events(storage) if e["id"] not in before]
    assert [(e["type"], e["object_id"]) for e in new] == [(change.split(" ")[0],
                                                           changed["id"])]
    event = new[0]
    assert event["object_type"] == change.split(".")[0]
    assert event["dispatched_at"] is None
    assert event["data"]["id"] == changed["id"]
    assert event["data"]["status"] == changed["status"]
    if change.startswith("dispute.closed"):
        assert event["data"]["status"] == change.split("(")[1].rstrip(")")  # won or lost


def test_the_snapshot_is_json_with_utc_times_and_only_what_an_admin_sees(storage):
    paid = new_payment(storage, billing_details={"name": "Ada"}, metadata={"cohort": "a"})
    (event,) = stored_events(storage, paid["id"])
    data = event["data"]
    json.dumps(data)  # plain JSON
    assert data["succeeded_at"].endswith("Z") and data["created_at"].endswith("Z")
    assert (data["total"], data["platform_fee"], data["billing_details"],
            data["metadata"]) == (paid["total"], paid["platform_fee"], {"name": "Ada"},
                                  {"cohort": "a"})
    assert "previous_status" not in data and "provider_response" not in data


def test_a_refused_move_writes_no_event(storage):
    pending = new_payment(storage, capture=False)
    committed(storage, payments.fail_payment, pending["id"], ADMIN)
    before = stored_events(storage)
    with pytest.raises(InvalidTransition):
        committed(storage, payments.cancel_payment, pending["id"], ADMIN)
    assert stored_events(storage) == before


def test_a_refund_that_failed_is_one_refund_failed_event(storage):
    paid = new_payment(storage)
    refund = committed(storage, refunds.refund_payment, paid["id"], ADMIN, reason="r",
                       amount=100)
    committed(storage, lambda uow: emit_refund_failed(uow, {**refund, "status": "failed"}))
    (failed,) = [e for e in stored_events(storage) if e["type"] == "refund.failed"]
    assert (failed["object_id"], failed["data"]["status"]) == (refund["id"], "failed")


def test_a_refund_the_gateway_refuses_is_one_refund_failed_event(storage):
    paid = new_payment(storage)
    requested = committed(storage, refunds.request_refund, paid["id"], ADMIN, reason="r",
                          amount=100)
    committed(storage, lambda uow: uow.refunds.transition(  # sent, waiting for its answer
        requested["id"], {"requested"}, "approved", {"updated_at": uow.now()}))
    committed(storage, refunds.settle_refund, requested["id"], ADMIN, succeeded=False,
              reason="insufficient balance at the gateway")
    (failed,) = [e for e in stored_events(storage) if e["type"] == "refund.failed"]
    assert (failed["object_id"], failed["data"]["status"], failed["data"]["failure_reason"]
            ) == (requested["id"], "failed", "insufficient balance at the gateway")


def test_an_approved_refund_a_dispute_stops_is_one_refund_failed_event(storage):
    """A refund approved but not yet carried out (waiting on its gateway) that a dispute
    cancels has failed: the platform hears ``refund.failed``."""
    paid = new_payment(storage)
    requested = committed(storage, refunds.request_refund, paid["id"], ADMIN, reason="r",
                          amount=100)
    committed(storage, lambda uow: uow.refunds.transition(  # as a gateway's refund waits
        requested["id"], {"requested"}, "approved", {"updated_at": uow.now()}))
    committed(storage, disputes.open_dispute, paid["id"], ADMIN, amount=1000, reason="fraud")
    (failed,) = [e for e in stored_events(storage) if e["type"] == "refund.failed"]
    assert (failed["object_id"], failed["data"]["status"], failed["data"]["failure_reason"]
            ) == (requested["id"], "failed", "payment disputed")
