"""The demo's orders and subscriptions: course bookings in two streams (confirmed, pending,
cancelled, a few set by hand and a few refunded), multi-vendor shop orders (one payment per
vendor), and tutoring subscriptions in every state (paid, renewed, upgraded, cancelled,
past due, expired, never paid, and a few waiting at the simulator's checkout). All through
the services, on the demo's moving clock."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select

from paytrack.adapters.storage import tables
from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.actors import SYSTEM, Actor, Role
from paytrack.domain.subscriptions import add_months
from paytrack.services import orders, subscriptions
from paytrack.services.orders import CreateOrder, LineIn
from paytrack.services.payments import cancel_payment, capture_payment, fail_payment
from paytrack.services.refunds import refund_payment
from paytrack.services.subscriptions import CreateSubscription

Action = Callable[[UnitOfWork], None]
At = Callable[[datetime, Action], None]

COURSE_SELLERS = ("inst_ada", "inst_grace", "inst_alan")
SHOP_SELLERS = ("vend_ceramics", "vend_coffee", "vend_books")
COURSE_PRICES = (4900, 7900, 12900)  # USD cents, by the item's number
SHOP_PRICES = (1800, 2450, 3900, 6500)
REFERRALS = ("FRIEND-ANNA", "FRIEND-OMAR", "NEWSLETTER", "PODCAST")
TUTOR = "host_tutor"
# The tutor's plans, cheapest first: its three service items and a monthly fee (USD cents).
PLANS = ((f"service_{TUTOR}_1", 2900), (f"service_{TUTOR}_2", 4900),
         (f"service_{TUTOR}_3", 9900))
# The first subscriptions' stories, so that every state is there at the end; the rest
# are drawn at random.
# Rolls of ``book`` that give each outcome.
BOOKING_ROLLS = {"pending": 0.05, "cancelled": 0.15, "front_desk": 0.27}
STORIES = ("never_paid", "expired", "past_due", "canceled_now", "cancel_at_end", "upgrade",
           "renew_refunded")


class Commerce:
    """Queues bookings, shop orders and subscriptions on the demo's timeline (``at``)."""

    def __init__(self, at: At, rng: random.Random, clock: list[datetime], start: datetime,
                 end: datetime, customers: list[str]) -> None:
        self.at, self.rng, self.clock = at, rng, clock
        self.start, self.end, self.customers = start, end, customers

    def plan(self, bookings: int = 90, shop_orders: int = 24, subs: int = 36) -> None:
        rng, end = self.rng, self.end
        spring, autumn = f"{end.year}-spring", f"{end.year}-autumn"
        # The first few are set, so that every booking status is there at the end.
        forced = ["pending", "cancelled", "front_desk", "pending"]
        for n in range(bookings):
            roll = BOOKING_ROLLS[forced[n]] if n < len(forced) else None
            when = end - timedelta(days=rng.uniform(0.5, 3 if n < len(forced) else 150))
            self.at(when, partial(self.book, stream=(spring, autumn)[n % 2] if n < 2
                                  else rng.choice((spring, autumn)), roll=roll))
        for _ in range(shop_orders):
            self.at(end - timedelta(days=rng.uniform(0.5, 90)), self.shop)
        for n in range(subs):
            story = STORIES[n] if n < len(STORIES) else rng.choice(
                ("active", "active", "active", "upgrade", "cancel_at_end", "canceled_now",
                 "lapsed", "never_paid"))
            months = 1 if story in ("expired", "past_due", "lapsed") else rng.choice((1, 1, 3, 6))
            if story == "past_due":  # its period ends a few days before the end, unpaid
                begin = _months_before(end - timedelta(days=3), months)
            elif story == "expired":  # renewed twice, then left: ended weeks ago
                begin = _months_before(end - timedelta(days=30), 3)
            else:
                begin = end - timedelta(days=rng.uniform(20, 300))
            self.at(begin, partial(self.subscribe, story=story, months=months))

    # -- bookings and shop orders -------------------------------------------------------

    def book(self, uow: UnitOfWork, *, stream: str, roll: float | None = None) -> None:
        rng = self.rng
        seller = rng.choice(COURSE_SELLERS)
        n = rng.randrange(3)
        customer = rng.choice(self.customers)
        percent = rng.choice((None, None, None, 10, 15))
        order = orders.create_order(uow, CreateOrder(
            customer_id=customer, currency="USD", stream=stream, method="card",
            lines=[LineIn("course", f"course_{seller}_{n + 1}", seller, COURSE_PRICES[n])],
            referral_code=rng.choice((None, None, *REFERRALS)),
            discount_percent=percent, description=f"booking of {stream}"), SYSTEM)
        payment_id = order["payments"][0]["id"]
        recent = self.end - self.clock[0] < timedelta(days=10)
        roll = rng.random() if roll is None else roll
        self.clock[0] += timedelta(minutes=rng.randrange(2, 60))
        if roll < 0.10 or (recent and roll < 0.30):
            return  # pending: waiting for its bank transfer
        if roll < 0.20:
            orders.cancel_order(uow, order["id"], Actor(Role.CUSTOMER, customer),
                                reason=rng.choice(("schedule conflict", "booked twice",
                                                   "chose the other stream")))
            return
        if roll < 0.25:
            fail_payment(uow, payment_id, SYSTEM, reason="card_declined")
            return
        if roll < 0.29:  # the seed's admin dropdown: paid at the front desk
            orders.override_status(uow, order["id"], SYSTEM, confirmed_code=2,
                                   reason="paid in cash at the front desk")
            return
        capture_payment(uow, payment_id, SYSTEM)
        if roll > 0.93:
            later = self.clock[0] + timedelta(days=rng.randrange(1, 20))
            amount = None if roll > 0.97 else order["payments"][0]["total"] // 2
            self.at(min(later, self.end), partial(self.refund, payment_id=payment_id,
                                                  amount=amount))

    def shop(self, uow: UnitOfWork) -> None:
        rng = self.rng
        vendors = rng.sample(SHOP_SELLERS, k=rng.choice((1, 2, 2, 3)))
        lines = [LineIn("product", f"product_{v}_{rng.randrange(3) + 1}", v,
                        rng.choice(SHOP_PRICES), quantity=rng.choice((1, 1, 2, 3)),
                        shipping=499 if i == 0 else 0)
                 for v in vendors for i in range(rng.choice((1, 1, 2)))]
        order = orders.create_order(uow, CreateOrder(
            customer_id=rng.choice(self.customers), currency="USD", lines=lines,
            method="card", description="shop order"), SYSTEM)
        self.clock[0] += timedelta(minutes=rng.randrange(1, 15))
        roll = rng.random()
        paid = order["payments"]
        if roll < 0.12 and len(paid) > 1:  # one vendor's charge declined: all cancelled
            capture_payment(uow, paid[0]["id"], SYSTEM)
            fail_payment(uow, paid[1]["id"], SYSTEM, reason="card_declined")
            return  # the background job cancels and refunds the rest
        if roll < 0.18:
            for payment in paid:
                cancel_payment(uow, payment["id"], SYSTEM, reason="customer abandoned cart")
            return
        for payment in paid:
            capture_payment(uow, payment["id"], SYSTEM)
        if roll > 0.9:
            self.at(min(self.clock[0] + timedelta(days=4), self.end),
                    partial(self.refund, payment_id=paid[-1]["id"], amount=None))

    def refund(self, uow: UnitOfWork, *, payment_id: str, amount: int | None) -> None:
        refund_payment(uow, payment_id, SYSTEM, amount=amount,
                       reason="could not attend" if amount else "course cancelled")

    # -- subscriptions ------------------------------------------------------------------

    def subscribe(self, uow: UnitOfWork, *, story: str, months: int) -> None:
        rng = self.rng
        plan = 0 if story == "upgrade" else rng.randrange(len(PLANS))
        item_id, monthly = PLANS[plan]
        customer = rng.choice(self.customers)
        sub, payment = subscriptions.create_subscription(uow, CreateSubscription(
            customer_id=customer, seller_id=TUTOR, item_id=item_id, period_months=months,
            fee=monthly * months, currency="USD", method="card"), SYSTEM)
        self.clock[0] += timedelta(minutes=rng.randrange(2, 30))
        if story == "never_paid":
            if rng.random() < 0.5:
                fail_payment(uow, payment["id"], SYSTEM, reason="insufficient_funds")
            else:
                cancel_payment(uow, payment["id"], SYSTEM, reason="checkout abandoned")
            return
        sub, _ = subscriptions.confirm_subscription(uow, sub["id"], SYSTEM)
        if story == "canceled_now":
            self.at(self.clock[0] + timedelta(days=rng.uniform(3, 20)),
                    partial(self.cancel, subscription_id=sub["id"], customer=customer))
        if story == "upgrade" and months >= 1:
            self.at(self.clock[0] + timedelta(days=rng.uniform(5, 12)),
                    partial(self.upgrade, subscription_id=sub["id"], months=months))
        self._next_renewal(sub["id"], sub["current_period_end"], story, renewals=0)

    def _next_renewal(self, subscription_id: str, period_end: datetime | None, story: str,
                      renewals: int) -> None:
        if period_end is None:
            return
        when = period_end - timedelta(days=2)
        if story in ("past_due", "lapsed") or (story == "expired" and renewals >= 2):
            return  # left unpaid: past due at the end, then expired after the grace
        if story == "cancel_at_end":
            self.at(when, partial(self.cancel, subscription_id=subscription_id,
                                  at_period_end=True))
            return
        if when < self.end:
            self.at(when, partial(self.renew, subscription_id=subscription_id, story=story,
                                  renewals=renewals))

    def renew(self, uow: UnitOfWork, *, subscription_id: str, story: str,
              renewals: int) -> None:
        current = uow.subscriptions.get(subscription_id)
        if current is None or current["status"] != "active" or current["cancel_at_period_end"]:
            return
        _, payment = subscriptions.renew_subscription(uow, subscription_id, SYSTEM)
        sub, _ = subscriptions.confirm_subscription(uow, subscription_id, SYSTEM)
        if story == "renew_refunded" and renewals == 0:  # the customer forgot to cancel
            self.at(self.clock[0] + timedelta(days=1), partial(
                self.refund, payment_id=payment["id"], amount=None))
            story = "cancel_at_end"
        self._next_renewal(subscription_id, sub["current_period_end"], story, renewals + 1)

    def upgrade(self, uow: UnitOfWork, *, subscription_id: str, months: int) -> None:
        current = uow.subscriptions.get(subscription_id)
        if current is None or current["status"] != "active" or current["open_payment_id"]:
            return
        item_id, monthly = PLANS[-1]
        _, payment = subscriptions.upgrade_subscription(
            uow, subscription_id, SYSTEM, item_id=item_id, fee=monthly * months)
        if payment is not None:
            subscriptions.confirm_subscription(uow, subscription_id, SYSTEM)

    def cancel(self, uow: UnitOfWork, *, subscription_id: str, customer: str | None = None,
               at_period_end: bool = False) -> None:
        current = uow.subscriptions.get(subscription_id)
        if current is None or current["status"] not in ("active", "past_due"):
            return
        actor = SYSTEM if customer is None else Actor(Role.CUSTOMER, customer)
        subscriptions.cancel_subscription(uow, subscription_id, actor,
                                          at_period_end=at_period_end,
                                          reason="no longer needed")

    # -- at the end ---------------------------------------------------------------------

    @staticmethod
    def finish(storage: Storage, rng: random.Random, end: datetime,
               customers: list[str]) -> dict[str, Counter[str]]:
        """What the background job would have done by now, a few applications still at the
        simulator's checkout, and the tally."""
        while orders.settle_cancelled(storage):
            pass
        while subscriptions.advance_subscriptions(storage, end):
            pass
        with storage.unit_of_work() as uow:
            for n in range(2):
                item_id, monthly = PLANS[n + 1]
                subscriptions.create_subscription(uow, CreateSubscription(
                    customer_id=rng.choice(customers), seller_id=TUTOR,
                    item_id=item_id, period_months=6, fee=monthly * 6, currency="USD",
                    method="card", gateway="simulator"), SYSTEM)
            uow.commit()
        with storage.unit_of_work(readonly=True) as uow:
            return {name: Counter(dict(uow.conn.execute(
                select(table.c.status, func.count()).group_by(table.c.status)).all()))
                for name, table in (("orders", tables.orders),
                                    ("subscriptions", tables.subscriptions))}


def _months_before(moment: datetime, months: int) -> datetime:
    """A start whose period of ``months`` ends at about ``moment``."""
    start = moment - timedelta(days=31 * months)
    while add_months(start, months) < moment - timedelta(hours=12):
        start += timedelta(days=1)
    return start
