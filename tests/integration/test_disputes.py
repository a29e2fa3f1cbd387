"""Disputes on SQLite and PostgreSQL: the hold at opening (from the seller's held earning,
after its release from available, beyond that as debt), the payment disputed meanwhile,
open refund requests canceled, a win giving everything back but the fee, a loss charging
the payment back, and disputes plus refunds never above the total. Every scenario ends
with the ledger verified from its postings."""

from __future__ import annotations

from collections import Counter

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    DisputeExceedsCaptured,
    DuplicateGatewayDispute,
    Forbidden,
    InvalidTransition,
    NotFound,
    RefundExceedsCaptured,
)
from paytrack.domain.splits import Bearer, CommissionBase, Policy
from paytrack.services import disputes, ledger
from paytrack.services.payments import get_payment
from paytrack.services.refunds import get_refund, refund_payment, request_refund
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, new_payment, race
from tests.integration.test_seller_funds import (
    Clock,
    balance,
    earnings,
    pay_out,
    release,
    verified,
)
from tests.integration.test_seller_funds import (
    refund as refund_of,
)

SELLER = Actor(Role.SELLER, "seller_1")
OTHER_SELLER = Actor(Role.SELLER, "seller_2")
CUSTOMER = Actor(Role.CUSTOMER, "cust_1")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(hold_days=7), clock=clock)


def open_(storage, payment, amount=None, **kw):
    kw.setdefault("reason", "cardholder says they never got it")
    return committed(storage, disputes.open_dispute, payment["id"], ADMIN,
                     amount=payment["total"] if amount is None else amount, **kw)


def win(storage, dispute, actor=ADMIN):
    return committed(storage, disputes.win_dispute, dispute["id"], actor, reason="won")


def lose(storage, dispute, actor=ADMIN):
    return committed(storage, disputes.lose_dispute, dispute["id"], actor)


def payment_of(storage, payment):
    with storage.unit_of_work(readonly=True) as uow:
        return get_payment(uow, payment["id"], ADMIN)


def accounts(storage) -> dict[str, int]:
    with storage.unit_of_work(readonly=True) as uow:
        return {a["code"]: a["balance"] for a in ledger.list_accounts(uow, ADMIN, limit=100)}


def test_opening_holds_the_sellers_part_from_its_held_earning(storage):
    payment = new_payment(storage, subtotal=10000)  # seller 8000, platform 2000
    dispute = open_(storage, payment, 5000, fee=1500, gateway_dispute_id="dp_stripe_1",
                    reason_code="product_not_received")
    assert (dispute["status"], dispute["seller_part"], dispute["platform_part"]) == (
        "open", 4000, 1000)
    assert dispute["payment_status_before"] == "succeeded"
    assert balance(storage)["pending"] == 4000
    [earning] = earnings(storage)
    assert (earning["pending"], earning["refunded"]) == (4000, 0)  # held, not refunded
    held = payment_of(storage, payment)
    assert (held["status"], held["disputed_amount"]) == ("disputed", 5000)
    codes = accounts(storage)
    assert codes["platform:disputes"] == 1000 + 1500
    assert codes["gateway:manual:clearing"] == 10000 - 5000 - 1500
    assert codes["platform:revenue"] == 2000  # not lost yet
    verified(storage)


def test_a_disputed_payment_refuses_refunds_and_a_second_dispute(storage):
    payment = new_payment(storage, subtotal=10000)
    open_(storage, payment, 1000)
    with pytest.raises(InvalidTransition, match="payment is disputed"):
        refund_of(storage, payment, 100)
    with pytest.raises(InvalidTransition, match="payment is disputed"):
        committed(storage, request_refund, payment["id"], ADMIN, amount=100, reason="r")
    with pytest.raises(InvalidTransition, match="open dispute"):
        open_(storage, payment, 1000)
    verified(storage)


def test_after_the_release_the_hold_comes_from_available(storage, clock):
    payment = new_payment(storage, subtotal=10000)
    clock.advance(days=7)
    release(storage)
    open_(storage, payment, 5000)
    assert balance(storage) == {"pending": 0, "available": 4000, "in_transit": 0,
                                "paid_out": 0, "debt": 0}
    verified(storage)


def test_a_hold_beyond_available_becomes_debt_and_is_never_blocked(storage, clock):
    payment = new_payment(storage, subtotal=10000)
    clock.advance(days=7)
    release(storage)
    pay_out(storage, "seller_1", 7000)  # 1000 left available
    open_(storage, payment)  # the seller's part: 8000
    assert balance(storage)["available"] == 0
    assert balance(storage)["debt"] == 7000
    verified(storage)


def test_opening_cancels_open_refund_requests_and_releases_their_reservations(storage):
    payment = new_payment(storage, subtotal=10000)
    asked = [committed(storage, request_refund, payment["id"], actor, amount=amount,
                       reason="r") for actor, amount in ((CUSTOMER, 6000), (SELLER, 4000))]
    assert payment_of(storage, payment)["refund_reserved_amount"] == 10000
    open_(storage, payment)  # the whole total fits once the requests are canceled
    with storage.unit_of_work(readonly=True) as uow:
        closed = [get_refund(uow, r["id"], ADMIN) for r in asked]
        history = uow.records.status_history("refund", asked[0]["id"])
        trail = uow.records.audit_trail("refund", asked[0]["id"])
    assert [(r["status"], r["cancellation_reason"]) for r in closed] == [
        ("canceled", "payment disputed")] * 2
    assert (history[-1]["to_status"], history[-1]["reason"]) == ("canceled", "payment disputed")
    assert trail[-1]["action"] == "refund.canceled"
    held = payment_of(storage, payment)
    assert (held["refund_reserved_amount"], held["disputed_amount"]) == (0, 10000)
    verified(storage)


def test_winning_returns_everything_but_the_fee(storage):
    payment = new_payment(storage, subtotal=10000)
    dispute = open_(storage, payment, 5000, fee=1500)
    won = win(storage, dispute)
    assert (won["status"], won["decision_reason"]) == ("won", "won")
    assert balance(storage)["pending"] == 8000
    codes = accounts(storage)
    assert codes["platform:disputes"] == 1500  # the fee alone
    assert codes["gateway:manual:clearing"] == 10000 - 1500
    assert codes["platform:revenue"] == 2000
    back = payment_of(storage, payment)
    assert (back["status"], back["disputed_amount"]) == ("succeeded", 0)
    refund_of(storage, payment)  # refundable again, in full
    verified(storage)


def test_a_won_dispute_returns_a_partially_refunded_payment_where_it_was(storage):
    payment = new_payment(storage, subtotal=10000)
    refund_of(storage, payment, 2000)
    dispute = open_(storage, payment, 3000)
    assert dispute["payment_status_before"] == "partially_refunded"
    win(storage, dispute)
    back = payment_of(storage, payment)
    assert (back["status"], back["refunded_amount"], back["disputed_amount"]) == (
        "partially_refunded", 2000, 0)
    with storage.unit_of_work(readonly=True) as uow:
        moves = [(e["from_status"], e["to_status"])
                 for e in uow.records.status_history("payment", payment["id"])]
    assert moves[-2:] == [("partially_refunded", "disputed"),
                          ("disputed", "partially_refunded")]
    refund_of(storage, payment)  # the remaining 8000
    assert payment_of(storage, payment)["status"] == "refunded"
    assert balance(storage)["pending"] == 0
    verified(storage)


def test_a_win_after_the_release_pays_the_debt_first(storage, clock):
    payment = new_payment(storage, subtotal=10000)
    clock.advance(days=7)
    release(storage)
    pay_out(storage, "seller_1", 7000)
    dispute = open_(storage, payment)
    assert balance(storage)["debt"] == 7000
    win(storage, dispute)
    assert balance(storage) == {"pending": 0, "available": 1000, "in_transit": 7000,
                                "paid_out": 0, "debt": 0}
    verified(storage)


def test_a_win_while_the_earning_is_still_held_returns_it_to_the_hold(storage, clock):
    payment = new_payment(storage, subtotal=10000)
    dispute = open_(storage, payment)
    assert balance(storage)["pending"] == 0
    win(storage, dispute)
    [earning] = earnings(storage)
    assert (earning["pending"], earning["refunded"]) == (8000, 0)
    clock.advance(days=7)
    assert release(storage) == 1
    assert balance(storage)["available"] == 8000
    verified(storage)


def test_losing_charges_the_payment_back_and_takes_the_platforms_part_from_revenue(storage):
    payment = new_payment(storage, subtotal=10000)
    other = new_payment(storage, subtotal=10000)  # revenue that stays
    dispute = open_(storage, payment, 10000, fee=1500)
    lost = lose(storage, dispute)
    assert lost["status"] == "lost"
    charged = payment_of(storage, payment)
    assert (charged["status"], charged["disputed_amount"]) == ("charged_back", 10000)
    codes = accounts(storage)
    assert codes["platform:revenue"] == 2000  # the other payment's only
    assert codes["platform:disputes"] == 1500  # the fee alone
    assert codes["gateway:manual:clearing"] == 20000 - 10000 - 1500
    assert balance(storage)["pending"] == 8000  # the other payment's share
    mine = next(e for e in earnings(storage) if e["payment_id"] == payment["id"])
    assert (mine["pending"], mine["refunded"]) == (0, 8000)
    assert other["id"] != payment["id"]
    with pytest.raises(InvalidTransition):  # charged back is the end
        refund_of(storage, payment, 100)
    verified(storage)


def test_a_lost_dispute_with_tax_and_shipping_takes_them_back_too(engine, clock):
    storage = Storage(engine, Policy(commission_base=CommissionBase.NET,
                                     shipping_collected_by=Bearer.PLATFORM), clock=clock)
    payment = new_payment(storage, subtotal=10000, tax=800, shipping=500)
    dispute = open_(storage, payment, 5650)  # half
    assert (dispute["seller_part"], dispute["platform_part"], dispute["tax_part"],
            dispute["shipping_part"]) == (4000, 1000, 400, 250)
    lose(storage, dispute)
    codes = accounts(storage)
    assert (codes["platform:revenue"], codes["platform:tax_payable"],
            codes["platform:shipping"]) == (1000, 400, 250)
    assert codes.get("platform:disputes", 0) == 0
    verified(storage)


def test_a_loss_after_payout_leaves_the_seller_in_debt_recovered_from_its_next_releases(
        storage, clock):
    payment = new_payment(storage, subtotal=10000)
    clock.advance(days=7)
    release(storage)
    pay_out(storage, "seller_1", 8000)
    lose(storage, open_(storage, payment))
    assert balance(storage)["debt"] == 8000
    new_payment(storage, subtotal=12500)  # 10000 to the seller
    clock.advance(days=7)
    release(storage)
    assert (balance(storage)["debt"], balance(storage)["available"]) == (0, 2000)
    verified(storage)


def test_disputes_and_refunds_together_never_exceed_the_total(storage):
    payment = new_payment(storage, subtotal=10000)
    refund_of(storage, payment, 6000)
    with pytest.raises(DisputeExceedsCaptured, match="the 40.00 USD left"):
        open_(storage, payment, 4001)
    dispute = open_(storage, payment, 4000)
    assert (dispute["seller_part"], dispute["platform_part"]) == (3200, 800)
    win(storage, dispute)
    with pytest.raises(RefundExceedsCaptured):
        refund_of(storage, payment, 4001)
    refund_of(storage, payment, 4000)
    with pytest.raises(InvalidTransition, match="payment is refunded"):
        open_(storage, payment, 1)
    assert balance(storage)["pending"] == 0
    verified(storage)


def test_a_gateway_dispute_id_is_recorded_once(storage):
    first, second = new_payment(storage), new_payment(storage)
    open_(storage, first, 100, gateway_dispute_id="du_1")
    with pytest.raises(DuplicateGatewayDispute, match="du_1"):
        open_(storage, second, 100, gateway_dispute_id="du_1")
    open_(storage, second, 100, gateway_dispute_id="du_2")
    verified(storage)


def test_the_database_refuses_a_duplicate_gateway_dispute_id_on_its_own(storage):
    """Should two openings race past the service's check, the unique key decides."""
    first, second = new_payment(storage), new_payment(storage)
    open_(storage, first, 100, gateway_dispute_id="du_1")
    with storage.unit_of_work() as uow:
        uow.disputes.holding_gateway_id = lambda *a: None  # the check saw nothing
        with pytest.raises(DuplicateGatewayDispute):
            disputes.open_dispute(uow, second["id"], ADMIN, amount=100, reason="r",
                                  gateway_dispute_id="du_1")
            uow.commit()


def test_evidence_puts_a_dispute_under_review_and_more_may_follow(storage):
    payment = new_payment(storage)
    dispute = open_(storage, payment, 1000)
    first = committed(storage, disputes.submit_evidence, dispute["id"], SELLER,
                      text="tracking shows delivery", references=["file_1", "https://t.co/x"])
    assert first["status"] == "under_review"
    assert first["under_review_at"] is not None
    second = committed(storage, disputes.submit_evidence, dispute["id"], ADMIN,
                       text="signed receipt")
    assert [(e["text"], e["references"], e["submitted_by"]) for e in second["evidence"]] == [
        ("tracking shows delivery", ["file_1", "https://t.co/x"], "seller"),
        ("signed receipt", [], "admin")]
    assert second["under_review_at"] == first["under_review_at"]
    win(storage, second)
    with pytest.raises(InvalidTransition, match="dispute is won"):
        committed(storage, disputes.submit_evidence, dispute["id"], ADMIN, text="late")
    with pytest.raises(InvalidTransition):
        lose(storage, dispute)
    verified(storage)


def test_only_the_payments_seller_and_admins_see_or_defend_a_dispute(storage):
    payment = new_payment(storage)
    dispute = open_(storage, payment, 1000)
    with storage.unit_of_work(readonly=True) as uow:
        assert disputes.get_dispute(uow, dispute["id"], SELLER)["id"] == dispute["id"]
        with pytest.raises(NotFound):
            disputes.get_dispute(uow, dispute["id"], OTHER_SELLER)
        with pytest.raises(Forbidden):
            disputes.get_dispute(uow, dispute["id"], CUSTOMER)
        assert disputes.list_disputes(uow, OTHER_SELLER) == []
        assert disputes.list_disputes(uow, SELLER, seller_id="seller_2") == []
        assert [d["id"] for d in disputes.list_disputes(uow, SELLER)] == [dispute["id"]]
        assert [d["id"] for d in disputes.list_disputes(uow, ADMIN, status="open")] == [
            dispute["id"]]
        assert disputes.list_disputes(uow, ADMIN, status="won") == []
    with pytest.raises(NotFound):
        committed(storage, disputes.submit_evidence, dispute["id"], OTHER_SELLER, text="x")
    for decide in (disputes.win_dispute, disputes.lose_dispute):
        with pytest.raises(Forbidden):
            committed(storage, decide, dispute["id"], SELLER)
    with pytest.raises(Forbidden):
        committed(storage, disputes.open_dispute, payment["id"], SELLER, amount=1,
                  reason="r")


def test_every_move_writes_its_status_events_and_audit_records(storage):
    payment = new_payment(storage)
    dispute = open_(storage, payment, 1000)
    committed(storage, disputes.submit_evidence, dispute["id"], ADMIN, text="t")
    lose(storage, dispute)
    with storage.unit_of_work(readonly=True) as uow:
        moves = [(e["from_status"], e["to_status"])
                 for e in uow.records.status_history("dispute", dispute["id"])]
        actions = [a["action"] for a in uow.records.audit_trail("dispute", dispute["id"])]
        paid = [e["to_status"] for e in uow.records.status_history("payment", payment["id"])]
        kinds = [e["kind"] for e in ledger.list_entries(uow, ADMIN, payment_id=payment["id"])]
    assert moves == [(None, "open"), ("open", "under_review"), ("under_review", "lost")]
    assert actions == ["dispute.opened", "dispute.under_review", "dispute.lost"]
    assert paid[-2:] == ["disputed", "charged_back"]
    assert Counter(kinds) == Counter({"payment.captured": 1, "dispute.opened": 1,
                                      "dispute.lost": 1})


# -- races: real on PostgreSQL only ------------------------------------------------------


@postgres_only
def test_a_dispute_racing_refunds_never_takes_more_than_the_total(storage):

    for _ in range(3):
        payment = new_payment(storage, subtotal=10000)

        def act(uow, i, payment=payment):
            if i == 0:
                disputes.open_dispute(uow, payment["id"], ADMIN, amount=4000, reason="race")
            else:
                refund_payment(uow, payment["id"], ADMIN, amount=1500, reason=f"race {i}")

        outcome = race(storage, 8, act)
        held = payment_of(storage, payment)
        assert held["refunded_amount"] + held["disputed_amount"] <= 10000
        assert held["refunded_amount"] == 1500 * (outcome["ok"] - held["disputed_amount"] // 4000)
        assert set(outcome) <= {"ok", "invalid_transition", "refund_exceeds_captured",
                                "dispute_exceeds_captured"}
    verified(storage)


@postgres_only
def test_a_dispute_racing_approvals_of_the_requests_it_cancels_pays_nothing_twice(storage):
    from paytrack.services.refunds import approve_refund

    for _ in range(3):
        payment = new_payment(storage, subtotal=10000)
        asked = [committed(storage, request_refund, payment["id"], CUSTOMER, amount=2500,
                           reason="r") for _ in range(4)]

        def act(uow, i, payment=payment, asked=asked):
            if i == 0:
                disputes.open_dispute(uow, payment["id"], ADMIN, amount=5000, reason="race")
            else:
                approve_refund(uow, asked[i - 1]["id"], ADMIN)

        outcome = race(storage, 5, act)
        held = payment_of(storage, payment)
        assert held["refunded_amount"] + held["refund_reserved_amount"] \
            + held["disputed_amount"] <= 10000
        assert outcome["ok"] == held["refunded_amount"] // 2500 + held["disputed_amount"] // 5000
        with storage.unit_of_work(readonly=True) as uow:
            statuses = Counter(get_refund(uow, r["id"], ADMIN)["status"] for r in asked)
        if held["disputed_amount"]:  # the dispute canceled every request not yet approved
            assert statuses["requested"] == 0
    verified(storage)


@postgres_only
def test_a_win_racing_a_loss_decides_once(storage):

    payment = new_payment(storage, subtotal=10000)
    dispute = open_(storage, payment, 10000)
    outcome = race(storage, 6, lambda uow, i: (disputes.win_dispute if i % 2
                                                else disputes.lose_dispute)(
        uow, dispute["id"], ADMIN))
    assert outcome == Counter({"ok": 1, "invalid_transition": 5})
    with storage.unit_of_work(readonly=True) as uow:
        decided = disputes.get_dispute(uow, dispute["id"], ADMIN)
        kinds = [e["kind"] for e in ledger.list_entries(uow, ADMIN, payment_id=payment["id"])]
    assert kinds.count("dispute.won") + kinds.count("dispute.lost") == 1
    expected = {"won": "succeeded", "lost": "charged_back"}[decided["status"]]
    assert payment_of(storage, payment)["status"] == expected
    verified(storage)
