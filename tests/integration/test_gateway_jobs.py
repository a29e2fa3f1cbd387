"""Refunds and payouts carried out at a gateway, and checkouts expiring, by the background
job: with a fake provider in the adapter's place (the real adapters have their own tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from paytrack.adapters.gateways.registry import GatewayWiring
from paytrack.domain.errors import GatewayError, InvalidAmount
from paytrack.domain.gateways import (
    Checkout,
    Outcome,
    PaymentState,
    PayoutResult,
    RefundResult,
    RemoteStatus,
)
from paytrack.services import gateway_jobs, gateways, payouts, refunds
from paytrack.services.payments import CreatePayment, capture_payment, create_payment
from tests.integration.conftest import ADMIN, committed


@dataclass
class FakeProvider:
    """Answers queued per refund id (else succeeded); remembers every send."""

    refund_answers: dict[str, list] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    status: RemoteStatus = RemoteStatus.PENDING
    amount: int | None = None
    name: str = "stripe"

    def create_checkout(self, request):
        return Checkout(payment_url=f"https://pay.example/{request.payment_id}",
                        expires_at=request.expires_at,
                        gateway_payment_id=f"pi_{request.payment_id[-8:]}")

    def fetch_status(self, gateway_payment_id, gateway_order_id):
        return PaymentState(self.status, gateway_payment_id, self.amount, None, None)

    def refund(self, request):
        self.sent.append(request.refund_id)
        answers = self.refund_answers.get(request.refund_id) or [
            RefundResult(Outcome.SUCCEEDED, f"re_{request.refund_id[-6:]}")]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def payout(self, request):
        self.sent.append(request.payout_id)
        return PayoutResult(Outcome.SUCCEEDED, f"tr_{request.payout_id[-6:]}")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def provider():
    return FakeProvider()


@pytest.fixture
def at_gateway(storage, provider):
    """The storage with Stripe configured and the fake provider in its adapter's place."""
    storage.clock = Clock()
    storage.gateways = GatewayWiring(factory=lambda settings, **kw: provider)
    committed(storage, gateways.configure_gateway, ADMIN, "stripe", "test",
              credentials={"secret_key": "sk_test_x1234567890",
                           "webhook_secret": "whsec_abcdefghijkl"})
    return storage


def paid(storage, total: int = 10000, currency: str = "USD") -> dict:
    cmd = CreatePayment(customer_id="c1", seller_id="s1", item_type="course", item_id="k1",
                        currency=currency, subtotal=total, gateway="stripe")
    payment = committed(storage, create_payment, cmd, ADMIN)
    assert payment["payment_url"] is not None
    return committed(storage, capture_payment, payment["id"], ADMIN)


def approved_refund(storage, payment: dict, amount: int) -> dict:
    refund = committed(storage, refunds.refund_payment, payment["id"], ADMIN, reason="r",
                       amount=amount)
    assert refund["status"] == "approved" and refund["next_submit_at"] is not None
    return refund


def refund_of(storage, refund_id: str) -> dict:
    return committed(storage, refunds.get_refund, refund_id, ADMIN)


def test_an_approved_refund_is_sent_and_settled_by_the_answer(at_gateway, provider):
    refund = approved_refund(at_gateway, paid(at_gateway), 2500)
    assert gateway_jobs.send_due(at_gateway).refunds == 1
    done = refund_of(at_gateway, refund["id"])
    assert done["status"] == "succeeded" and done["gateway_refund_id"].startswith("re_")
    assert gateway_jobs.send_due(at_gateway).refunds == 0  # sent once


def test_a_crash_after_claiming_sends_it_again_after_the_lease(at_gateway, provider):
    refund = approved_refund(at_gateway, paid(at_gateway), 2500)
    with at_gateway.unit_of_work() as uow:  # a worker claimed it, then died
        now = uow.now()
        assert uow.refunds.claim_to_submit(now, now + gateway_jobs.LEASE, 10)
        uow.commit()
    assert gateway_jobs.send_due(at_gateway).refunds == 0  # leased: nobody else sends it
    at_gateway.clock.now += gateway_jobs.LEASE + timedelta(seconds=1)
    assert gateway_jobs.send_due(at_gateway).refunds == 1
    assert provider.sent == [refund["id"]]  # the same id: the provider's idempotency key
    assert refund_of(at_gateway, refund["id"])["status"] == "succeeded"


def test_retryable_errors_back_off_then_the_refund_fails_and_its_money_stays(at_gateway,
                                                                            provider):
    payment = paid(at_gateway)
    refund = approved_refund(at_gateway, payment, 2500)
    provider.refund_answers[refund["id"]] = [GatewayError("Stripe is down", retryable=True)]
    for _ in range(gateway_jobs.MAX_ATTEMPTS - 1):
        gateway_jobs.send_due(at_gateway)
        stuck = refund_of(at_gateway, refund["id"])
        at_gateway.clock.now += timedelta(hours=2)
    assert stuck["status"] == "approved" and stuck["last_error"] == "Stripe is down"
    gateway_jobs.send_due(at_gateway)
    failed = refund_of(at_gateway, refund["id"])
    assert failed["status"] == "failed" and len(provider.sent) == gateway_jobs.MAX_ATTEMPTS
    with at_gateway.unit_of_work() as uow:
        after = uow.payments.get(payment["id"])
    assert (after["refunded_amount"], after["refund_reserved_amount"]) == (0, 0)


def test_a_refund_the_gateway_cannot_take_fails_without_holding_up_the_others(at_gateway,
                                                                           provider):
    payment = paid(at_gateway)
    bad = approved_refund(at_gateway, payment, 1000)
    good = approved_refund(at_gateway, payment, 2000)
    provider.refund_answers[bad["id"]] = [InvalidAmount("Stripe cannot take it")]
    sent = gateway_jobs.send_due(at_gateway)
    assert sent.refunds == 2
    assert refund_of(at_gateway, bad["id"])["status"] == "failed"
    assert refund_of(at_gateway, good["id"])["status"] == "succeeded"


def test_a_pending_answer_waits_for_the_webhook(at_gateway, provider):
    refund = approved_refund(at_gateway, paid(at_gateway), 2500)
    provider.refund_answers[refund["id"]] = [RefundResult(Outcome.PENDING, "re_pending")]
    gateway_jobs.send_due(at_gateway)
    waiting = refund_of(at_gateway, refund["id"])
    assert waiting["status"] == "approved" and waiting["gateway_refund_id"] == "re_pending"
    assert waiting["next_submit_at"] is None and waiting["submitted_at"] is not None


def test_an_expired_checkout_is_canceled_unless_the_gateway_says_paid(at_gateway, provider):
    cmd = CreatePayment(customer_id="c1", seller_id="s1", item_type="course", item_id="k1",
                        currency="USD", subtotal=5000, gateway="stripe")
    unpaid = committed(at_gateway, create_payment, cmd, ADMIN)
    paid_late = committed(at_gateway, create_payment, cmd, ADMIN)
    assert gateway_jobs.expire_checkouts(at_gateway) == 0  # not expired yet
    at_gateway.clock.now += gateways.CHECKOUT_TTL + timedelta(minutes=1)
    provider.status = RemoteStatus.PENDING
    assert gateway_jobs.expire_checkouts(at_gateway, limit=1) == 1
    provider.status, provider.amount = RemoteStatus.SUCCEEDED, 5000
    assert gateway_jobs.expire_checkouts(at_gateway) == 1
    with at_gateway.unit_of_work() as uow:
        statuses = {p: uow.payments.get(p)["status"] for p in (unpaid["id"], paid_late["id"])}
    assert sorted(statuses.values()) == ["canceled", "succeeded"]


def test_a_gateway_saying_paid_another_amount_is_left_for_a_person(at_gateway, provider):
    cmd = CreatePayment(customer_id="c1", seller_id="s1", item_type="course", item_id="k1",
                        currency="USD", subtotal=5000, gateway="stripe")
    payment = committed(at_gateway, create_payment, cmd, ADMIN)
    at_gateway.clock.now += gateways.CHECKOUT_TTL + timedelta(minutes=1)
    provider.status, provider.amount = RemoteStatus.SUCCEEDED, 4000
    assert gateway_jobs.expire_checkouts(at_gateway) == 0
    with at_gateway.unit_of_work() as uow:
        assert uow.payments.get(payment["id"])["status"] == "pending"


def test_a_payout_sent_to_the_gateway_cannot_be_failed_by_hand(at_gateway, provider):
    from paytrack.domain.actors import Actor, Role
    from paytrack.domain.errors import InvalidTransition
    from paytrack.services import seller_funds

    paid(at_gateway, 20000)
    at_gateway.clock.now += timedelta(days=30)
    committed(at_gateway, seller_funds.release_due)
    committed(at_gateway, payouts.set_payout_account, "s1", ADMIN, method="stripe_connect",
              details={"account_id": "acct_1Nv0FGQ9RKHgCVdK"})
    payout = committed(at_gateway, payouts.request_payout, Actor(Role.SELLER, "s1"),
                       amount=5000, currency="USD", method="stripe_connect")
    approved = committed(at_gateway, payouts.approve_payout, payout["id"], ADMIN)
    assert approved["gateway"] == "stripe" and approved["next_submit_at"] is not None
    with pytest.raises(InvalidTransition, match="being paid through stripe"):
        committed(at_gateway, payouts.fail_payout, payout["id"], ADMIN, reason="stuck")
    assert gateway_jobs.send_due(at_gateway).payouts == 1
    done = committed(at_gateway, payouts.get_payout, payout["id"], ADMIN)
    assert done["status"] == "paid" and done["reference"].startswith("tr_")


def test_a_gateway_part_that_fails_holds_up_no_other_part_of_the_round(at_gateway, provider,
                                                                      monkeypatch):
    from paytrack.entrypoints.upkeep import run_once

    cmd = CreatePayment(customer_id="c1", seller_id="s1", item_type="course", item_id="k1",
                        currency="USD", subtotal=5000, gateway="stripe")
    committed(at_gateway, create_payment, cmd, ADMIN)
    at_gateway.clock.now += gateways.CHECKOUT_TTL + timedelta(minutes=1)

    def unreachable(storage, limit=gateway_jobs.BATCH):
        raise OSError("the network is down")

    monkeypatch.setattr(gateway_jobs, "send_due", unreachable)
    done = run_once(at_gateway)
    assert (done.sent, done.expired) == (0, 1)
