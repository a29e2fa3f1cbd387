"""A year of a marketplace's payments for the analytics benchmark: deterministic (seeded),
with the rows each one leaves in the database, built by the domain's own rules.

Shape (for ``payments=1_000_000``; smaller runs scale the parties down): 3 currencies
(USD 55%, EUR 25%, INR 20%); 500 sellers with a Zipf-like skew (the top seller 19% of
sales); 5,000 items, each a seller's, priced per currency; 200,000 customers, a few of
them frequent buyers; methods and gateways per currency; about 5% of payments with a coupon
(platform- or seller-funded); 4% failed; of the captured ones 3% refunded (60% in full)
and 0.5% disputed (won, lost or still open); created over the year with a weekly and a
yearly rhythm and each currency's hours of the day.

Each payment is split by ``domain.splits.compute_split`` under ``POLICY``, and every money
movement is the domain's own journal entry (``capture_entry``, ``refund_entry``, the dispute
entries), so the rows satisfy every constraint of their tables and ``ledger verify``
passes. Simplifications: no earnings are released and nothing is paid out (every seller's
share stays in ``seller:<id>:pending``, as the earnings rows say), no status history,
audit rows or events, no coupon redemptions, one refund at most per payment and disputes
only on payments not refunded.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from paytrack.domain.coupons import fixed_discount, percent_discount
from paytrack.domain.disputes import lost_entry, opened_entry, won_entry
from paytrack.domain.ledger import (
    PLATFORM_DISCOUNTS,
    PLATFORM_DISPUTES,
    PLATFORM_FEES,
    PLATFORM_REVENUE,
    PLATFORM_SHIPPING,
    PLATFORM_TAX_PAYABLE,
    AccountSpec,
    JournalEntry,
    gateway_clearing,
    seller_pending,
)
from paytrack.domain.money import round_half_up
from paytrack.domain.payments import capture_entry, refund_entry
from paytrack.domain.splits import Bearer, Breakdown, CommissionBase, Policy, Split, taken_back
from paytrack.domain.splits import compute_split as _compute_split

POLICY = Policy(commission_base=CommissionBase.NET)  # tax passes through to the platform
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = (YEAR_END - YEAR_START).days
ACTOR = "admin:bench"
SEED = 12

CURRENCIES = {"USD": 55, "EUR": 25, "INR": 20}
# Per currency: (method, gateway, weight).
CHANNELS = {
    "USD": [("card", "stripe", 55), ("paypal", "paypal", 20), ("wallet", "stripe", 10),
            ("bank_transfer", "manual", 8), ("card", "simulator", 5), ("crypto", "manual", 2)],
    "EUR": [("card", "stripe", 55), ("paypal", "paypal", 25), ("bank_transfer", "manual", 12),
            ("wallet", "stripe", 8)],
    "INR": [("upi", "razorpay", 45), ("card", "razorpay", 25), ("net_banking", "razorpay", 15),
            ("wallet", "razorpay", 10), ("cod", "manual", 5)],
}
GATEWAYS = ("stripe", "paypal", "razorpay", "manual", "simulator")
# Gateway fee per (gateway, currency): basis points and a fixed part in minor units.
FEES = {("stripe", "USD"): (290, 30), ("stripe", "EUR"): (150, 25),
        ("paypal", "USD"): (349, 49), ("paypal", "EUR"): (349, 35),
        ("razorpay", "INR"): (200, 0)}
DISPUTE_FEE = {"stripe": 1500}
# Sales tax / VAT / GST: (share of payments taxed, rates to pick from).
TAX = {"USD": (0.5, ("0.0625", "0.0725", "0.08875")), "EUR": (0.8, ("0.19", "0.20", "0.21")),
       "INR": (1.0, ("0.18",))}
SHIPPING = {"USD": 499, "EUR": 450, "INR": 4900}
# A price in USD turned into each currency's own price points (EUR ~0.92, INR ~83).
PRICE_FACTOR = {"USD": 1.0, "EUR": 0.92, "INR": 83.0}
ITEM_TYPES = {"course": (3.6, 0.6), "event": (3.4, 0.5), "product": (3.3, 0.8),
              "service": (4.0, 0.5), "booking": (4.2, 0.6)}  # log-normal of the USD price
SELLER_RATES = ("0.10", "0.15", "0.25", "0.30")  # 20% of sellers have one of their own
HOUR_OFFSET = {"USD": -5, "EUR": 1, "INR": 5}  # where each currency's buyers live
# Buyers' own hours (0-23): quiet at night, busiest in the evening.
LOCAL_HOURS = (3, 2, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 11, 10, 10, 10, 11, 12, 14, 15, 15, 13,
               9, 5)
WEEKDAYS = (0.95, 0.95, 1.0, 1.0, 1.1, 1.2, 1.15)  # Monday first
FAILURES = ("card_declined", "insufficient_funds", "expired_card", "authentication_failed")
DISPUTE_REASONS = ("fraudulent", "product_not_received", "product_unacceptable", "duplicate",
                   "unrecognized", "general")

FAILED_SHARE = 0.04
REFUNDED_SHARE = 0.03
DISPUTED_SHARE = 0.005
COUPON_SHARE = 0.05
CHUNK_PAYMENTS = 50_000  # rows written per transaction (whole days)


@dataclass(frozen=True, slots=True)
class World:
    """The parties: who sells what to whom, and the coupons."""

    sellers: list[dict[str, Any]]
    items: list[dict[str, Any]]
    customers: int
    coupons: list[dict[str, Any]]
    seller_weights: list[float]  # cumulative
    seller_items: dict[str, list[dict[str, Any]]]


@dataclass(slots=True)
class Chunk:
    """The rows of some whole days of payments, in the order they are inserted."""

    payments: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    seller_earnings: list[dict[str, Any]] = field(default_factory=list)
    journal_entries: list[dict[str, Any]] = field(default_factory=list)
    postings: list[tuple[str, str, str, int]] = field(default_factory=list)  # entry, code, cur


def scaled(payments: int) -> tuple[int, int, int]:
    """Sellers, items and customers for a run of ``payments`` (500, 5,000, 200,000 at 1M)."""
    return (min(500, max(20, payments // 2000)), min(5000, max(50, payments // 200)),
            min(200_000, max(100, payments // 5)))


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits at a time


def ulid(prefix: str, when: datetime, rng: random.Random) -> str:
    """An id of ``domain.ids.new_id``'s form at ``when``, its random part from ``rng``."""
    value = int(when.timestamp() * 1000) << 80 | rng.getrandbits(80)
    body = "".join(_PAIRS[value >> shift & 1023] for shift in range(120, -1, -10))
    return f"{prefix}_{body}"


def make_world(payments: int, seed: int) -> World:
    rng = random.Random(seed)
    n_sellers, n_items, n_customers = scaled(payments)
    created = YEAR_START - timedelta(days=400)
    sellers = []
    for i in range(n_sellers):
        rate = rng.choice(SELLER_RATES) if rng.random() < 0.2 else None
        sellers.append({"id": f"seller_{i:03d}", "name": f"Seller {i}",
                        "email": f"seller{i}@example.com", "commission_rate": rate,
                        "metadata": {}, "created_at": created, "updated_at": created,
                        "hold_days": None, "kind": rng.choice(list(ITEM_TYPES))})
    weights = [1 / (rank + 1) ** 1.1 for rank in range(n_sellers)]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    # Every seller has an item; the rest go to sellers in proportion to their sales.
    owners = list(range(n_sellers)) + [_pick(rng, cumulative) for _ in range(n_items - n_sellers)]
    items, by_seller = [], defaultdict(list)
    for n, owner in enumerate(owners):
        seller = sellers[owner]
        kind = seller["kind"] if rng.random() < 0.9 else rng.choice(list(ITEM_TYPES))
        mu, sigma = ITEM_TYPES[kind]
        usd = max(5, round(math.exp(rng.gauss(mu, sigma))))
        item = {"item_type": kind, "id": f"{kind}_{n:05d}", "seller_id": seller["id"],
                "title": f"{kind.title()} {n}", "metadata": {}, "created_at": created,
                "updated_at": created,
                "prices": {c: _price(usd, f) for c, f in PRICE_FACTOR.items()}}
        items.append(item)
        by_seller[seller["id"]].append(item)
    return World(sellers, items, n_customers, _coupons(created), cumulative, dict(by_seller))


def _price(usd: int, factor: float) -> int:
    """A price point: 49.99, 45.99, 4,099.00 (INR prices end in 9 rupees)."""
    if factor > 10:
        return (round(usd * factor / 10) * 10 - 1) * 100
    return max(1, round(usd * factor)) * 100 - 1


def _coupons(created: datetime) -> list[dict[str, Any]]:
    terms = [  # code, kind, percent_off, amount_off, currency, max_discount, funded_by
        ("WELCOME10", "percent", "0.10", None, None, None, "platform"),
        ("SPRING20", "percent", "0.20", None, None, None, "seller"),
        ("BLACKFRIDAY30", "percent", "0.30", None, "USD", 5000, "platform"),
        ("STUDENT15", "percent", "0.15", None, None, None, "seller"),
        ("SAVE5USD", "fixed", None, 500, "USD", None, "platform"),
        ("SAVE5EUR", "fixed", None, 500, "EUR", None, "seller"),
        ("DIWALI200", "fixed", None, 20000, "INR", None, "platform"),
        ("FEST10INR", "percent", "0.10", None, "INR", 50000, "seller"),
    ]
    rng = random.Random(0)
    return [{"id": ulid("cpn", created, rng), "code": code, "code_key": code, "kind": kind,
             "percent_off": pct, "amount_off": off, "currency": cur, "max_discount": cap,
             "min_order_amount": off and 3 * off, "max_redemptions": None,
             "max_redemptions_per_customer": None, "redemptions_held": 0, "starts_at": None,
             "expires_at": None, "funded_by": funded, "active": True,
             "description": f"bench coupon {code}", "deactivated_at": None,
             "deactivation_reason": None, "created_at": created, "updated_at": created}
            for code, kind, pct, off, cur, cap, funded in terms]


def house_accounts(world: World) -> list[tuple[AccountSpec, str]]:
    """Every account the payments can post to, per currency."""
    specs = [PLATFORM_REVENUE, PLATFORM_TAX_PAYABLE, PLATFORM_SHIPPING, PLATFORM_FEES,
             PLATFORM_DISPUTES, PLATFORM_DISCOUNTS, *map(gateway_clearing, GATEWAYS),
             *(seller_pending(s["id"]) for s in world.sellers)]
    return [(spec, currency) for currency in CURRENCIES for spec in specs]


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect.bisect_left(cumulative, rng.random() * cumulative[-1])


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def day_counts(payments: int) -> list[int]:
    """Payments per day: a weekly rhythm, a slow summer, a busy November and December,
    Black Friday and Cyber Monday; the counts add up to ``payments`` exactly."""
    weights = []
    for d in range(DAYS):
        day = YEAR_START.date() + timedelta(days=d)
        w = WEEKDAYS[day.weekday()] * (1 + 0.15 * math.cos(2 * math.pi * (d - 340) / DAYS))
        if day.month in (11, 12):
            w *= 1.25
        if day in (date(2025, 11, 28), date(2025, 12, 1)):
            w *= 2.5
        weights.append(w)
    exact = [payments * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(DAYS), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[:payments - sum(counts)]:
        counts[i] += 1
    return counts


@lru_cache(maxsize=200_000)
def _split(subtotal: int, discount: int, tax: int, shipping: int, rate: str,
           platform_discount: int) -> Split:
    return _compute_split(Breakdown(subtotal, discount, tax, shipping), Decimal(rate), POLICY,
                          platform_discount=platform_discount)


@lru_cache(maxsize=200_000)
def _tax(amount: int, rate: str) -> int:
    return round_half_up(Decimal(amount) * Decimal(rate))


class Generator:
    """``chunks()`` yields the year's payments day by day, in ``Chunk``s of whole days;
    ``balances`` then holds every account's balance in its normal direction."""

    def __init__(self, payments: int, seed: int = SEED) -> None:
        self.payments = payments
        self.world = make_world(payments, seed)
        self.rng = random.Random(seed + 1)
        self.balances: dict[tuple[str, str], int] = defaultdict(int)
        self._currency = _cumulative(list(CURRENCIES.values()))
        self._channels = {c: (_cumulative([w for *_, w in ch]), ch) for c, ch in CHANNELS.items()}
        self._hours = {c: _cumulative([LOCAL_HOURS[(h + off) % 24] for h in range(24)])
                       for c, off in HOUR_OFFSET.items()}
        self._coupons = {c: [k for k in self.world.coupons if k["currency"] in (None, c)]
                         for c in CURRENCIES}
        self._rates = {s["id"]: s["commission_rate"] or str(POLICY.commission_rate)
                       for s in self.world.sellers}
        self._serial = 0

    def chunks(self) -> Iterator[Chunk]:
        chunk = Chunk()
        for d, count in enumerate(day_counts(self.payments)):
            day = YEAR_START + timedelta(days=d)
            for when, currency in sorted(self._moments(day, count)):
                self._payment(chunk, when, currency)
            if len(chunk.payments) >= CHUNK_PAYMENTS:
                yield chunk
                chunk = Chunk()
        if chunk.payments:
            yield chunk

    def _moments(self, day: datetime, count: int) -> Iterator[tuple[datetime, str]]:
        rng, currencies = self.rng, list(CURRENCIES)
        for _ in range(count):
            currency = currencies[_pick(rng, self._currency)]
            hour = _pick(rng, self._hours[currency])
            yield day + timedelta(hours=hour, microseconds=rng.randrange(3_600_000_000)), currency

    def _payment(self, chunk: Chunk, created: datetime, currency: str) -> None:
        rng, world = self.rng, self.world
        self._serial += 1
        seller = world.sellers[_pick(rng, world.seller_weights)]
        own = world.seller_items[seller["id"]]
        item = own[int(len(own) * rng.random() ** 2)]  # a few items sell most
        customer = f"cus_{int(world.customers * rng.random() ** 1.8):06d}"
        weights, channels = self._channels[currency]
        method, gateway, _ = channels[_pick(rng, weights)]
        subtotal = item["prices"][currency]
        coupon, discount, platform_discount = None, 0, 0
        if rng.random() < COUPON_SHARE:
            coupon = rng.choice(self._coupons[currency])
            if subtotal < (coupon["min_order_amount"] or 0):
                coupon = None
            elif coupon["kind"] == "fixed":
                discount = fixed_discount(subtotal, coupon["amount_off"])
            else:
                discount = percent_discount(subtotal, Decimal(coupon["percent_off"]),
                                            coupon["max_discount"])
            if coupon is not None and coupon["funded_by"] == "platform":
                platform_discount = discount
        share, rates = TAX[currency]
        tax = _tax(subtotal - discount, rng.choice(rates)) if rng.random() < share else 0
        shipping = SHIPPING[currency] if item["item_type"] == "product" and rng.random() < 0.7 \
            else 0
        rate = self._rates[seller["id"]]
        split = _split(subtotal, discount, tax, shipping, rate, platform_discount)
        total = subtotal - discount + tax + shipping
        kind = "one_time"
        if item["item_type"] == "service":
            kind = "renewal" if rng.random() < 0.6 else "subscription"
        payment = {
            "id": ulid("pay", created, rng), "customer_id": customer,
            "seller_id": seller["id"], "item_type": item["item_type"], "item_id": item["id"],
            "order_id": None, "currency": currency, "subtotal": subtotal, "discount": discount,
            "tax": tax, "shipping": shipping, "total": total, "method": method,
            "gateway": gateway, "kind": kind, "status": "succeeded",
            "previous_status": "pending", "coupon_code": coupon and coupon["code"],
            "coupon_id": coupon and coupon["id"],
            "discount_funded_by": coupon and coupon["funded_by"], "commission_rate": rate,
            "commission_base": str(POLICY.commission_base), "platform_fee": split.platform_fee,
            "seller_amount": split.seller_amount, "tax_collected": split.tax_collected,
            "shipping_collected": split.shipping_collected, "gateway_fee": 0,
            "gateway_fee_bearer": str(POLICY.gateway_fee_bearer), "refunded_amount": 0,
            "refund_reserved_amount": 0, "disputed_amount": 0,
            "platform_discount": platform_discount,
            "gateway_payment_id": None if gateway == "manual" else
            f"{gateway[:2]}_bench_{self._serial:09d}",
            "gateway_order_id": None, "payment_url": None, "payment_url_expires_at": None,
            "gateway_mode": None if gateway == "manual" else "test", "order_ref": None,
            "subscription_id": None, "description": f"{item['title']} by {seller['name']}",
            "metadata": {}, "billing_details": None, "ip_address": None,
            "provider_response": None, "failure_reason": None, "reconciled": False,
            "reconciled_at": None, "reconciled_by": None, "created_at": created,
            "updated_at": created, "processing_at": None, "succeeded_at": None,
            "failed_at": None, "canceled_at": None, "refunded_at": None,
        }
        chunk.payments.append(payment)
        settled = created + timedelta(seconds=rng.randrange(2, 90))
        if rng.random() < FAILED_SHARE:
            payment.update(status="failed", failed_at=settled, updated_at=settled,
                           failure_reason=rng.choice(FAILURES))
            return
        self._capture(chunk, payment, split, settled)
        roll = rng.random()
        if roll < REFUNDED_SHARE:
            self._refund(chunk, payment, split)
        elif roll < REFUNDED_SHARE + DISPUTED_SHARE:
            self._dispute(chunk, payment, split)

    def _capture(self, chunk: Chunk, payment: dict[str, Any], split: Split,
                 at: datetime) -> None:
        bps, fixed = FEES.get((payment["gateway"], payment["currency"]), (0, 0))
        fee = min(payment["total"], (payment["total"] * bps + 5000) // 10_000 + fixed) \
            if bps else 0
        payment.update(succeeded_at=at, updated_at=at, gateway_fee=fee)
        self._post(chunk, capture_entry(
            payment_id=payment["id"], gateway=payment["gateway"],
            seller_id=payment["seller_id"], currency=payment["currency"], split=split,
            gateway_fee=fee, fee_bearer=Bearer(payment["gateway_fee_bearer"]),
            platform_discount=payment["platform_discount"]), at)
        chunk.seller_earnings.append({
            "payment_id": payment["id"], "seller_id": payment["seller_id"],
            "currency": payment["currency"], "gross": payment["total"],
            "commission": payment["platform_fee"], "net": split.seller_amount,
            "pending": split.seller_amount, "released": 0, "refunded": 0, "captured_at": at,
            "captured_s": int(at.timestamp()), "released_at": None, "created_at": at})

    def _later(self, after: datetime, mean_days: float) -> datetime:
        """A moment some days after ``after``, inside the year."""
        later = after + timedelta(days=self.rng.expovariate(1 / mean_days),
                                  seconds=self.rng.randrange(60, 3600))
        return later if later < YEAR_END else after + (YEAR_END - after) / 2

    def _refund(self, chunk: Chunk, payment: dict[str, Any], split: Split) -> None:
        rng, total = self.rng, payment["total"]
        amount = total if rng.random() < 0.6 else max(1, int(total * rng.uniform(0.1, 0.9)))
        at = self._later(payment["succeeded_at"], 6)
        parts, discount_part = taken_back(split, total, 0, amount)
        refund_id = ulid("re", at, rng)
        chunk.refunds.append({
            "id": refund_id, "payment_id": payment["id"], "currency": payment["currency"],
            "amount": amount, "status": "succeeded", "previous_status": "approved",
            "reason": rng.choice(("requested_by_customer", "duplicate", "event cancelled")),
            "requested_by": ACTOR, "decided_by": ACTOR, "rejection_reason": None,
            "failure_reason": None, "cancellation_reason": None,
            "seller_part": parts.seller_amount, "platform_part": parts.platform_fee,
            "tax_part": parts.tax_collected, "shipping_part": parts.shipping_collected,
            "discount_part": discount_part, "gateway_refund_id": None, "metadata": {},
            "created_at": at, "updated_at": at, "approved_at": at, "rejected_at": None,
            "succeeded_at": at, "failed_at": None, "canceled_at": None,
            "decision_rule": "admin_one_step", "decision_detail": None,
            "next_submit_at": None, "submitted_at": None, "submit_attempts": 0,
            "last_error": None})
        payment.update(refunded_amount=amount, refunded_at=at, updated_at=at,
                       previous_status="succeeded",
                       status="refunded" if amount == total else "partially_refunded")
        earning = chunk.seller_earnings[-1]
        earning["pending"] -= parts.seller_amount
        earning["refunded"] += parts.seller_amount
        self._post(chunk, refund_entry(
            payment_id=payment["id"], refund_id=refund_id, gateway=payment["gateway"],
            currency=payment["currency"], parts=parts, discount_part=discount_part,
            seller_side=self._seller_side(payment, parts.seller_amount)), at)

    def _dispute(self, chunk: Chunk, payment: dict[str, Any], split: Split) -> None:
        rng, total, currency = self.rng, payment["total"], payment["currency"]
        opened = self._later(payment["succeeded_at"], 20)
        decided = self._later(opened, 15)
        outcome = rng.choices(("won", "lost", "open"), (30, 45, 25))[0]
        if decided == opened + (YEAR_END - opened) / 2:
            outcome = "open"  # its decision would fall after the year
        parts, discount_part = taken_back(split, total, 0, total)
        dispute_id = ulid("dp", opened, rng)
        fee = DISPUTE_FEE.get(payment["gateway"], 0)
        common = {"dispute_id": dispute_id, "payment_id": payment["id"], "currency": currency}
        side = self._seller_side(payment, parts.seller_amount)
        self._post(chunk, opened_entry(**common, gateway=payment["gateway"], amount=total,
                                       seller_side=side, fee=fee), opened)
        earning = chunk.seller_earnings[-1]
        earning["pending"] -= parts.seller_amount
        status, last = "under_review" if rng.random() < 0.5 else "open", opened
        if outcome == "won":
            self._post(chunk, won_entry(**common, gateway=payment["gateway"], amount=total,
                                        seller_side=side), decided)
            earning["pending"] += parts.seller_amount
            status, last = "won", decided
            payment.update(status="succeeded", previous_status="disputed")
        elif outcome == "lost":
            self._post(chunk, lost_entry(**common, amount=total, parts=parts,
                                         discount_part=discount_part), decided)
            status, last = "lost", decided
            payment.update(status="charged_back", previous_status="disputed",
                           disputed_amount=total)
        else:
            payment.update(status="disputed", previous_status="succeeded", disputed_amount=total)
        payment["updated_at"] = last
        chunk.disputes.append({
            "id": dispute_id, "payment_id": payment["id"], "seller_id": payment["seller_id"],
            "customer_id": payment["customer_id"], "currency": currency,
            "gateway": payment["gateway"], "gateway_dispute_id": None, "amount": total,
            "fee": fee, "reason": "the customer's bank opened a chargeback",
            "reason_code": rng.choice(DISPUTE_REASONS), "status": status,
            "previous_status": None if status == "open" else
            ("open" if status == "under_review" else "under_review"),
            "due_by": opened + timedelta(days=21), "evidence": [],
            "seller_part": parts.seller_amount, "platform_part": parts.platform_fee,
            "tax_part": parts.tax_collected, "shipping_part": parts.shipping_collected,
            "discount_part": discount_part, "payment_status_before": "succeeded",
            "decision_reason": None, "created_at": opened, "updated_at": last,
            "opened_at": opened, "under_review_at": None if status == "open" else opened,
            "won_at": decided if status == "won" else None,
            "lost_at": decided if status == "lost" else None})

    @staticmethod
    def _seller_side(payment: dict[str, Any], amount: int) -> list[tuple[AccountSpec, int]]:
        return [(seller_pending(payment["seller_id"]), amount)] if amount else []

    def _post(self, chunk: Chunk, entry: JournalEntry, at: datetime) -> None:
        entry.check_balanced()
        entry_id = ulid("je", at, self.rng)
        chunk.journal_entries.append({
            "id": entry_id, "kind": entry.kind, "description": entry.description,
            "payment_id": entry.payment_id, "refund_id": entry.refund_id, "created_at": at})
        for p in entry.postings:
            key = (p.account.code, p.currency)
            chunk.postings.append((entry_id, *key, p.amount_minor))
            self.balances[key] += p.amount_minor * p.account.sign
