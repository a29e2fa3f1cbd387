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

_RATE_TEXT = re.compile(r"^(0(\.\d{1,6})?|1(\.0{1,6})?|\.\d{1,6})$")


class CommissionBase(StrEnum):
    TOTAL = "total"  # commission on everything paid, as in the multi-vendor seed
    NET = "net"  # commission on subtotal - discount; tax passes through to the platform


class Bearer(StrEnum):
    PLATFORM = "platform"
    SELLER = "seller"


def parse_rate(value: object) -> Decimal:
    """A commission rate: a decimal-string fraction from 0 to 1 with at most 6 places."""
    if isinstance(value, Decimal):
        value = format(value, "f")
    if not isinstance(value, str) or not _RATE_TEXT.match(value.strip()):
        raise InvalidRate(
            f"commission rate {value!r} must be a decimal string between '0' and '1', e.g. '0.10'"
        )
    return Decimal(value.strip())


@dataclass(frozen=True, slots=True)
class Policy:
    """The platform's money rules (from configuration)."""

    commission_rate: Decimal = Decimal("0.20")
    commission_base: CommissionBase = CommissionBase.TOTAL
    shipping_collected_by: Bearer = Bearer.SELLER
    gateway_fee_bearer: Bearer = Bearer.PLATFORM


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


def compute_split(breakdown: Breakdown, rate: Decimal, policy: Policy) -> Split:
    """``platform_fee = round_half_up(base × rate)``; the seller gets the rest of the base."""
    assert Decimal(0) <= rate <= Decimal(1)
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


def refund_split(split: Split, refunded_before: int, refunded_after: int) -> Split:
    """The legs of one refund: ``allocate(after) - allocate(before)``, so legs never drift.

    After any sequence of partial refunds, each leg's cumulative refund is within one
    minor unit of its exact share, and a full refund returns every leg exactly.
    """
    assert 0 <= refunded_before <= refunded_after <= split.total
    after = allocate(refunded_after, split.legs)
    before = allocate(refunded_before, split.legs)
    return Split(*(a - b for a, b in zip(after, before, strict=True)))
