"""The amount breakdown of a payment and its split between seller and platform.

The split is fixed when a payment is created. It has up to four legs that always sum to
the total: the seller's share, the platform's commission, and pass-through tax and
shipping the platform collects. Refunds take back each leg in proportion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from paytrack.domain.errors import InvalidAmount, InvalidRate, ValidationFailed
from paytrack.domain.limits import check_amount
from paytrack.domain.money import allocate, round_half_up
from paytrack.domain.payouts import PayoutRules
from paytrack.domain.periods import zone

# A rate's one grammar, for the API's schema and the domain alike: "0", "1", "0." and 1 to 6
# digits, or "1." and 1 to 6 zeros. (ASCII digits only; no sign, no spaces, no ".5".)
RATE_PATTERN = r"^(0|0\.[0-9]{1,6}|1|1\.0{1,6})$"
RATE_EXPECTED = ('a fraction from "0" to "1" as a decimal string with at most 6 decimal '
                 'places ("0.10" is 10%)')
_RATE_TEXT = re.compile(RATE_PATTERN)


class CommissionBase(StrEnum):
    TOTAL = "total"  # commission on everything paid, as in the multi-vendor seed
    NET = "net"  # commission on subtotal - discount; tax passes through to the platform


class Bearer(StrEnum):
    PLATFORM = "platform"
    SELLER = "seller"


def parse_rate(value: object) -> Decimal:
    """A commission rate in its one grammar (``RATE_PATTERN``)."""
    if isinstance(value, Decimal):
        value = format(value, "f")
    if not isinstance(value, str) or not _RATE_TEXT.fullmatch(value):
        raise InvalidRate(f"commission rate {value!r}: expected {RATE_EXPECTED}, e.g. '0.10'")
    return Decimal(value)


@dataclass(frozen=True, slots=True)
class Policy:
    """The platform's money rules (from configuration)."""

    commission_rate: Decimal = Decimal("0.20")
    commission_base: CommissionBase = CommissionBase.TOTAL
    shipping_collected_by: Bearer = Bearer.SELLER
    gateway_fee_bearer: Bearer = Bearer.PLATFORM
    hold_days: int = 7  # a capture's earnings stay pending this long (a seller may differ)
    payouts: PayoutRules = PayoutRules()  # the smallest payout, per currency
    # Days a subscription stays past_due (service on) before it expires unpaid.
    subscription_grace_days: int = 7
    # The IANA time zone whose local days analytics count in (PAYTRACK_ANALYTICS_TZ).
    analytics_tz: str = "UTC"

    def __post_init__(self) -> None:
        zone(self.analytics_tz)  # a ValueError naming the setting's problem


@dataclass(frozen=True, slots=True)
class Breakdown:
    subtotal: int
    discount: int = 0
    tax: int = 0
    shipping: int = 0

    def __post_init__(self) -> None:
        for name in ("subtotal", "discount", "tax", "shipping"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidAmount(f"{name} must be an integer count of minor units", field=name)
            if value < 0:
                raise InvalidAmount(f"{name} must not be negative", field=name)
            check_amount(value, name)
        if self.subtotal <= 0:
            raise InvalidAmount("subtotal must be positive", field="subtotal")
        if self.discount > self.subtotal:
            raise ValidationFailed(
                f"discount {self.discount} exceeds subtotal {self.subtotal}", field="discount"
            )
        if self.total <= 0:
            raise InvalidAmount("total must be positive", field="total")
        check_amount(self.total, "total")

    @property
    def net(self) -> int:
        return self.subtotal - self.discount

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.tax + self.shipping


@dataclass(frozen=True, slots=True)
class Split:
    """The legs of a payment. ``sum(legs) == total`` always."""

    seller_amount: int
    platform_fee: int
    tax_collected: int = 0  # to platform:tax_payable
    shipping_collected: int = 0  # to platform:shipping

    @property
    def legs(self) -> list[int]:
        return [self.seller_amount, self.platform_fee, self.tax_collected, self.shipping_collected]

    @property
    def total(self) -> int:
        return sum(self.legs)


def compute_split(breakdown: Breakdown, rate: Decimal, policy: Policy, *,
                  platform_discount: int = 0) -> Split:
    """``platform_fee = round_half_up(base × rate)``; the seller gets the rest of the base.

    ``platform_discount`` is the part of the discount the platform funds: the split is then
    computed as if the payment were undiscounted by it, so its legs sum to
    ``total + platform_discount`` and the platform pays the difference
    (``platform:discounts``); the seller is not paid less for the platform's promotion."""
    assert Decimal(0) <= rate <= Decimal(1)
    assert 0 <= platform_discount <= breakdown.discount
    if platform_discount:
        breakdown = Breakdown(breakdown.subtotal, breakdown.discount - platform_discount,
                              breakdown.tax, breakdown.shipping)
    if policy.commission_base is CommissionBase.TOTAL:
        fee = round_half_up(breakdown.total * rate)
        return Split(seller_amount=breakdown.total - fee, platform_fee=fee)
    fee = round_half_up(breakdown.net * rate)
    platform_ships = policy.shipping_collected_by is Bearer.PLATFORM
    seller = breakdown.net - fee + (0 if platform_ships else breakdown.shipping)
    return Split(
        seller_amount=seller,
        platform_fee=fee,
        tax_collected=breakdown.tax,
        shipping_collected=breakdown.shipping if platform_ships else 0,
    )


def taken_back(split: Split, paid: int, before: int, after: int) -> tuple[Split, int]:
    """The legs a refund (or a lost dispute) takes back when the customer's cumulative
    amount taken back goes from ``before`` to ``after`` of ``paid`` (the payment's total),
    and what returns to ``platform:discounts``.

    Without a platform-funded discount the legs sum to ``paid`` and this is
    ``refund_split``. With one, they sum to ``paid + discount``: a customer's ``h`` maps
    to ``⌊h × split.total / paid⌋`` of the legs (all of them at ``h = paid``), and the
    discount gets back the difference, which is never negative (the map grows at least as
    fast as ``h``)."""
    assert 0 <= before <= after <= paid <= split.total
    gross = split.total

    def scaled(h: int) -> int:
        return h * gross // paid

    parts = refund_split(split, scaled(before), scaled(after))
    discount_part = (scaled(after) - scaled(before)) - (after - before)
    assert discount_part >= 0
    return parts, discount_part


def refund_split(split: Split, refunded_before: int, refunded_after: int) -> Split:
    """The legs of one refund: ``refunded_legs(after) - refunded_legs(before)``.

    Computed from the cumulative amounts, so two refunds computed independently agree and
    the legs never drift; every part is >= 0 because ``refunded_legs`` is house-monotone.
    """
    assert 0 <= refunded_before <= refunded_after <= split.total
    after = refunded_legs(split, refunded_after).legs
    before = refunded_legs(split, refunded_before).legs
    parts = Split(*(a - b for a, b in zip(after, before, strict=True)))
    assert min(parts.legs) >= 0, "a refund never adds to a leg"
    return parts


def refunded_legs(split: Split, refunded: int) -> Split:
    """How much of each leg a cumulative refund of ``refunded`` has taken back.

    A house-monotone quota apportionment: each leg is the floor or the ceiling of its exact
    share ``refunded × leg / total``, and no leg ever decreases as ``refunded`` grows, so no
    refund moves a leg backwards; at ``refunded == total`` every leg comes back exactly.

    Two non-zero legs: largest remainder (it is house-monotone for two parties). Three or
    four: largest remainder is not (the Alabama paradox), so the legs are taken in two
    pairs, goods ``(seller, platform)`` and pass-through ``(tax, shipping)``, with
    ``h = refunded`` and ``T = total``:

    - goods get ``g = ⌊h·(s+p)/T⌋``, whose exact share lies in ``[g, g+1)``; pass-through
      gets ``n = h − g``, whose exact share lies in ``(n−1, n]``;
    - in goods, with ``r = s/(s+p)``, the seller gets ``⌊(g+1)·r⌋`` and the platform the rest,
      ``⌈(g+1)·(1−r)⌉ − 1``; the seller's exact share lies in ``[g·r, (g+1)·r)`` and the
      platform's in ``[g·(1−r), (g+1)·(1−r))``, so each count is its floor or its ceiling;
    - in pass-through, with ``r = t/(t+x)``, tax gets ``⌊(n−1)·r⌋ + 1`` and shipping the rest,
      ``⌈(n−1)·(1−r)⌉``; their exact shares lie in ``((n−1)·r, n·r]`` and
      ``((n−1)·(1−r), n·(1−r)]``, so again each count is a floor or a ceiling;
    - ``g`` grows by 0 or 1 when ``h`` grows by 1, and inside a pair the first leg grows by
      0 or 1 when the pair's count grows by 1 (``r ≤ 1``), the second by the complement: no
      leg ever shrinks. (A pair with one non-zero leg gives it the pair's count.)

    Balinski and Young's quota method has the same two properties but gives seats one at
    a time, which would take a walk of ``refunded`` steps; this is a few integer operations
    for any amount.
    """
    total = split.total
    assert 0 <= refunded <= total
    legs = split.legs
    if sum(1 for leg in legs if leg) <= 2:
        return Split(*allocate(refunded, legs))
    seller, platform, tax, shipping = legs
    goods = refunded * (seller + platform) // total
    seller_part, platform_part = _pair_at_floor(goods, seller, platform)
    tax_part, shipping_part = _pair_at_ceiling(refunded - goods, tax, shipping)
    return Split(seller_part, platform_part, tax_part, shipping_part)


def _pair_at_floor(count: int, first: int, second: int) -> tuple[int, int]:
    """Split a pair's ``count`` when the pair's exact share lies in ``[count, count + 1)``."""
    if not second:
        return count, 0
    part = (count + 1) * first // (first + second)
    return part, count - part


def _pair_at_ceiling(count: int, first: int, second: int) -> tuple[int, int]:
    """Split a pair's ``count`` when the pair's exact share lies in ``(count - 1, count]``."""
    if not first or not second:
        return (count, 0) if first else (0, count)
    part = (count - 1) * first // (first + second) + 1
    return part, count - part
