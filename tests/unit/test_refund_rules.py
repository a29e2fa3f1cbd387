"""The refund rules decide a request from the policy and its facts alone."""

from datetime import timedelta
from decimal import Decimal

import pytest

from paytrack.domain.actors import Role
from paytrack.domain.errors import InvalidCurrency, InvalidRate, ValidationFailed
from paytrack.domain.refund_rules import Facts, RefundPolicy, Rule, decide, policy_from_json

DAY = timedelta(days=1)
SMALL_RECENT = RefundPolicy(auto_approve_max_amount={"USD": 2000}, auto_approve_within_days=14,
                            auto_approve_max_refund_rate=Decimal("0.10"))


def facts(role: Role = Role.CUSTOMER, *, amount: int = 1000, currency: str = "USD",
          since: timedelta | None = 3 * DAY, refunded: int = 0, captured: int = 10000) -> Facts:
    return Facts(requester=role, amount=amount, currency=currency, payment_total=10000,
                 since_capture=since, refunded=refunded, captured=captured)


def outcome(policy: RefundPolicy, facts: Facts) -> tuple[str, str]:
    decision = decide(policy, facts)
    return decision.outcome, decision.rule


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SELLER, Role.ADMIN])
def test_without_configuration_every_request_waits_for_an_admin(role):
    assert outcome(RefundPolicy(), facts(role)) == ("wait", Rule.MANUAL_REVIEW)


def test_a_small_recent_customer_request_with_a_low_refund_rate_is_approved():
    decision = decide(SMALL_RECENT, facts())
    assert (decision.outcome, decision.rule) == ("approve", Rule.CUSTOMER_SMALL_RECENT)
    assert "10.00 USD ≤ 20.00 USD" in decision.detail


def test_exactly_the_maximum_amount_is_approved_one_minor_unit_more_waits():
    assert outcome(SMALL_RECENT, facts(amount=2000)) == ("approve", Rule.CUSTOMER_SMALL_RECENT)
    assert outcome(SMALL_RECENT, facts(amount=2001)) == ("wait", Rule.MANUAL_REVIEW)


def test_exactly_n_days_after_capture_is_approved_a_microsecond_later_waits():
    exactly = 14 * DAY
    assert outcome(SMALL_RECENT, facts(since=exactly)) == ("approve",
                                                           Rule.CUSTOMER_SMALL_RECENT)
    assert outcome(SMALL_RECENT, facts(since=exactly + timedelta(microseconds=1))) == (
        "wait", Rule.MANUAL_REVIEW)


def test_a_rate_equal_to_the_maximum_is_approved_a_higher_one_waits():
    assert outcome(SMALL_RECENT, facts(refunded=1000, captured=10000)) == (
        "approve", Rule.CUSTOMER_SMALL_RECENT)
    assert outcome(SMALL_RECENT, facts(refunded=1001, captured=10000)) == (
        "wait", Rule.MANUAL_REVIEW)
    # exact, not rounded: 1/9 is 0.111…, just above 0.111111
    policy = RefundPolicy(auto_approve_max_amount={"USD": 2000},
                          auto_approve_max_refund_rate=Decimal("0.111111"))
    assert outcome(policy, facts(refunded=1, captured=9)) == ("wait", Rule.MANUAL_REVIEW)


def test_the_amount_limit_is_per_currency():
    assert outcome(SMALL_RECENT, facts(currency="EUR")) == ("wait", Rule.MANUAL_REVIEW)
    jpy = RefundPolicy(auto_approve_max_amount={"JPY": 3000})
    assert outcome(jpy, facts(currency="JPY", amount=3000)) == ("approve",
                                                                Rule.CUSTOMER_SMALL_RECENT)


def test_unset_conditions_are_not_checked():
    amount_only = RefundPolicy(auto_approve_max_amount={"USD": 2000})
    assert outcome(amount_only, facts(since=900 * DAY, refunded=9000)) == (
        "approve", Rule.CUSTOMER_SMALL_RECENT)


def test_an_unknown_capture_time_never_approves_by_age_nor_refuses():
    policy = RefundPolicy(auto_approve_max_amount={"USD": 2000}, auto_approve_within_days=14,
                          customer_refund_window_days=30)
    assert outcome(policy, facts(since=None)) == ("wait", Rule.MANUAL_REVIEW)


def test_a_customer_request_after_the_window_is_refused_exactly_on_its_edge_it_is_not():
    policy = RefundPolicy(customer_refund_window_days=30)
    assert outcome(policy, facts(since=30 * DAY)) == ("wait", Rule.MANUAL_REVIEW)
    decision = decide(policy, facts(since=30 * DAY + timedelta(seconds=1)))
    assert (decision.outcome, decision.rule) == ("refuse", Rule.REFUND_WINDOW)
    assert "within 30 days" in decision.detail


def test_the_window_comes_before_automatic_approval():
    policy = RefundPolicy(auto_approve_max_amount={"USD": 2000}, customer_refund_window_days=7)
    assert outcome(policy, facts(since=8 * DAY)) == ("refuse", Rule.REFUND_WINDOW)


@pytest.mark.parametrize("role", [Role.SELLER, Role.ADMIN])
def test_the_window_applies_to_customers_only(role):
    policy = RefundPolicy(customer_refund_window_days=1)
    assert outcome(policy, facts(role, since=100 * DAY)) == ("wait", Rule.MANUAL_REVIEW)


def test_a_sellers_own_request_is_approved_when_the_policy_says_so():
    policy = RefundPolicy(seller_requests_auto_approve=True)
    assert outcome(policy, facts(Role.SELLER, amount=10000)) == ("approve",
                                                                 Rule.SELLER_OWN_SALE)
    assert outcome(policy, facts(Role.CUSTOMER)) == ("wait", Rule.MANUAL_REVIEW)


def test_admin_requests_always_wait_customer_rules_do_not_apply_to_them():
    policy = RefundPolicy(auto_approve_max_amount={"USD": 2000},
                          seller_requests_auto_approve=True)
    assert outcome(policy, facts(Role.ADMIN)) == ("wait", Rule.MANUAL_REVIEW)


def test_a_policy_round_trips_through_json_and_refuses_unknown_fields():
    assert policy_from_json(SMALL_RECENT.to_json()) == SMALL_RECENT
    assert SMALL_RECENT.to_json()["auto_approve_max_refund_rate"] == "0.10"
    assert policy_from_json({}) == RefundPolicy()
    with pytest.raises(ValidationFailed, match="unknown refund policy fields: approve_all"):
        policy_from_json({"approve_all": True})


@pytest.mark.parametrize(("values", "error"), [
    ({"auto_approve_max_amount": {"XYZ": 100}}, InvalidCurrency),
    ({"auto_approve_max_amount": {"USD": 0}}, ValidationFailed),
    ({"auto_approve_max_amount": {"USD": 20.5}}, ValidationFailed),
    ({"auto_approve_max_amount": {"USD": True}}, ValidationFailed),
    ({"auto_approve_max_amount": {"USD": 10**15}}, ValidationFailed),
    ({"auto_approve_within_days": -1}, ValidationFailed),
    ({"customer_refund_window_days": 3651}, ValidationFailed),
    ({"customer_refund_window_days": 1.5}, ValidationFailed),
    ({"auto_approve_max_refund_rate": "1.5"}, InvalidRate),
    ({"auto_approve_max_refund_rate": 0.1}, InvalidRate),
    ({"seller_requests_auto_approve": "yes"}, ValidationFailed),
])
def test_invalid_policies_are_refused(values, error):
    with pytest.raises(error):
        policy_from_json(values)
