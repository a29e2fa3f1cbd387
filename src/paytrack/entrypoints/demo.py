"""Realistic demo data: a marketplace of courses, events, products and bookings with a
year of payments in several currencies, and what a year brings with them: refunds (some
decided by the refund policy), coupons, earnings held and released every night, monthly
payouts in every state, chargebacks won, lost and still open, and sellers left owing the
platform money. Everything goes through the services, with a clock moved forward as the
year goes by, so the ledger the demo leaves behind is as real as any other."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx

from paytrack.adapters.gateways.simulator import SimulatorGateway
from paytrack.adapters.gateways.simulator_rules import TEST_CARDS, CardOutcome, TestCard
from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.actors import SYSTEM, Actor, Role
from paytrack.domain.coupons import percent_discount
from paytrack.domain.errors import CouponCodeTaken, PaytrackError
from paytrack.domain.ledger import seller_available
from paytrack.domain.payments import Payment
from paytrack.entrypoints.demo_orders import STORIES, Commerce
from paytrack.services import (
    coupons,
    disputes,
    gateway_jobs,
    gateways,
    parties,
    payouts,
    refund_rules,
    seller_funds,
)
from paytrack.services.ledger import seller_balance
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
# currency, weight, price range in minor units, gateways. The payments at "simulator" go
# the way real ones do: a checkout, the hosted page paid with a test card, the simulator's
# signed webhooks into POST /v1/webhooks/simulator, refunds sent back to it.
CURRENCIES = [
    ("USD", 55, (1999, 29999), ["stripe", "paypal", "simulator"]),
    ("EUR", 20, (1500, 24900), ["stripe", "paypal", "simulator"]),
    ("INR", 18, (49900, 999900), ["razorpay"]),
    ("JPY", 7, (1500, 30000), ["stripe"]),
]
METHODS = {"stripe": ["card", "wallet"], "paypal": ["paypal"], "simulator": ["card"],
           "razorpay": ["upi", "card", "net_banking", "wallet"]}
# code, percent off, who funds it
COUPONS = [("WELCOME10", "0.10", "platform"), ("SPRING20", "0.20", "seller")]
REFUND_REASONS = ["requested_by_customer", "course not as described", "event cancelled",
                  "duplicate charge", "item arrived damaged", "schedule conflict"]
# A customer's refund request of up to about 100 USD within 30 days of the purchase is
# refunded at once (unless the customer has had a quarter of its money back already).
REFUND_POLICY: dict[str, Any] = {
    "auto_approve_max_amount": {"USD": 10000, "EUR": 9000, "INR": 800000, "JPY": 15000},
    "auto_approve_within_days": 30, "auto_approve_max_refund_rate": "0.25",
}

WEBHOOKS_URL = "http://testserver/v1/webhooks/simulator"  # the app, in process

# Where each seller is paid (test account numbers that pass their checks).
PAYOUT_ACCOUNTS: dict[str, tuple[str, dict[str, str | None]]] = {
    "inst_ada": ("bank_transfer", {"account_holder": "Ada Lovelace Academy GmbH",
                                   "iban": "DE89 3704 0044 0532 0130 00"}),
    "inst_grace": ("stripe_connect", {"account_id": "acct_1Nv0FGQ9RKHgCVdK"}),
    "inst_alan": ("bank_transfer", {"account_holder": "Turing School of Code Ltd",
                                    "account_number": "31926819", "sort_code": "60-16-13"}),
    "org_techconf": ("stripe_connect", {"account_id": "acct_1PqTechConf0Ev3nt"}),
    "org_jazz": ("paypal", {"email": "bookings@bluenote.example"}),
    "vend_ceramics": ("bank_transfer", {"account_holder": "Clayworks Studio SARL",
                                        "iban": "FR14 2004 1010 0505 0001 3M02 606"}),
    "vend_coffee": ("paypal", {"email": "payouts@roastery.example"}),
    "vend_books": ("bank_transfer", {"account_holder": "Paper & Ink Books LLC",
                                     "account_number": "000123456789",
                                     "routing_number": "110000000"}),
    "host_yoga": ("stripe_connect", {"account_id": "acct_1QsUnr1seY0gaStd"}),
    "host_tutor": ("bank_transfer", {"account_holder": "MathPro Tutoring B.V.",
                                     "iban": "NL91 ABNA 0417 1643 00"}),
}
# A seller whose account on file was closed: its first payout fails, then it sends a new one.
CLOSED_ACCOUNTS: dict[str, dict[str, str | None]] = {
    "vend_books": {"account_holder": "Paper & Ink Books LLC", "account_number": "000987654321",
                   "routing_number": "110000000"},
}
PAYOUT_FAILURES = {
    "bank_transfer": ["the bank returned it: account closed",
                      "the bank returned it: beneficiary name does not match the account"],
    "paypal": ["PayPal: the receiver's account is restricted"],
    "stripe_connect": ["Stripe: payouts to the connected account are paused pending "
                       "verification"],
}
PAYOUT_FAILURE_RATE = 0.05
# Stories that leave a seller owing the platform: late in the year, after its balance was
# paid out, it refunds what it sold in a window. Later releases pay part of the debt back.
# seller, days before the end, refund its sales captured this many days before, reason
DEBT_STORIES = [
    ("org_jazz", 14, (74, 21), "event cancelled: the venue closed for renovation"),
    ("vend_ceramics", 6, (60, 13), "product recall: a glaze batch failed a food-safety test"),
]

# Disputes: the reason codes each kind of item gets, what the cardholder said, evidence.
DISPUTE_CODES = {
    "course": ["product_unacceptable", "credit_not_processed", "fraudulent", "duplicate"],
    "event": ["fraudulent", "unrecognized", "credit_not_processed", "duplicate"],
    "product": ["product_not_received", "product_unacceptable", "fraudulent"],
    "booking": ["unrecognized", "credit_not_processed", "fraudulent"],
    "service": ["subscription_canceled", "unrecognized", "fraudulent"],
}
DISPUTE_REASONS = {
    "fraudulent": ("cardholder says they did not authorize the charge",
                   "login history and IP match the cardholder's earlier purchases"),
    "unrecognized": ("cardholder does not recognize the charge",
                     "receipt and the statement descriptor the cardholder agreed to"),
    "duplicate": ("cardholder says they were charged twice",
                  "the two charges are for two different orders"),
    "product_not_received": ("customer says the order never arrived",
                             "carrier tracking shows delivery to the billing address"),
    "product_unacceptable": ("customer says it was not as described",
                             "the listing, and the customer's use of what was delivered"),
    "credit_not_processed": ("customer says a promised refund never came",
                             "the refund policy shown at checkout, and no refund request"),
    "subscription_canceled": ("customer says the subscription was canceled before renewal",
                              "no cancellation on record before the renewal date"),
}
# Due earnings are released every few nights, and once more at the end, so only the last
# hold_days stay pending (the server's upkeep releases every few seconds; fewer releases
# keep the demo quick).
RELEASE_EVERY = 3
DISPUTE_FEES = {"USD": 1500, "EUR": 1500, "JPY": 2000, "INR": 0}  # razorpay charges none
DISPUTE_OUTCOMES = ["won", "lost", "open", "under_review"]  # the first four, then weighted
DISPUTE_WEIGHTS = [40, 30, 12, 18]


@dataclass
class DemoSummary:
    payments: int
    refunds: int
    sellers: int
    customers: int
    payouts: dict[str, int] = field(default_factory=dict)  # by status
    disputes: dict[str, int] = field(default_factory=dict)  # by status
    released: int = 0  # earnings released from pending to available
    in_debt: list[str] = field(default_factory=list)  # sellers owing the platform at the end
    with_available: int = 0  # sellers with an available balance at the end
    orders: dict[str, int] = field(default_factory=dict)  # by status
    subscriptions: dict[str, int] = field(default_factory=dict)  # by status


@dataclass
class _Live:
    """A payment at the simulator, paid on its hosted page once its transaction commits;
    ``then`` runs when its webhook has captured it."""

    payment: Payment
    card: TestCard
    then: Callable[[Payment], None]


@dataclass
class _Sale:
    """A captured payment nothing is planned for yet: a dispute or a story may take it."""

    id: str
    seller_id: str
    item_type: str
    currency: str
    gateway: str
    total: int
    captured_at: datetime


def load_demo(storage: Storage, *, payments: int = 4000, seed: int = 7,
              progress: Callable[[Iterable[int], int], Iterable[int]] | None = None,
              now: datetime | None = None) -> DemoSummary:
    """Create sellers, customers, items and ``payments`` payments over the last year, with
    the refunds, releases, payouts and disputes a year of them brings. Payments at the
    simulator are paid on its page and confirmed by its webhooks, through the API."""
    import warnings

    from paytrack.entrypoints.api import create_app

    with warnings.catch_warnings():  # starlette would rather see httpx2: the same client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(storage)) as http:
        return _load(storage, payments, seed, progress, now, http)


def _load(storage: Storage, payments: int, seed: int,
          progress: Callable[[Iterable[int], int], Iterable[int]] | None,
          now: datetime | None, http: httpx.Client) -> DemoSummary:
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
        year = _Year(random.Random(f"{seed}:flows"), clock, start, end, payments)
        Commerce(year.at, random.Random(f"{seed}:orders"), clock, start, end,
                 customers).plan(bookings=max(12, payments // 40),
                                 shop_orders=max(6, payments // 160),
                                 subs=max(len(STORIES), payments // 100))
        steps: Iterable[int] = iter(range(payments))
        if progress is not None:
            steps = progress(steps, payments)
        batch = 100
        live = _Gateway(storage, http, clock)
        uow = storage.unit_of_work().__enter__()
        for i in steps:
            year.run_until(uow, moments[i])
            clock[0] = moments[i]
            year.payment(uow, rng, items, customers, moments[i])
            if year.live or i % batch == batch - 1:
                uow.commit()
                uow.__exit__(None, None, None)
                live.settle(year.live)
                uow = storage.unit_of_work().__enter__()
        year.run_until(uow, end)
        uow.commit()
        uow.__exit__(None, None, None)
        live.settle([])
        commerce = Commerce.finish(storage, random.Random(f"{seed}:applications"), end,
                                   customers)
        with storage.unit_of_work(readonly=True) as uow:
            balances = [seller_balance(uow, s[0], SYSTEM)["balances"] for s in SELLERS]
    finally:
        storage.clock = real_clock
    return DemoSummary(
        payments, year.refunds, len(SELLERS), len(customers),
        payouts=dict(Counter(year.payouts.values())),
        disputes=dict(Counter(year.disputes.values())), released=year.released,
        in_debt=[s[0] for s, rows in zip(SELLERS, balances, strict=True)
                 if any(r["debt"] > 0 for r in rows)],
        with_available=sum(any(r["available"] > 0 for r in rows) for rows in balances),
        orders=dict(commerce["orders"]), subscriptions=dict(commerce["subscriptions"]))


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
            method, details = PAYOUT_ACCOUNTS[seller_id]
            payouts.set_payout_account(uow, seller_id, Actor(Role.SELLER, seller_id),
                                       method=method, details=details)
        for i in range(1, 301):
            parties.upsert_party(uow, "customer", f"cust_{i:04d}", SYSTEM,
                                 name=f"Customer {i}", email=f"customer{i}@example.com")
        for code, percent_off, funded_by in COUPONS:
            with suppress(CouponCodeTaken):  # loaded before
                coupons.create_coupon(uow, coupons.CreateCoupon(
                    code=code, kind="percent", percent_off=percent_off, funded_by=funded_by,
                    # the sellers who fund their own discount take part by name
                    seller_ids=[] if funded_by == "platform" else [s[0] for s in SELLERS]),
                    SYSTEM)
        if uow.refund_rules.get_policy() is None:  # never replace one an admin set
            refund_rules.set_refund_policy(uow, SYSTEM, REFUND_POLICY)
        uow.commit()
    return items


Action = Callable[[UnitOfWork], None]


class _Gateway:
    """The simulator's side of the demo: its hosted page paid with a test card, and its
    signed webhooks (and those answering the refunds sent to it) delivered to the API."""

    def __init__(self, storage: Storage, http: httpx.Client, clock: list[datetime]) -> None:
        self.storage, self.http, self.clock = storage, http, clock
        with storage.unit_of_work() as uow:
            adapter = gateways.adapter_for(uow, "simulator")
            uow.commit()
        assert isinstance(adapter, SimulatorGateway)
        self.simulator = adapter

    def settle(self, live: list[_Live]) -> None:
        for sale in live:
            token = (sale.payment["payment_url"] or "").rsplit("/", 1)[-1]
            self.simulator.pay(self.simulator.open_checkout(token), sale.card)
        gateway_jobs.send_due(self.storage)  # refunds approved meanwhile, to the simulator
        while self.simulator.deliver_due(self.http, WEBHOOKS_URL, self.clock[0]):
            pass
        for sale in live:
            with self.storage.unit_of_work(readonly=True) as uow:
                payment = uow.payments.get(sale.payment["id"])
            if payment is not None and payment["status"] == "succeeded":
                sale.then(payment)
        live.clear()


class _Year:
    """What happens around the payments as the clock moves through the year: a queue of
    actions due at given moments, run in time order between the payments (an action may
    queue more). What is due after the end stays undone: open disputes, payouts not yet
    approved or paid."""

    def __init__(self, rng: random.Random, clock: list[datetime], start: datetime,
                 end: datetime, payments: int) -> None:
        self.rng, self.clock, self.end = rng, clock, end
        self.queue: list[tuple[datetime, int, Action]] = []
        self.order = itertools.count()
        self.refunds = self.released = 0
        self.payouts: dict[str, str] = {}  # id -> status
        self.disputes: dict[str, str] = {}
        self.sales: dict[str, _Sale] = {}
        self.closed_accounts = dict(CLOSED_ACCOUNTS)
        self.live: list[_Live] = []
        self.asks = 0  # customers' refund requests so far
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(RELEASE_EVERY, 366, RELEASE_EVERY):  # and once more at the end
            self.at(midnight + timedelta(days=day), self.release)
        self.at(end, self.release)
        month = (start.replace(day=1) + timedelta(days=32)).replace(day=1, hour=6, minute=0,
                                                                   second=0, microsecond=0)
        # Monthly payouts on the 1st; none in the last week, so that sellers end the year
        # with an available balance (and a few ask for part of it: the final payouts).
        while month < end - timedelta(days=7):
            self.at(month, self.monthly_payouts)
            month = (month + timedelta(days=32)).replace(day=1)
        for n, when in enumerate(_every(start + timedelta(days=40), end - timedelta(days=5),
                                        timedelta(days=33))):
            self.at(when, partial(self.seller_payout, cancel=n % 3 == 1))
        self.at(end - timedelta(hours=45), self.final_payouts)
        for seller_id, days, window, reason in DEBT_STORIES:
            self.at(end - timedelta(days=days), partial(
                self.refund_window, seller_id=seller_id, window=window, reason=reason))
        # Disputes come weeks after the sale: decided ones on sales early enough to be
        # decided by the end, open ones on recent sales.
        count = max(6, payments // 150)
        outcomes = DISPUTE_OUTCOMES + rng.choices(DISPUTE_OUTCOMES, DISPUTE_WEIGHTS,
                                                  k=count - len(DISPUTE_OUTCOMES))
        span = end - start
        self.wanted: list[tuple[datetime, str]] = sorted(
            (end - timedelta(days=rng.uniform(25, 40)) if outcome in ("open", "under_review")
             else start + span * 0.3 + (span * 0.7 - timedelta(days=90)) * rng.random(),
             outcome) for outcome in outcomes)

    def at(self, when: datetime, action: Action) -> None:
        heapq.heappush(self.queue, (when, next(self.order), action))

    def run_until(self, uow: UnitOfWork, moment: datetime) -> None:
        while self.queue and self.queue[0][0] <= moment:
            when, _, action = heapq.heappop(self.queue)
            self.clock[0] = when
            action(uow)

    # -- payments and refunds ----------------------------------------------------------

    def payment(self, uow: UnitOfWork, rng: random.Random, items: list[tuple[str, str, str]],
                customers: list[str], when: datetime) -> None:
        """One payment, created at ``when``: its outcome, and a refund of it later on."""
        seller_id, item_type, item_id = rng.choice(items)
        currency, _, (low, high), gateways = rng.choices(
            CURRENCIES, weights=[c[1] for c in CURRENCIES])[0]
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
            kind="one_time",  # subscriptions pay through their own (demo_orders)
            coupon_code=coupon_code,
            description=f"{item_type} {item_id}",
            # recorded history from the other gateways; a checkout at the simulator
            gateway_payment_id=(None if gateway == "simulator"
                                else f"{gateway}_{rng.getrandbits(64):016x}"),
        )
        payment = create_payment(uow, cmd, SYSTEM)
        outcome = rng.random()
        recent = self.end - when < timedelta(days=2)
        self.clock[0] = when + timedelta(seconds=rng.randrange(5, 90))
        if recent and outcome < 0.3:
            if outcome < 0.15:
                mark_processing(uow, payment["id"], SYSTEM)
            return
        if outcome < 0.05 and gateway == "simulator":
            self.live.append(_Live(payment, _card(rng.choice(
                [CardOutcome.DECLINED, CardOutcome.INSUFFICIENT_FUNDS])), lambda _: None))
            return
        if outcome < 0.05:
            mark_processing(uow, payment["id"], SYSTEM)
            fail_payment(uow, payment["id"], SYSTEM, reason=rng.choice(
                ["card_declined", "insufficient_funds", "expired_card",
                 "authentication_failed"]))
            return
        if outcome < 0.08:
            cancel_payment(uow, payment["id"], SYSTEM, reason="customer abandoned checkout")
            return
        refunded = rng.random() < 0.07
        refund_days, reason, roll = rng.randrange(1, 30), rng.choice(REFUND_REASONS), rng.random()
        if gateway == "simulator":
            self.live.append(_Live(payment, _card(CardOutcome.SUCCEEDS), lambda captured: (
                self.after_capture(captured, when, refunded, refund_days, reason, roll,
                                   cmd.customer_id))))
            return
        fee = payment["total"] * 29 // 1000 + (30 if currency in ("USD", "EUR") else 0)
        captured = capture_payment(uow, payment["id"], SYSTEM,
                                   gateway_fee=fee if gateway != "manual" else 0)
        self.after_capture(captured, when, refunded, refund_days, reason, roll,
                           cmd.customer_id)

    def after_capture(self, captured: Payment, when: datetime, refunded: bool,
                      refund_days: int, reason: str, roll: float, customer_id: str) -> None:
        """A sale a dispute may take later, or a refund of it in a few days."""
        seller_id, currency = captured["seller_id"], captured["currency"]
        if not refunded:
            self.sold(_Sale(captured["id"], seller_id, captured["item_type"], currency,
                            captured["gateway"], captured["total"], self.clock[0]))
            return
        refund_at = min(self.end, when + timedelta(days=refund_days))
        amount = (max(1, captured["total"] * (25 if roll < 0.6 else 50) // 100)
                  if 0.45 <= roll < 0.8 else None)
        self.at(refund_at, lambda uow: self.refund(uow, captured["id"], customer_id,
                                                   roll, reason, amount))

    def refund(self, uow: UnitOfWork, payment_id: str, customer_id: str, roll: float,
               reason: str, amount: int | None) -> None:
        """An admin refunds (all or part) in one step, or the customer asks: the refund
        policy refunds a small recent request at once, an admin rejects some of the rest,
        and the others wait."""
        try:
            if roll < 0.8:
                refund_payment(uow, payment_id, SYSTEM, reason=reason, amount=amount)
            else:
                # every other customer asks for a fifth back (a small ask the refund
                # policy refunds at once), the others for everything
                self.asks += 1
                part = self.asks % 2 == 0
                total = uow.payments.get(payment_id)["total"] if part else 0  # type: ignore[index]
                refund = request_refund(uow, payment_id, Actor(Role.CUSTOMER, customer_id),
                                        reason=reason,
                                        amount=max(1, total // 5) if part else None)
                if roll < 0.9 and refund["status"] == "requested":
                    reject_refund(uow, refund["id"], SYSTEM, reason="outside the refund window")
        except PaytrackError:  # pragma: no cover - the demo only asks for what is allowed
            return
        self.refunds += 1

    def refund_window(self, uow: UnitOfWork, seller_id: str, window: tuple[int, int],
                      reason: str) -> None:
        """Refund every sale of the seller captured ``window`` days ago (most of it paid
        out already, so the seller ends up owing the platform)."""
        now = self.clock[0]
        oldest, newest = (now - timedelta(days=d) for d in window)
        for sale in [s for s in self.sales.values()
                     if s.seller_id == seller_id and oldest <= s.captured_at <= newest]:
            del self.sales[sale.id]
            refund_payment(uow, sale.id, SYSTEM, reason=reason)
            self.refunds += 1

    # -- releases and payouts ----------------------------------------------------------

    def release(self, uow: UnitOfWork) -> None:
        while (released := seller_funds.release_due(uow)) > 0:
            self.released += released
            if released < seller_funds.RELEASE_BATCH:
                break

    def available(self, uow: UnitOfWork, seller_id: str) -> dict[str, int]:
        """The seller's available balance per currency, where it reaches the minimum."""
        code = seller_available(seller_id).code
        return {a["currency"]: int(a["current_balance"])
                for a in uow.ledger.accounts(code=code)
                if a["current_balance"] >= uow.policy.payouts.minimum_for(a["currency"])}

    def request(self, uow: UnitOfWork, seller_id: str, currency: str, amount: int,
                actor: Actor = SYSTEM) -> str:
        method = PAYOUT_ACCOUNTS[seller_id][0]
        payout = payouts.request_payout(uow, actor, amount=amount, currency=currency,
                                        method=method, seller_id=seller_id)
        self.payouts[payout["id"]] = payout["status"]
        return payout["id"]

    def monthly_payouts(self, uow: UnitOfWork) -> None:
        """Every seller is paid all it has available, in each currency."""
        for seller_id, *_ in SELLERS:
            for currency, amount in sorted(self.available(uow, seller_id).items()):
                self.follow(self.request(uow, seller_id, currency, amount))

    def seller_payout(self, uow: UnitOfWork, cancel: bool) -> None:
        """A seller asks for half of what it has between two monthly payouts; some think
        better of it and cancel."""
        choices = [(amount, seller_id, currency) for seller_id, *_ in SELLERS
                   for currency, amount in self.available(uow, seller_id).items()]
        if not choices:
            return
        amount, seller_id, currency = self.rng.choice(sorted(choices))
        seller = Actor(Role.SELLER, seller_id)
        minimum = uow.policy.payouts.minimum_for(currency)
        payout_id = self.request(uow, seller_id, currency, max(minimum, amount // 2), seller)
        if cancel:
            self.at(self.clock[0] + timedelta(hours=self.rng.uniform(1, 6)),
                    lambda uow: self.moved(payouts.cancel_payout(
                        uow, payout_id, seller, reason="asked by mistake: the monthly "
                                                       "payout will do")))
        else:
            self.follow(payout_id)

    def final_payouts(self, uow: UnitOfWork) -> None:
        """Just before the end, a few sellers ask to be paid: the admin's queue
        (``GET /v1/payouts/pending``) holds them, two approved, the rest requested."""
        asking = [(seller_id, available) for seller_id, *_ in SELLERS
                  if (available := sorted(self.available(uow, seller_id).items()))][:4]
        for n, (seller_id, available) in enumerate(asking):
            currency, amount = self.rng.choice(available)
            minimum = uow.policy.payouts.minimum_for(currency)
            payout_id = self.request(uow, seller_id, currency, max(minimum, amount // 2),
                                     Actor(Role.SELLER, seller_id))
            if n < 2:
                self.at(self.clock[0] + timedelta(hours=18),
                        partial(self.approve, payout_id=payout_id))

    def follow(self, payout_id: str) -> None:
        """An admin approves the request a day later; the provider pays it, or returns it,
        one to three days after that."""
        approve_at = self.clock[0] + timedelta(days=1, hours=self.rng.uniform(0, 6))
        settle_at = approve_at + timedelta(days=self.rng.randint(1, 3),
                                           hours=self.rng.uniform(0, 8))
        self.at(approve_at, partial(self.approve, payout_id=payout_id))
        self.at(settle_at, partial(self.settle, payout_id=payout_id))

    def approve(self, uow: UnitOfWork, payout_id: str) -> None:
        self.moved(payouts.approve_payout(uow, payout_id, SYSTEM))

    def settle(self, uow: UnitOfWork, payout_id: str) -> None:
        payout = payouts.get_payout(uow, payout_id, SYSTEM)
        seller_id, method = payout["seller_id"], payout["method"]
        new_account = self.closed_accounts.pop(seller_id, None)
        if new_account is not None or self.rng.random() < PAYOUT_FAILURE_RATE:
            reason = ("the bank returned it: account closed" if new_account is not None
                      else self.rng.choice(PAYOUT_FAILURES[method]))
            self.moved(payouts.fail_payout(uow, payout_id, SYSTEM, reason=reason))
            if new_account is not None:  # the seller sends its new account the next day
                self.at(self.clock[0] + timedelta(days=1), lambda uow: self.new_account(
                    uow, seller_id, method, new_account))
            return
        self.moved(payouts.pay_payout(uow, payout_id, SYSTEM,
                                      reference=self.reference(method)))

    @staticmethod
    def new_account(uow: UnitOfWork, seller_id: str, method: str,
                    details: dict[str, str | None]) -> None:
        payouts.set_payout_account(uow, seller_id, Actor(Role.SELLER, seller_id),
                                   method=method, details=details)

    def reference(self, method: str) -> str:
        bits = self.rng.getrandbits(96)
        if method == "stripe_connect":
            return f"tr_{bits:024x}"
        if method == "paypal":
            return f"PAYOUT-BATCH-{bits % 36 ** 13:013X}"
        return f"BT-{self.clock[0]:%Y%m%d}-{bits % 10 ** 8:08d}"

    def moved(self, record: Any) -> None:
        self.payouts[record["id"]] = record["status"]

    # -- disputes ----------------------------------------------------------------------

    def sold(self, sale: _Sale) -> None:
        """A captured payment with no refund coming: a dispute's, if one is wanted now."""
        if self.wanted and self.wanted[0][0] <= sale.captured_at:
            _, outcome = self.wanted.pop(0)
            open_in = timedelta(days=self.rng.uniform(10, 40) if outcome in ("won", "lost")
                                else self.rng.uniform(5, 12))
            self.at(sale.captured_at + open_in, lambda uow: self.dispute(uow, sale, outcome))
        else:
            self.sales[sale.id] = sale

    def dispute(self, uow: UnitOfWork, sale: _Sale, outcome: str) -> None:
        """The gateway reports a chargeback; the seller answers with evidence (mostly);
        the issuer decides weeks later, unless it is still open at the end."""
        rng, now = self.rng, self.clock[0]
        code = rng.choice(DISPUTE_CODES[sale.item_type])
        said, evidence = DISPUTE_REASONS[code]
        amount = sale.total if rng.random() < 0.85 else max(1, sale.total // 2)
        dispute_id = {"stripe": f"du_{rng.getrandbits(96):024x}",
                      "paypal": f"PP-D-{rng.getrandbits(32):010d}",
                      }.get(sale.gateway, f"disp_{rng.getrandbits(64):016x}")
        dispute = disputes.open_dispute(
            uow, sale.id, SYSTEM, amount=amount, reason=said, reason_code=code,
            due_by=now + timedelta(days=21), gateway_dispute_id=dispute_id,
            fee=DISPUTE_FEES[sale.currency])
        self.disputes[dispute["id"]] = dispute["status"]
        if outcome != "open" and (outcome != "lost" or rng.random() < 0.6):
            seller = Actor(Role.SELLER, sale.seller_id)
            self.at(now + timedelta(days=rng.uniform(2, 6)), lambda uow: self.decided(
                disputes.submit_evidence(uow, dispute["id"], seller, text=evidence,
                                         references=[f"file_{rng.getrandbits(48):012x}"])))
        if outcome == "won":
            self.at(now + timedelta(days=rng.uniform(25, 45)), lambda uow: self.decided(
                disputes.win_dispute(uow, dispute["id"], SYSTEM,
                                     reason="the issuer accepted the evidence")))
        elif outcome == "lost":
            self.at(now + timedelta(days=rng.uniform(25, 45)), lambda uow: self.decided(
                disputes.lose_dispute(uow, dispute["id"], SYSTEM,
                                      reason="the issuer sided with the cardholder")))

    def decided(self, record: Any) -> None:
        self.disputes[record["id"]] = record["status"]


def _card(outcome: CardOutcome) -> TestCard:
    return next(card for card in TEST_CARDS if card.outcome is outcome)


def _every(first: datetime, last: datetime, step: timedelta) -> Iterable[datetime]:
    when = first
    while when <= last:
        yield when
        when += step
