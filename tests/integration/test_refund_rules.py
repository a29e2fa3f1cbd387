"""The refund policy decides each request in the request's own transaction."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import RefundWindowClosed
from paytrack.domain.refund_rules import RefundPolicy
from paytrack.services import ledger
from paytrack.services.payments import get_payment, payment_history
from paytrack.services.refund_rules import decide_request, get_refund_policy, set_refund_policy
from paytrack.services.refunds import (
    approve_refund,
    list_refunds,
    refund_payment,
    reject_refund,
    request_refund,
)
from tests.integration.conftest import ADMIN, new_payment
from tests.integration.conftest import committed as _do

CUSTOMER = Actor(Role.CUSTOMER, "cust_1")
SELLER = Actor(Role.SELLER, "seller_1")
SMALL = {"auto_approve_max_amount": {"USD": 2000}, "auto_approve_within_days": 14,
         "auto_approve_max_refund_rate": "0.10", "customer_refund_window_days": 30}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rules(engine, clock):
    """A storage whose clock the test moves, with a refund policy from configuration."""
    return lambda **policy: Storage(engine, clock=clock, refund_policy=RefundPolicy(**policy))


def _set(storage, **values):
    return _do(storage, set_refund_policy, ADMIN, values)


def test_an_auto_approved_customer_request_refunds_in_the_same_transaction(rules):
    storage = rules(auto_approve_max_amount={"USD": 2000})
    payment = new_payment(storage)
    with storage.unit_of_work() as uow:
        refund = request_refund(uow, payment["id"], CUSTOMER, amount=2000, reason="broken")
        # before the commit: the money moved in this very transaction
        assert uow.payments.get(payment["id"])["refunded_amount"] == 2000
        uow.commit()
    assert (refund["status"], refund["decision_rule"]) == ("succeeded", "customer_small_recent")
    assert refund["decided_by"] == "system"
    assert "20.00 USD ≤ 20.00 USD" in refund["decision_detail"]
    with storage.unit_of_work(readonly=True) as uow:
        stored = uow.refunds.get(refund["id"])
        history = uow.records.status_history("refund", refund["id"])
        audit = uow.records.audit_trail("refund", refund["id"])
        paid = get_payment(uow, payment["id"], ADMIN)
        accounts = {a["code"]: a["balance"] for a in ledger.list_accounts(uow, ADMIN)}
        assert ledger.verify_ledger(uow, ADMIN)["ok"]
    assert stored["decision_rule"] == "customer_small_recent"
    assert [(h["to_status"], h["actor"]) for h in history] == [
        ("requested", "customer:cust_1"), ("approved", "system"), ("succeeded", "system")]
    assert history[1]["reason"].startswith("customer_small_recent: 20.00 USD")
    assert [a["after"].get("decision_rule") for a in audit] == [
        "customer_small_recent", "customer_small_recent", None]
    assert (paid["status"], paid["refunded_amount"], paid["refund_reserved_amount"]) == (
        "partially_refunded", 2000, 0)
    assert accounts["seller:seller_1:pending"] == 8000 - 1600


def test_without_configuration_a_customer_request_waits_for_manual_review(storage):
    payment = new_payment(storage)
    refund = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="r")
    assert (refund["status"], refund["decision_rule"]) == ("requested", "manual_review")
    approved = _do(storage, approve_refund, refund["id"], ADMIN)
    assert (approved["status"], approved["decision_rule"]) == ("succeeded", "admin")
    other = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="r")
    rejected = _do(storage, reject_refund, other["id"], ADMIN, reason="no")
    assert rejected["decision_rule"] == "admin"


def test_an_admins_one_step_refund_is_recorded_as_such(storage):
    payment = new_payment(storage)
    refund = _do(storage, refund_payment, payment["id"], ADMIN, amount=100, reason="r")
    assert (refund["status"], refund["decision_rule"], refund["decided_by"]) == (
        "succeeded", "admin_one_step", "admin:key_admin")


def test_a_request_above_the_amount_waits(rules):
    storage = rules(auto_approve_max_amount={"USD": 2000})
    payment = new_payment(storage)
    refund = _do(storage, request_refund, payment["id"], CUSTOMER, amount=2001, reason="r")
    assert (refund["status"], refund["decision_rule"]) == ("requested", "manual_review")
    assert "above the 20.00 USD" in refund["decision_detail"]


def test_a_customer_request_after_the_window_is_refused_and_nothing_is_kept(rules, clock):
    storage = rules(customer_refund_window_days=30, auto_approve_max_amount={"USD": 2000})
    payment = new_payment(storage)
    clock.now += timedelta(days=30, seconds=1)
    with pytest.raises(RefundWindowClosed) as refused, storage.unit_of_work() as uow:
        request_refund(uow, payment["id"], CUSTOMER, amount=100, reason="late")
    assert refused.value.code == "refund_window_closed"
    with storage.unit_of_work(readonly=True) as uow:
        assert list_refunds(uow, ADMIN, payment_id=payment["id"]) == []
        assert get_payment(uow, payment["id"], ADMIN)["refund_reserved_amount"] == 0
    # the seller and the admin may still ask
    assert _do(storage, request_refund, payment["id"], SELLER, amount=100,
               reason="goodwill")["status"] == "requested"


def test_on_the_last_day_of_the_window_a_small_request_is_still_approved(rules, clock):
    storage = rules(customer_refund_window_days=30, auto_approve_max_amount={"USD": 2000})
    payment = new_payment(storage)
    clock.now += timedelta(days=30)
    refund = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="r")
    assert refund["decision_rule"] == "customer_small_recent"


def test_a_sellers_own_request_is_auto_approved_when_configured(rules):
    storage = rules(seller_requests_auto_approve=True)
    payment = new_payment(storage)
    refund = _do(storage, request_refund, payment["id"], SELLER, reason="sold out")
    assert (refund["status"], refund["amount"], refund["decision_rule"]) == (
        "succeeded", 10000, "seller_own_sale")
    customer = new_payment(storage)
    waiting = _do(storage, request_refund, customer["id"], CUSTOMER, amount=1, reason="r")
    assert waiting["decision_rule"] == "manual_review"


def test_changing_the_policy_through_the_service_changes_decisions(rules):
    storage = rules()  # configured: nothing automatic
    payment = new_payment(storage)
    with storage.unit_of_work(readonly=True) as uow:
        assert get_refund_policy(uow, ADMIN)["source"] == "configuration"
    assert _do(storage, request_refund, payment["id"], CUSTOMER, amount=100,
               reason="r")["status"] == "requested"
    state = _set(storage, **SMALL)
    assert (state["source"], state["version"], state["updated_by"]) == (
        "admin", 1, "admin:key_admin")
    assert _do(storage, request_refund, payment["id"], CUSTOMER, amount=100,
               reason="r")["status"] == "succeeded"
    assert _set(storage)["version"] == 2  # everything off again
    assert _do(storage, request_refund, payment["id"], CUSTOMER, amount=100,
               reason="r")["status"] == "requested"
    with storage.unit_of_work(readonly=True) as uow:
        audit = uow.records.audit_trail("refund_policy", "refund_policy")
    assert [(a["action"], a["after"]["version"]) for a in audit] == [
        ("refund_policy.updated", 1), ("refund_policy.updated", 2)]
    assert audit[0]["before"]["auto_approve_max_amount"] == {}
    assert audit[1]["before"]["auto_approve_max_refund_rate"] == "0.10"


def test_a_stored_policy_overrides_the_configured_one(rules):
    configured = rules(auto_approve_max_amount={"USD": 2000})
    _set(configured, auto_approve_max_amount={"USD": 50})
    payment = new_payment(configured)
    refund = _do(configured, request_refund, payment["id"], CUSTOMER, amount=100, reason="r")
    assert refund["decision_rule"] == "manual_review"


def _rate_facts(storage, payment, actor=CUSTOMER, amount=1):
    with storage.unit_of_work() as uow:
        decision = decide_request(uow, get_payment(uow, payment["id"], ADMIN), actor, amount)
    return decision


def test_the_past_refund_rate_is_refunded_over_captured_in_the_currency(rules, engine):
    storage = rules(auto_approve_max_amount={"USD": 100000, "EUR": 100000},
                    auto_approve_max_refund_rate=Decimal("0.25"))
    first = new_payment(storage, subtotal=10000)
    second = new_payment(storage, subtotal=30000, item_id="course_2")
    new_payment(storage, subtotal=50000, capture=False, item_id="course_3")  # not captured
    euros = new_payment(storage, subtotal=10000, currency="EUR", item_id="course_4")
    other = new_payment(storage, subtotal=10000, customer_id="cust_2", item_id="course_5")
    _do(storage, refund_payment, other["id"], ADMIN, reason="another customer's")
    _do(storage, refund_payment, euros["id"], ADMIN, reason="in euros")
    _do(storage, refund_payment, first["id"], ADMIN, amount=6000, reason="r")
    _do(storage, request_refund, second["id"], ADMIN, amount=9000, reason="open, not counted")
    # USD: 6000 refunded of 40000 captured = 0.15
    assert "past refund rate 0.150000 ≤ 0.25" in _rate_facts(storage, second).detail
    _do(storage, refund_payment, first["id"], ADMIN, amount=4000, reason="r")
    # 10000 / 40000 = 0.25: at the limit, still approved
    assert _rate_facts(storage, second).outcome == "approve"
    _do(storage, refund_payment, second["id"], ADMIN, amount=1, reason="r")
    decision = _rate_facts(storage, second)
    assert (decision.outcome, decision.detail) == (
        "wait", "past refund rate 0.250025 is above 0.25")
    # EUR is its own history: 10000 / 10000
    assert _rate_facts(storage, euros).outcome == "wait"
    fresh = new_payment(storage, subtotal=10000, currency="EUR", item_id="course_6")
    assert "past refund rate 0.500000" in _rate_facts(storage, fresh).detail


def test_a_customer_with_a_high_refund_rate_waits(rules):
    storage = rules(auto_approve_max_amount={"USD": 2000},
                    auto_approve_max_refund_rate=Decimal("0.10"))
    payment = new_payment(storage)
    first = _do(storage, request_refund, payment["id"], CUSTOMER, amount=1000, reason="r")
    assert first["decision_rule"] == "customer_small_recent"  # rate 0 before it
    second = _do(storage, request_refund, payment["id"], CUSTOMER, amount=1000, reason="r")
    assert second["decision_rule"] == "customer_small_recent"  # 0.10: at the limit
    third = _do(storage, request_refund, payment["id"], CUSTOMER, amount=1000, reason="r")
    assert (third["status"], third["decision_rule"]) == ("requested", "manual_review")


def test_the_payment_history_names_the_auto_approved_refund(rules):
    storage = rules(auto_approve_max_amount={"USD": 2000})
    payment = new_payment(storage)
    refund = _do(storage, request_refund, payment["id"], CUSTOMER, amount=500, reason="r")
    with storage.unit_of_work(readonly=True) as uow:
        events = payment_history(uow, payment["id"], ADMIN)
    assert (events[-1]["to_status"], events[-1]["reason"]) == ("partially_refunded",
                                                               f"refund {refund['id']}")


def test_an_upgrade_names_the_rule_of_refunds_decided_before_rules(empty_engine):
    """Before 0007 only an admin decided: decided refunds say ``admin``, undecided or
    withdrawn requests ``manual_review``."""
    from sqlalchemy import text

    from paytrack.adapters.storage.migrate import migrate
    from tests.integration.test_migrations import _seed_0002

    migrate(empty_engine, "0002")
    _seed_0002(empty_engine, paid_to="s1")  # one succeeded refund, re_1
    migrate(empty_engine, "0006")
    with empty_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO refunds (id, payment_id, currency, amount, status, reason, "
            "requested_by, metadata, created_at, updated_at) VALUES ('re_2', 'pay_1', "
            "'USD', 50, 'requested', 'r', 'customer:cust', '{}', :now, :now)"),
            {"now": datetime(2026, 11, 2)})
    migrate(empty_engine)
    with empty_engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, decision_rule FROM refunds")).all())
    assert rows == {"re_1": "admin", "re_2": "manual_review"}
