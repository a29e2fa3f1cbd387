"""Realistic demo data: a marketplace of courses, events, products and bookings with a
year of payments in several currencies, refunds included. Everything goes through the
services, so the ledger the demo leaves behind is as real as any other."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import SYSTEM
from paytrack.domain.coupons import percent_discount
from paytrack.domain.errors import CouponCodeTaken, PaytrackError
from paytrack.services import coupons, parties
from paytrack.services.payments import (
    CreatePayment,
    cancel_payment,
    capture_payment,
    create_payment,
    fail_payment,
    mark_processing,
)
from paytrack.services.refunds import refund_payment, reject_refund, request_refund

SELLERS = [
    # id, name, item type, commission override
    ("inst_ada", "Ada Lovelace Academy", "course", None),
    ("inst_grace", "Grace Hopper Labs", "course", "0.15"),
    ("inst_alan", "Turing School of Code", "course", None),
    ("org_techconf", "TechConf Events", "event", "0.10"),
    ("org_jazz", "Blue Note Nights", "event", None),
    ("vend_ceramics", "Clayworks Studio", "product", None),
    ("vend_coffee", "Roastery Co.", "product", "0.12"),
    ("vend_books", "Paper & Ink Books", "product", None),
    ("host_yoga", "Sunrise Yoga", "booking", None),
    ("host_tutor", "MathPro Tutoring", "service", "0.25"),
]
TITLES = {
    "course": ["Python for Data Analysis", "Intro to Machine Learning", "Web Development "
               "Bootcamp", "SQL Masterclass", "Cloud Architecture", "Rust in Practice"],
    "event": ["Annual Summit Pass", "Workshop Day", "VIP Evening", "Early Bird Ticket"],
    "product": ["Handmade Mug", "Single Origin Beans 1kg", "Signed First Edition",
                "Gift Box", "Espresso Cups Set"],
    "booking": ["Morning Class", "Private Session", "Weekend Retreat"],
    "service": ["Monthly Tutoring", "Exam Prep Pack", "Premium Membership"],
}
# currency, weight, price range in minor units, gateways
CURRENCIES = [
    ("USD", 55, (1999, 29999), ["stripe", "paypal"]),
    ("EUR", 20, (1500, 24900), ["stripe", "paypal"]),
    ("INR", 18, (49900, 999900), ["razorpay"]),
    ("JPY", 7, (1500, 30000), ["stripe"]),
]
METHODS = {"stripe": ["card", "wallet"], "paypal": ["paypal"],
           "razorpay": ["upi", "card", "net_banking", "wallet"]}
# code, percent off, who funds it
COUPONS = [("WELCOME10", "0.10", "platform"), ("SPRING20", "0.20", "seller")]
REFUND_REASONS = ["requested_by_customer", "course not as described", "event cancelled",
                  "duplicate charge", "item arrived damaged", "schedule conflict"]


@dataclass
class DemoSummary:
    payments: int
    refunds: int
    sellers: int
    customers: int


def load_demo(storage: Storage, *, payments: int = 4000, seed: int = 7,
              progress: Callable[[Iterable[int], int], Iterable[int]] | None = None,
              now: datetime | None = None) -> DemoSummary:
    """Create sellers, customers, items and ``payments`` payments over the last year."""
    rng = random.Random(seed)
    end = now or datetime.now(UTC)
    start = end - timedelta(days=365)
    real_clock = storage.clock
    clock = [start]
    storage.clock = lambda: clock[0]
    try:
        items = _parties(storage, rng)
        customers = [f"cust_{i:04d}" for i in range(1, 301)]
        # Business grows over the year: more sales later on.
        moments = sorted(start + (end - start) * (rng.random() ** 0.7) for _ in range(payments))
        steps: Iterable[int] = iter(range(payments))
        if progress is not None:
            steps = progress(steps, payments)
        refunds = 0
        batch = 100
        uow = storage.unit_of_work().__enter__()
        for i in steps:
            clock[0] = moments[i]
            refunds += _one_payment(uow, rng, items, customers, moments[i], end, clock)
            if i % batch == batch - 1:
                uow.commit()
                uow.__exit__(None, None, None)
                uow = storage.unit_of_work().__enter__()
        uow.commit()
        uow.__exit__(None, None, None)
    finally:
        storage.clock = real_clock
    return DemoSummary(payments, refunds, len(SELLERS), len(customers))


def _parties(storage: Storage, rng: random.Random) -> list[tuple[str, str, str]]:
    items = []
    with storage.unit_of_work() as uow:
        for seller_id, name, item_type, rate in SELLERS:
            parties.upsert_party(uow, "seller", seller_id, SYSTEM, name=name,
                                 email=f"payouts@{seller_id.split('_', 1)[1]}.example",
                                 commission_rate=rate)
            for n, title in enumerate(rng.sample(TITLES[item_type], k=3)):
                item_id = f"{item_type}_{seller_id}_{n + 1}"
                parties.upsert_item(uow, item_type, item_id, seller_id, SYSTEM, title=title)
                items.append((seller_id, item_type, item_id))
        for i in range(1, 301):
            parties.upsert_party(uow, "customer", f"cust_{i:04d}", SYSTEM,
                                 name=f"Customer {i}", email=f"customer{i}@example.com")
        for code, percent_off, funded_by in COUPONS:
            with suppress(CouponCodeTaken):  # loaded before
                coupons.create_coupon(uow, coupons.CreateCoupon(
                    code=code, kind="percent", percent_off=percent_off, funded_by=funded_by),
                    SYSTEM)
        uow.commit()
    return items


def _one_payment(uow, rng: random.Random, items, customers, when: datetime, end: datetime,
                 clock: list[datetime]) -> int:
    seller_id, item_type, item_id = rng.choice(items)
    currency, _, (low, high), gateways = rng.choices(CURRENCIES,
                                                     weights=[c[1] for c in CURRENCIES])[0]
    gateway = rng.choice(gateways)
    subtotal = rng.randrange(low, high)
    if currency != "JPY":
        subtotal = subtotal // 100 * 100 + 99  # x.99 prices
    percent = rng.choice([0, 0, 0, 10, 20])
    discount = subtotal * percent // 100
    coupon_code = None
    if discount and rng.random() < 0.5:  # half the discounts come from a coupon
        coupon_code, percent_off, _ = COUPONS[0 if percent == 10 else 1]
        discount = percent_discount(subtotal, Decimal(percent_off), None)
    tax = (subtotal - discount) * rng.choice([0, 0, 5, 18]) // 100
    shipping = rng.choice([0, 0, 499]) if item_type == "product" and currency != "JPY" else 0
    cmd = CreatePayment(
        customer_id=rng.choice(customers), seller_id=seller_id, item_type=item_type,
        item_id=item_id, currency=currency, subtotal=subtotal, discount=discount, tax=tax,
        shipping=shipping, method=rng.choice(METHODS[gateway]), gateway=gateway,
        kind="subscription" if item_type == "service" else "one_time",
        coupon_code=coupon_code,
        description=f"{item_type} {item_id}",
        gateway_payment_id=f"{gateway}_{rng.getrandbits(64):016x}",
    )
    payment = create_payment(uow, cmd, SYSTEM)
    outcome = rng.random()
    recent = end - when < timedelta(days=2)
    clock[0] = when + timedelta(seconds=rng.randrange(5, 90))
    if recent and outcome < 0.3:
        if outcome < 0.15:
            mark_processing(uow, payment["id"], SYSTEM)
        return 0
    if outcome < 0.05:
        mark_processing(uow, payment["id"], SYSTEM)
        fail_payment(uow, payment["id"], SYSTEM, reason=rng.choice(
            ["card_declined", "insufficient_funds", "expired_card", "authentication_failed"]))
        return 0
    if outcome < 0.08:
        cancel_payment(uow, payment["id"], SYSTEM, reason="customer abandoned checkout")
        return 0
    fee = payment["total"] * 29 // 1000 + (30 if currency in ("USD", "EUR") else 0)
    capture_payment(uow, payment["id"], SYSTEM, gateway_fee=fee if gateway != "manual" else 0)
    if rng.random() >= 0.07:
        return 0
    clock[0] = min(end, when + timedelta(days=rng.randrange(1, 30)))
    reason = rng.choice(REFUND_REASONS)
    try:
        roll = rng.random()
        if roll < 0.45:
            refund_payment(uow, payment["id"], SYSTEM, reason=reason)
        elif roll < 0.8:
            refund_payment(uow, payment["id"], SYSTEM, reason=reason,
                           amount=max(1, payment["total"] * rng.choice([25, 50]) // 100))
        elif roll < 0.9:
            refund = request_refund(uow, payment["id"], SYSTEM, reason=reason)
            reject_refund(uow, refund["id"], SYSTEM, reason="outside the refund window")
        else:
            request_refund(uow, payment["id"], SYSTEM, reason=reason)
    except PaytrackError:  # pragma: no cover - the demo only asks for what is allowed
        return 0
    return 1
