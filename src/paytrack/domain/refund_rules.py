"""Refund rules: what happens to a refund request the moment it is made.

A ``RefundPolicy`` (from configuration, replaced at run time through the admin API) and the
facts of one request give a ``Decision``: approve it now, refuse it, or let it wait for an
admin. Every decision names the rule that made it; the names are stable strings, stored
with the refund and shown in its history.

    rule                    applies to          outcome
    refund_window           a customer          refuse: asked more than
                                                ``customer_refund_window_days`` after capture
    customer_small_recent   a customer          approve: ``amount`` at most the currency's
                                                ``auto_approve_max_amount``, and (each if set)
                                                at most ``auto_approve_within_days`` after
                                                capture, past refund rate at most
                                                ``auto_approve_max_refund_rate``
    seller_own_sale         a seller            approve, if ``seller_requests_auto_approve``
    manual_review           everyone else       wait for an admin
    admin / admin_one_step  (not ``decide``)    an admin approved or rejected it, or refunded
                                                in one step

Every field is optional and off by default, so without configuration every request waits,
as before rules existed. Limits are inclusive: exactly the maximum amount, exactly N days
after capture, a rate exactly equal to the maximum all qualify; the window refuses only a
request made after its last instant.

The past refund rate is the customer's money already refunded ÷ money captured from it,
over its captured payments in the request's currency (this payment included; open
requests, this one too, are not refunds yet). It is an exact ``Fraction``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, Literal

from paytrack.domain.actors import Role
from paytrack.domain.errors import InvalidAmount, ValidationFailed
from paytrack.domain.limits import check_amount
from paytrack.domain.money import format_amount, validate_currency
from paytrack.domain.splits import parse_rate

MAX_DAYS = 3650  # ten years: a window or an age beyond it is a typo
MAX_CURRENCIES = 200  # more than ISO 4217 has


class Rule(StrEnum):
    """The rule that made a refund's latest decision (``refunds.decision_rule``)."""

    REFUND_WINDOW = "refund_window"
    CUSTOMER_SMALL_RECENT = "customer_small_recent"
    SELLER_OWN_SALE = "seller_own_sale"
    MANUAL_REVIEW = "manual_review"
    ADMIN = "admin"
    ADMIN_ONE_STEP = "admin_one_step"


Outcome = Literal["approve", "refuse", "wait"]


@dataclass(frozen=True, slots=True)
class RefundPolicy:
    """What the rules decide; each field off when None (or False). Amounts are minor units
    per currency; the rate is a fraction from 0 to 1."""

    auto_approve_max_amount: Mapping[str, int] = field(default_factory=dict)
    auto_approve_within_days: int | None = None
    auto_approve_max_refund_rate: Decimal | None = None
    customer_refund_window_days: int | None = None
    seller_requests_auto_approve: bool = False

    def __post_init__(self) -> None:
        amounts = self.auto_approve_max_amount
        if not isinstance(amounts, Mapping):
            raise ValidationFailed("auto_approve_max_amount must map currency codes to amounts",
                                   field="auto_approve_max_amount")
        if len(amounts) > MAX_CURRENCIES:
            raise ValidationFailed(f"auto_approve_max_amount has more than {MAX_CURRENCIES} "
                                   "currencies", field="auto_approve_max_amount")
        for currency, amount in amounts.items():
            name = f"auto_approve_max_amount.{currency}"
            validate_currency(currency)
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise InvalidAmount(f"{name} must be a positive integer of minor units",
                                    field=name)
            check_amount(amount, name)
        for name in ("auto_approve_within_days", "customer_refund_window_days"):
            days = getattr(self, name)
            if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                                     or not 0 <= days <= MAX_DAYS):
                raise ValidationFailed(f"{name} must be a whole number of days from 0 to "
                                       f"{MAX_DAYS}", field=name)
        if self.auto_approve_max_refund_rate is not None:
            parse_rate(self.auto_approve_max_refund_rate)
        if not isinstance(self.seller_requests_auto_approve, bool):
            raise ValidationFailed("seller_requests_auto_approve must be true or false",
                                   field="seller_requests_auto_approve")

    def to_json(self) -> dict[str, Any]:
        """The policy as JSON values (the rate as its decimal string)."""
        rate = self.auto_approve_max_refund_rate
        return {
            "auto_approve_max_amount": dict(sorted(self.auto_approve_max_amount.items())),
            "auto_approve_within_days": self.auto_approve_within_days,
            "auto_approve_max_refund_rate": None if rate is None else format(rate, "f"),
            "customer_refund_window_days": self.customer_refund_window_days,
            "seller_requests_auto_approve": self.seller_requests_auto_approve,
        }


FIELDS = frozenset(RefundPolicy.__dataclass_fields__)


def policy_from_json(values: Mapping[str, Any]) -> RefundPolicy:
    """A policy from ``to_json``'s shape, refusing any other field; a field left out is
    off."""
    unknown = set(values) - FIELDS
    if unknown:
        raise ValidationFailed(f"unknown refund policy fields: {', '.join(sorted(unknown))}",
                               field=sorted(unknown)[0])
    rate = values.get("auto_approve_max_refund_rate")
    return RefundPolicy(
        auto_approve_max_amount=dict(values.get("auto_approve_max_amount") or {}),
        auto_approve_within_days=values.get("auto_approve_within_days"),
        auto_approve_max_refund_rate=None if rate is None else parse_rate(rate),
        customer_refund_window_days=values.get("customer_refund_window_days"),
        seller_requests_auto_approve=values.get("seller_requests_auto_approve", False),
    )


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules know of one request. ``since_capture`` is the time from the
    payment's capture to the request (None if the capture time is unknown: no rule that
    depends on it applies). ``refunded``/``captured`` are the customer's past refund rate's
    two sums (``captured`` > 0: this payment is in it)."""

    requester: Role
    amount: int
    currency: str
    payment_total: int
    since_capture: timedelta | None
    refunded: int = 0
    captured: int = 1

    @property
    def refund_rate(self) -> Fraction:
        return Fraction(self.refunded, self.captured) if self.captured > 0 else Fraction(0)


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    rule: Rule
    detail: str


def decide(policy: RefundPolicy, facts: Facts) -> Decision:
    """What to do with a request now: the first rule that applies decides."""
    if facts.requester is Role.CUSTOMER:
        return _customer(policy, facts)
    if facts.requester is Role.SELLER and policy.seller_requests_auto_approve:
        return Decision("approve", Rule.SELLER_OWN_SALE,
                        "a seller's request on its own sale is approved automatically")
    return _wait(f"requests by {facts.requester}s wait for an admin")


def _customer(policy: RefundPolicy, facts: Facts) -> Decision:
    age = facts.since_capture
    window = policy.customer_refund_window_days
    if window is not None and age is not None and age > timedelta(days=window):
        return Decision("refuse", Rule.REFUND_WINDOW,
                        f"customers may ask for a refund within {_days(window)} of the "
                        f"payment's capture; this one was captured {_age(age)} ago")
    limit = policy.auto_approve_max_amount.get(facts.currency)
    if limit is None:
        return _wait(f"no automatic approval is set for {facts.currency}")
    money = f"{_money(facts.amount, facts.currency)}"
    if facts.amount > limit:
        return _wait(f"{money} is above the {_money(limit, facts.currency)} approved "
                     "automatically")
    reasons = [f"{money} ≤ {_money(limit, facts.currency)}"]
    within = policy.auto_approve_within_days
    if within is not None:
        if age is None or age > timedelta(days=within):
            return _wait(f"captured {'at an unknown time' if age is None else _age(age)} "
                         f"ago, not within {_days(within)}")
        reasons.append(f"captured {_age(age)} ago ≤ {_days(within)}")
    max_rate = policy.auto_approve_max_refund_rate
    if max_rate is not None:
        rate = facts.refund_rate
        if rate > Fraction(max_rate):
            return _wait(f"past refund rate {_rate(rate)} is above {format(max_rate, 'f')}")
        reasons.append(f"past refund rate {_rate(rate)} ≤ {format(max_rate, 'f')}")
    return Decision("approve", Rule.CUSTOMER_SMALL_RECENT, "; ".join(reasons))


def _wait(detail: str) -> Decision:
    return Decision("wait", Rule.MANUAL_REVIEW, detail)


def _money(amount: int, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


def _days(days: int) -> str:
    return f"{days} day{'' if days == 1 else 's'}"


def _age(age: timedelta) -> str:
    hours = age.seconds // 3600
    return f"{age.days} d {hours} h" if age.days else f"{hours} h {age.seconds // 60 % 60} min"


def _rate(rate: Fraction) -> str:
    """Six decimals, rounded down (enough to read; the comparison itself is exact)."""
    scaled = rate.numerator * 10**6 // rate.denominator
    return f"{scaled // 10**6}.{scaled % 10**6:06d}"
