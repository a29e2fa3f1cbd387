"""Revenue analytics: what each journal entry about a payment adds to the figures.

Every entry about a payment (its capture, a refund, a dispute opened, won or lost, a fee
adjusted by a settlement report) appends one *revenue delta* in the entry's transaction:
the payment's dimensions (``RevenueTags``), the local day, and the measures below. The
measures are computed here, from the entry's postings by account code and from its kind,
so a figure can never disagree with the balances; the few things postings cannot show
(the payment's discount, a dispute's amount apart from its fee) come from ``RevenueTags``.
A payment that ends unpaid adds a delta without an entry (``ended_unpaid``).

The measures, signed, in minor units (counts where said):

    captured           payments captured (count)
    failed             payments that ended unpaid: failed, canceled or expired (count); a
                       confirmation after that takes it back on the same day
    gross              what customers paid at capture: the payments' totals (what the
                       gateway's clearing account took in)
    discount           the payments' discounts at capture, whoever funds them
    platform_discount  platform:discounts: platform-funded discounts at capture, less what
                       refunds and lost disputes returned
    tax                platform:tax_payable: tax the platform collects (commission base
                       ``net``), less refunds and lost disputes
    shipping           platform:shipping, likewise
    platform_revenue   platform:revenue: commission, less the platform's part of refunds and
                       lost disputes
    seller_earnings    what the sellers' accounts gained from payments: their shares at
                       capture, less gateway fees they bear and the seller part of refunds
                       and disputes (back when a dispute is won); payouts are not in it
    fees               gateway fees: taken at capture (whoever bears them), plus what a
                       settlement report changed (a dispute's fee is not a gateway fee here:
                       it stays in platform:disputes)
    refunded, refunds  money refunded to customers; refunds that succeeded (count)
    disputed           amounts taken back by disputes opened, less those returned by disputes
                       won; ``disputes`` counts disputes opened
    dispute_losses     amounts of disputes lost

and, derived, ``net = gross − refunded − dispute_losses``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from paytrack.domain.ledger import JournalEntry

# Entry kinds with a meaning of their own here (the domain modules that build them name
# them the same way).
CAPTURED = "payment.captured"
REFUNDED = "refund.succeeded"
DISPUTE_OPENED = "dispute.opened"
DISPUTE_WON = "dispute.won"
DISPUTE_LOST = "dispute.lost"


@dataclass(frozen=True, slots=True)
class Measures:
    """What a delta, a rollup row or a range adds up to (see the module docstring)."""

    captured: int = 0
    failed: int = 0
    gross: int = 0
    discount: int = 0
    platform_discount: int = 0
    tax: int = 0
    shipping: int = 0
    platform_revenue: int = 0
    seller_earnings: int = 0
    fees: int = 0
    refunded: int = 0
    refunds: int = 0
    disputed: int = 0
    disputes: int = 0
    dispute_losses: int = 0

    def __add__(self, other: Measures) -> Measures:
        return Measures(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    @property
    def net(self) -> int:
        return self.gross - self.refunded - self.dispute_losses

    def values(self) -> tuple[int, ...]:
        """The measures in ``MEASURES`` order (``dataclasses.astuple`` deep-copies: 20×
        slower, and a rebuild adds a million of these)."""
        return tuple(getattr(self, name) for name in MEASURES)

    def as_dict(self) -> dict[str, int]:
        return dict(zip(MEASURES, self.values(), strict=True))

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Measures:
        """From a mapping with (at least) every measure's name."""
        return cls(*(int(values[name]) for name in MEASURES))

    def __bool__(self) -> bool:
        return any(self.values())


MEASURES: tuple[str, ...] = tuple(f.name for f in fields(Measures))
ZERO = Measures()


@dataclass(frozen=True, slots=True)
class RevenueTags:
    """What analytics needs of the payment an entry is about: its dimensions, its discount
    (counted when it is captured) and, for a dispute's entries, the dispute's amount (their
    postings mix in the dispute's fee). The ledger refuses an entry about a payment
    without them, so no call site can forget a delta."""

    payment_id: str
    currency: str
    seller_id: str
    customer_id: str
    item_type: str
    item_id: str
    method: str
    gateway: str
    coupon_id: str | None
    discount_funded_by: str | None
    discount: int
    dispute_amount: int = 0

    @classmethod
    def of(cls, payment: Mapping[str, Any], *, dispute_amount: int = 0) -> RevenueTags:
        """A payment's tags (a ``Payment`` record, or a row with its columns)."""
        return cls(payment["id"], payment["currency"], payment["seller_id"],
                   payment["customer_id"], payment["item_type"], payment["item_id"],
                   payment["method"], payment["gateway"], payment["coupon_id"],
                   payment["discount_funded_by"], payment["discount"], dispute_amount)

    def dimensions(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in DIMENSIONS}


# What a delta is grouped by, besides its local day.
DIMENSIONS = ("currency", "seller_id", "customer_id", "item_type", "item_id", "method",
              "gateway", "coupon_id", "discount_funded_by")


def posting_measures(kind: str, postings: Iterable[tuple[str, int]]) -> Measures:
    """What an entry's postings say, as (account code, signed amount: debit > 0) pairs.

    Credit-normal accounts (platform:revenue, tax, shipping, sellers') count a credit as a
    gain; platform:discounts (debit-normal) counts a debit. The gateway's clearing account
    gives a capture's gross (what it took in) and fee (what the gateway kept), and a
    refund's amount (what it gave back); platform:fees gives a fee adjusted later (at
    capture the fee is read from clearing, whoever bears it). platform:disputes holds
    disputed money and dispute fees: the dispute measures come from ``fact_measures``."""
    values = dict.fromkeys(MEASURES, 0)
    for code, amount in postings:
        if code == "platform:revenue":
            values["platform_revenue"] -= amount
        elif code == "platform:tax_payable":
            values["tax"] -= amount
        elif code == "platform:shipping":
            values["shipping"] -= amount
        elif code == "platform:discounts":
            values["platform_discount"] += amount
        elif code.startswith("seller:"):
            values["seller_earnings"] -= amount
        elif code.startswith("gateway:"):
            if kind == CAPTURED:
                values["gross" if amount > 0 else "fees"] += abs(amount)
            elif kind == REFUNDED:
                values["refunded"] -= amount
        elif code == "platform:fees" and kind != CAPTURED:
            values["fees"] += amount
    values["captured"] = int(kind == CAPTURED)
    values["refunds"] = int(kind == REFUNDED)
    values["disputes"] = int(kind == DISPUTE_OPENED)
    return Measures.of(values)


def fact_measures(kind: str, tags: RevenueTags) -> Measures:
    """What the postings of an entry of ``kind`` cannot show: the payment's discount at
    capture, and a dispute's amount."""
    if kind == CAPTURED:
        return Measures(discount=tags.discount)
    if kind == DISPUTE_OPENED:
        return Measures(disputed=tags.dispute_amount)
    if kind == DISPUTE_WON:
        return Measures(disputed=-tags.dispute_amount)
    if kind == DISPUTE_LOST:
        return Measures(dispute_losses=tags.dispute_amount)
    return ZERO


def measures_of(entry: JournalEntry) -> Measures:
    """An entry's delta: its postings and its kind, plus the facts its tags carry."""
    assert entry.about is not None, "an entry about a payment carries its tags"
    postings = ((p.account.code, p.amount_minor) for p in entry.postings)
    return posting_measures(entry.kind, postings) + fact_measures(entry.kind, entry.about)


def ended_unpaid(count: int = 1) -> Measures:
    """A payment that ended unpaid (failed, canceled, expired): ``count`` 1; a late
    confirmation of one takes it back with -1."""
    return Measures(failed=count)


class AnalyticsState(TypedDict):
    """The rollups' state, one row: the time zone they were built in (None: they hold
    nothing yet, and the first fold adopts the configured one), whether history awaits a
    rebuild (an install upgraded with payments already made), and the last rebuild."""

    id: int
    tz: str | None
    rebuild_required: bool
    built_at: datetime | None


class RevenueDifference(TypedDict):
    """A measure whose rollup (plus the deltas not yet folded) is not what the ledger
    says: ``stored`` from ``rollup``, ``expected`` recomputed from postings and payments,
    over all of history (``period`` None) or, where those agree, on one local day (or
    month, its first day): a delta folded on the wrong day, or dated in a stale zone.
    ``group`` (seller, item, method and gateway, or coupon) where the totals agree but one
    group's figures over all of history do not: a figure counted as another's."""

    rollup: str
    currency: str
    period: date | None
    measure: str
    stored: int
    expected: int
    group: NotRequired[dict[str, str | None]]
