"""The simulator as a provider: what each test card queues, the delivery options, its
answers to status, refund and payout requests (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from paytrack.adapters.gateways.base import PayoutRequest, RefundRequest
from paytrack.adapters.gateways.simulator_rules import TokenExpired, card_for
from paytrack.adapters.gateways.simulator_store import list_webhooks
from paytrack.domain.errors import GatewayError
from paytrack.domain.gateways import EventKind, Outcome, RemoteStatus
from paytrack.domain.ids import new_id
from tests.integration.simulator_support import (
    DECLINED,
    DELAYED,
    DISPUTED,
    INSUFFICIENT,
    PUBLIC_URL,
    REFUND_FAILS,
    SUCCEEDS,
    Clock,
    checkout_request,
    gateway,
    paid,
    token_of,
)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gw(engine, clock):
    return gateway(engine, clock)


def queued(gw, payment_id):
    """(type, seconds after the start, event id) of each queued webhook, in due order."""
    start = Clock().now
    return [(row["event_type"], (row["due_at"] - start).total_seconds(), row["event_id"])
            for row in list_webhooks(gw.engine, payment_id=payment_id)]


def test_a_checkout_is_a_hosted_page_address_and_ids_derived_from_the_payment(gw, clock,
                                                                              engine):
    request = checkout_request(clock)
    checkout = gw.create_checkout(request)
    ulid = request.payment_id.removeprefix("pay_")
    assert checkout.payment_url.startswith(f"{PUBLIC_URL}/simulator/checkout/")
    assert (checkout.gateway_payment_id, checkout.gateway_order_id) == (f"sim_pi_{ulid}",
                                                                        f"sim_cs_{ulid}")
    assert checkout.expires_at == request.expires_at
    assert gw.open_checkout(token_of(checkout)).payment_id == request.payment_id
    assert list_webhooks(engine) == []  # nothing written: it ran inside the caller's transaction
    assert gw.checkout(payment_id=request.payment_id) is None


@pytest.mark.parametrize(("card", "expected"), [
    (SUCCEEDS, [("payment.succeeded", 0)]),
    (DECLINED, [("payment.failed", 0)]),
    (INSUFFICIENT, [("payment.failed", 0)]),
    (DELAYED, [("payment.processing", 0), ("payment.succeeded", 10)]),
    (DISPUTED, [("payment.succeeded", 0), ("dispute.opened", 10)]),
    (REFUND_FAILS, [("payment.succeeded", 0)]),
], ids=["succeeds", "declined", "insufficient", "delayed", "disputed", "refund_fails"])
def test_each_test_card_queues_its_webhooks(gw, clock, card, expected):
    request, _ = paid(gw, clock, card)
    assert [(t, s) for t, s, _ in queued(gw, request.payment_id)] == expected


def test_a_declined_card_sends_its_reason_and_no_fee(gw, clock):
    request, payment = paid(gw, clock, INSUFFICIENT)
    body = json.loads(list_webhooks(gw.engine, payment_id=request.payment_id)[0]["body"])
    assert payment.status is RemoteStatus.FAILED
    assert body["data"]["reason"] == "insufficient_funds" and body["data"]["fee"] is None
    assert body["data"]["payment_id"] == request.payment_id and body["livemode"] is False


def test_a_success_carries_the_amount_the_fee_and_the_echoed_metadata(gw, clock):
    request, payment = paid(gw, clock, SUCCEEDS)
    body = json.loads(list_webhooks(gw.engine, payment_id=request.payment_id)[0]["body"])
    assert payment.status is RemoteStatus.SUCCEEDED
    assert body["data"] | {"gateway_payment_id": None} == {
        "payment_id": request.payment_id, "gateway_payment_id": None,
        "gateway_order_id": f"sim_cs_{request.payment_id[4:]}", "amount": 1250,
        "currency": "USD", "fee": 66, "reason": None, "refund_id": None,
        "gateway_refund_id": None, "gateway_dispute_id": None, "payout_id": None,
        "gateway_payout_id": None, "metadata": {"order": "1001"}}


def test_duplicates_are_separate_rows_with_the_same_event_id(gw, clock):
    request, _ = paid(gw, clock, DELAYED, duplicates=3)
    rows = queued(gw, request.payment_id)
    assert [t for t, _, _ in rows] == ["payment.processing"] * 3 + ["payment.succeeded"] * 3
    assert len({e for _, _, e in rows}) == 2


def test_a_chosen_delay_holds_the_outcome_back(gw, clock):
    request, _ = paid(gw, clock, SUCCEEDS, delay_s=90)
    assert [(t, s) for t, s, _ in queued(gw, request.payment_id)] == [("payment.succeeded", 90)]


def test_reversed_order_sends_the_later_event_first(gw, clock):
    request, _ = paid(gw, clock, DELAYED, delay_s=30, order="reversed")
    assert [(t, s) for t, s, _ in queued(gw, request.payment_id)] == [
        ("payment.succeeded", 0), ("payment.processing", 30)]


def test_shuffled_order_keeps_every_copy_and_the_due_times(gw, clock):
    request, _ = paid(gw, clock, DISPUTED, duplicates=5, delay_s=30, order="shuffled")
    rows = queued(gw, request.payment_id)
    assert Counter(t for t, _, _ in rows) == {"payment.succeeded": 5, "dispute.opened": 5}
    assert sorted(s for _, s, _ in rows) == [0] * 5 + [30] * 5


def test_a_checkout_is_paid_once(gw, clock):
    request = checkout_request(clock)
    opened = gw.open_checkout(token_of(gw.create_checkout(request)))
    first = gw.pay(opened, card_for(SUCCEEDS))
    second = gw.pay(opened, card_for(DECLINED), duplicates=5)
    assert (first.already_paid, second.already_paid) == (False, True)
    assert second.status is RemoteStatus.SUCCEEDED
    assert [t for t, _, _ in queued(gw, request.payment_id)] == ["payment.succeeded"]


def test_fetch_status_follows_the_page(gw, clock):
    request = checkout_request(clock)
    checkout = gw.create_checkout(request)
    ids = (checkout.gateway_payment_id, checkout.gateway_order_id)
    assert gw.fetch_status(*ids).status is RemoteStatus.PENDING
    gw.pay(gw.open_checkout(token_of(checkout)), card_for(DELAYED), delay_s=60)
    assert gw.fetch_status(*ids).status is RemoteStatus.PROCESSING
    assert gw.fetch_status(None, ids[1]).status is RemoteStatus.PROCESSING
    clock.advance(60)
    state = gw.capture(ids[0], None, 1250, "USD")
    assert (state.status, state.amount, state.currency, state.fee) == (
        RemoteStatus.SUCCEEDED, 1250, "USD", 66)


def test_a_declined_payment_reports_failed_with_its_reason(gw, clock):
    request, _ = paid(gw, clock, DECLINED)
    state = gw.fetch_status(f"sim_pi_{request.payment_id[4:]}", None)
    assert (state.status, state.reason, state.fee) == (RemoteStatus.FAILED, "card_declined",
                                                       None)


def test_a_checkout_opened_after_its_expiry_is_canceled_and_queues_nothing(gw, clock):
    request = checkout_request(clock, expires_in_s=60)
    checkout = gw.create_checkout(request)
    clock.advance(61)
    with pytest.raises(TokenExpired) as raised:
        gw.open_checkout(token_of(checkout))
    assert gw.expire(raised.value.checkout).status is RemoteStatus.CANCELED
    assert gw.fetch_status(checkout.gateway_payment_id, None).status is RemoteStatus.CANCELED
    assert queued(gw, request.payment_id) == []


def refund_of(request, amount=500, refund_id=None):
    return RefundRequest(refund_id=refund_id or new_id("re"), payment_id=request.payment_id,
                         gateway_payment_id=None, gateway_order_id=None, amount=amount,
                         currency=request.currency)


def test_a_refund_is_pending_and_told_by_a_webhook(gw, clock, engine):
    request, _ = paid(gw, clock, SUCCEEDS)
    refund = refund_of(request)
    result = gw.refund(refund)
    assert result.outcome is Outcome.PENDING
    assert result.gateway_refund_id == f"sim_re_{refund.refund_id[3:]}"
    hook = list_webhooks(engine, payment_id=request.payment_id)[-1]
    data = json.loads(hook["body"])["data"]
    assert hook["event_type"] == "refund.succeeded"
    assert (data["refund_id"], data["gateway_refund_id"], data["amount"]) == (
        refund.refund_id, result.gateway_refund_id, 500)


def test_a_refund_asked_twice_is_sent_once(gw, clock, engine):
    request, _ = paid(gw, clock, SUCCEEDS)
    refund = refund_of(request)
    assert gw.refund(refund) == gw.refund(refund)
    assert [t for t, _, _ in queued(gw, request.payment_id)] == ["payment.succeeded",
                                                                  "refund.succeeded"]


def test_refunds_of_the_refund_fails_card_fail(gw, clock):
    request, _ = paid(gw, clock, REFUND_FAILS)
    assert gw.refund(refund_of(request)).outcome is Outcome.PENDING
    hook = list_webhooks(gw.engine, payment_id=request.payment_id)[-1]
    assert hook["event_type"] == "refund.failed"
    assert json.loads(hook["body"])["data"]["reason"] == "expired_or_canceled_card"


def test_refunds_never_give_back_more_than_was_paid(gw, clock):
    request, _ = paid(gw, clock, SUCCEEDS)
    assert gw.refund(refund_of(request, 1000)).outcome is Outcome.PENDING
    refused = gw.refund(refund_of(request, 251))
    assert (refused.outcome, refused.reason) == (Outcome.FAILED, "amount_exceeds_payment")
    assert gw.refund(refund_of(request, 250)).outcome is Outcome.PENDING


@pytest.mark.parametrize("card", [DECLINED, DELAYED, None])
def test_a_payment_not_captured_cannot_be_refunded(gw, clock, card):
    request = paid(gw, clock, card)[0] if card else checkout_request(clock)
    result = gw.refund(refund_of(request))
    assert (result.outcome, result.reason) == (Outcome.FAILED, "payment_not_captured")


def payout_to(destination, payout_id=None, method="bank_transfer"):
    return PayoutRequest(payout_id=payout_id or new_id("po"), seller_id="seller_1",
                         amount=5000, currency="USD", method=method, destination=destination)


def test_a_payout_is_pending_and_told_paid_by_a_webhook(gw, engine):
    request = payout_to({"account_number": "000123456789", "routing_number": "110000000"})
    result = gw.payout(request)
    assert (result.outcome, result.gateway_payout_id) == (
        Outcome.PENDING, f"sim_po_{request.payout_id[3:]}")
    hook = list_webhooks(engine)[-1]
    assert hook["event_type"] == "payout.paid"
    assert json.loads(hook["body"])["data"]["payout_id"] == request.payout_id


@pytest.mark.parametrize(("method", "destination"), [
    ("bank_transfer", {"account_number": "000111111116", "routing_number": "110000000"}),
    ("paypal", {"email": "fail@example.com"}),
    ("stripe_connect", {"account_id": "acct_simulatorfail"}),
])
def test_a_payout_to_a_failing_test_destination_fails(gw, engine, method, destination):
    assert gw.payout(payout_to(destination, method=method)).outcome is Outcome.PENDING
    hook = list_webhooks(engine)[-1]
    assert hook["event_type"] == "payout.failed"
    assert json.loads(hook["body"])["data"]["reason"] == "no_account"


def test_a_payout_asked_twice_is_sent_once(gw, engine):
    request = payout_to({"email": "ada@example.com"})
    assert gw.payout(request) == gw.payout(request)
    assert len(list_webhooks(engine)) == 1


def test_an_admin_can_dispute_a_paid_payment_and_close_the_dispute(gw, clock):
    request, _ = paid(gw, clock, SUCCEEDS)
    gw.simulate_dispute(request.payment_id, amount=700)
    gw.simulate_dispute(request.payment_id, outcome=EventKind.DISPUTE_WON, delay_s=5)
    rows = list_webhooks(gw.engine, payment_id=request.payment_id)
    opened, won = (json.loads(row["body"])["data"] for row in rows[1:])
    assert [row["event_type"] for row in rows] == ["payment.succeeded", "dispute.opened",
                                                   "dispute.won"]
    assert opened["gateway_dispute_id"] == won["gateway_dispute_id"]
    assert (opened["amount"], opened["fee"], won["amount"]) == (700, 1500, 1250)


def test_a_payment_the_simulator_did_not_take_cannot_be_disputed(gw, clock):
    request, _ = paid(gw, clock, DECLINED)
    with pytest.raises(GatewayError):
        gw.simulate_dispute(request.payment_id)


def test_any_event_can_be_queued_for_a_test(gw, clock):
    request, _ = paid(gw, clock, SUCCEEDS)
    event_id = gw.simulate(EventKind.PAYMENT_PROCESSING, payment_id=request.payment_id,
                           duplicates=2, delay_s=3)
    rows = queued(gw, request.payment_id)[1:]
    assert rows == [("payment.processing", 3, event_id)] * 2
