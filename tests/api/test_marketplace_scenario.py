"""A marketplace over three simulated weeks, through the HTTP API (issue 9, item 7).

Three sellers in two currencies (USD, and JPY with no minor unit), a platform-funded
percent coupon and a seller-funded fixed one; partial and full refunds before the hold
ends, after the release and after a payout (so a seller falls into debt that a later
release partly recovers); a dispute won and one lost after the release; payouts paid,
failed and canceled; releases run by the server's upkeep (``upkeep.run_once``) as the
simulated clock moves on.

After every phase, every seller's five balance figures, its earnings and the platform's
accounts are compared with ``Books``, an expected model written from the rules as the
README and DESIGN state them. It never calls paytrack's split or refund code, and at the
end its own figures are checked against a table worked out by hand, so neither the model
nor paytrack can agree with the other by sharing a mistake.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.splits import Policy
from paytrack.entrypoints.upkeep import run_once
from tests.api.conftest import Api

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # day 0 of the scenario
PLATFORM_RATE = Decimal("0.20")  # PAYTRACK_COMMISSION_RATE's default
PLATFORM_HOLD_DAYS = 7
FIGURES = ("pending", "available", "in_transit", "paid_out", "debt")
# The account a paid payout leaves, per method (README, Payouts).
PAYOUT_CLEARING = {"bank_transfer": "gateway:manual:clearing",
                   "paypal": "gateway:paypal:clearing",
                   "stripe_connect": "gateway:stripe:clearing"}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(commission_rate=PLATFORM_RATE,
                                  hold_days=PLATFORM_HOLD_DAYS), clock=clock)


# -- the expected model -----------------------------------------------------------------


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(amount: int, part: int, whole: int) -> int:
    """``amount × part / whole``, which the scenario's amounts keep exact (a 25%, 50% or
    100% refund): the proportional rule then has one answer, whatever the rounding."""
    quotient, remainder = divmod(amount * part, whole)
    assert remainder == 0, f"pick amounts whose share is exact: {amount} × {part} / {whole}"
    return quotient


@dataclass(frozen=True)
class Coupon:
    code: str
    funded_by: str  # "platform" or "seller"
    percent_off: Decimal | None = None
    amount_off: int | None = None

    def discount(self, subtotal: int) -> int:
        # percent: round_half_up(subtotal × percent_off), at most the subtotal;
        # fixed: min(amount_off, subtotal).
        if self.percent_off is not None:
            return min(round_half_up(subtotal * self.percent_off), subtotal)
        assert self.amount_off is not None
        return min(self.amount_off, subtotal)


@dataclass
class Sale:
    """A captured payment and the earning behind its seller's balance."""

    seller: str
    currency: str
    gateway: str
    total: int  # what the customer paid
    seller_amount: int
    platform_fee: int
    platform_discount: int  # the discount the platform funds (platform:discounts)
    available_on: datetime
    id: str = ""
    refunded: int = 0  # of ``total``, given back by refunds
    disputed: int = 0  # of ``total``, held by an open or lost dispute
    status: str = "succeeded"
    # the earning: still held, released (debt recovered from it included), and the
    # seller's part of refunds and lost disputes
    pending: int = 0
    released: int = 0
    earning_refunded: int = 0
    is_released: bool = False

    def legs_taken(self, taken: int) -> tuple[int, int, int]:
        """(seller, platform, discount) taken back once ``taken`` of the total is: each leg
        in proportion. With a platform-funded discount the legs sum to total + discount,
        so the customer's money takes back its share of both, and the difference returns
        to platform:discounts."""
        return (share(taken, self.seller_amount, self.total),
                share(taken, self.platform_fee, self.total),
                share(taken, self.platform_discount, self.total))

    def take(self, amount: int) -> tuple[int, int, int]:
        """The legs one refund or dispute of ``amount`` takes back: computed from the
        cumulative amount taken back (refunds, open and lost disputes), after minus
        before, so the parts of many add up to the parts of their sum."""
        before = self.refunded + self.disputed
        after, earlier = self.legs_taken(before + amount), self.legs_taken(before)
        seller, platform, discount = (a - b for a, b in zip(after, earlier, strict=True))
        return seller, platform, discount


@dataclass
class Hold:
    """A dispute: its amount and the parts taken back at opening."""

    sale: Sale
    amount: int
    fee: int
    seller_part: int
    platform_part: int
    discount_part: int
    status_before: str = ""  # where a won dispute returns the payment
    id: str = ""


@dataclass
class Payout:
    seller: str
    currency: str
    amount: int
    method: str
    id: str = ""


def _zero() -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0)


@dataclass
class Books:
    """What every balance should be, from the documented rules alone."""

    rates: dict[str, Decimal] = field(default_factory=dict)  # sellers' own commission
    hold_days: dict[str, int] = field(default_factory=dict)  # sellers' own hold period
    sales: dict[str, Sale] = field(default_factory=dict)
    sellers: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(_zero))  # (seller, currency) -> five figures
    house: dict[tuple[str, str], int] = field(
        default_factory=lambda: defaultdict(int))  # (account, currency) -> normal balance

    # capture ---------------------------------------------------------------------------

    def capture(self, name: str, seller: str, currency: str, subtotal: int, *,
                coupon: Coupon | None, gateway: str, now: datetime) -> Sale:
        discount = coupon.discount(subtotal) if coupon else 0
        total = subtotal - discount
        platform_funded = coupon is not None and coupon.funded_by == "platform"
        # The split: fee = round_half_up(base × rate), the seller gets base − fee. The rate
        # is the seller's own, else the platform's. Seller-funded (or no coupon), the base
        # is the discounted total; platform-funded, the undiscounted one, and the platform
        # bears the discount in platform:discounts.
        base = subtotal if platform_funded else total
        fee = round_half_up(base * self.rates.get(seller, PLATFORM_RATE))
        # Held: pending until capture + hold days (the seller's own, else the platform's).
        hold = timedelta(days=self.hold_days.get(seller, PLATFORM_HOLD_DAYS))
        sale = Sale(seller, currency, gateway, total, base - fee, fee,
                    discount if platform_funded else 0, available_on=now + hold,
                    pending=base - fee)
        self.sales[name] = sale
        # Capture: debit the gateway's clearing with the total (and platform:discounts with
        # a platform-funded discount); credit the seller's pending and platform:revenue.
        self.house["gateway:" + gateway + ":clearing", currency] += total
        self.house["platform:discounts", currency] += sale.platform_discount
        self.house["platform:revenue", currency] += fee
        self.sellers[seller, currency]["pending"] += sale.seller_amount
        return sale

    # the seller's money: taken back, given back, released -----------------------------

    def take_back(self, sale: Sale, amount: int) -> None:
        """A refund's or dispute's seller part: from the payment's held earning while it is
        held, after the release from available; what available cannot cover is debt."""
        balance = self.sellers[sale.seller, sale.currency]
        if not sale.is_released:
            from_pending = min(sale.pending, amount)
            sale.pending -= from_pending
            balance["pending"] -= from_pending
            amount -= from_pending
        from_available = min(balance["available"], amount)
        balance["available"] -= from_available
        balance["debt"] += amount - from_available

    def give_back(self, sale: Sale, amount: int) -> None:
        """A won dispute's seller part: to the held earning if still held, else it pays
        down the seller's debt, then goes to available."""
        balance = self.sellers[sale.seller, sale.currency]
        if not sale.is_released:
            sale.pending += amount
            balance["pending"] += amount
            return
        to_debt = min(balance["debt"], amount)
        balance["debt"] -= to_debt
        balance["available"] += amount - to_debt

    def release(self, now: datetime) -> None:
        """Every earning due by ``now`` moves pending -> available; the seller's debt is
        recovered from it first."""
        for sale in self.sales.values():
            if sale.is_released or sale.available_on > now:
                continue
            balance = self.sellers[sale.seller, sale.currency]
            amount, sale.pending = sale.pending, 0
            sale.released += amount
            sale.is_released = True
            recovered = min(balance["debt"], amount)
            balance["pending"] -= amount
            balance["debt"] -= recovered
            balance["available"] += amount - recovered

    # refunds and disputes ------------------------------------------------------------

    def refund(self, name: str, amount: int | None) -> tuple[int, int, int]:
        """Refund ``amount`` (None: all that is left): every leg comes back in proportion,
        computed from the cumulative amount taken back. Returns (seller_part,
        platform_part, discount_part)."""
        sale = self.sales[name]
        if amount is None:
            amount = sale.total - sale.refunded - sale.disputed
        seller_part, platform_part, discount_part = sale.take(amount)
        sale.refunded += amount
        # The mirror of the capture: credit clearing with what the customer gets back and
        # platform:discounts with the discount returning with it; debit revenue and the
        # seller (pending, available, debt).
        self.house["gateway:" + sale.gateway + ":clearing", sale.currency] -= amount
        self.house["platform:discounts", sale.currency] -= discount_part
        self.house["platform:revenue", sale.currency] -= platform_part
        self.take_back(sale, seller_part)
        sale.earning_refunded += seller_part
        sale.status = "refunded" if sale.refunded == sale.total else "partially_refunded"
        return seller_part, platform_part, discount_part

    def open_dispute(self, name: str, amount: int, fee: int) -> Hold:
        """Held at once: the legs are taken back as a refund of the amount would take them;
        the seller's part from its money (pending, available, debt), the rest from
        platform:disputes, which also bears the gateway's fee."""
        sale = self.sales[name]
        hold = Hold(sale, amount, fee, *sale.take(amount), status_before=sale.status)
        sale.disputed += amount
        self.house["gateway:" + sale.gateway + ":clearing", sale.currency] -= amount + fee
        self.house["platform:disputes", sale.currency] += amount - hold.seller_part + fee
        self.take_back(sale, hold.seller_part)
        sale.status = "disputed"
        return hold

    def win(self, hold: Hold) -> None:
        """The mirror of the hold, the fee aside (the gateway keeps it)."""
        sale = hold.sale
        sale.disputed -= hold.amount
        self.house["gateway:" + sale.gateway + ":clearing", sale.currency] += hold.amount
        self.house["platform:disputes", sale.currency] -= hold.amount - hold.seller_part
        self.give_back(sale, hold.seller_part)
        sale.status = hold.status_before

    def lose(self, hold: Hold) -> None:
        """The seller's part already left (now counted as refunded); the platform's leaves
        platform:revenue, a platform-funded discount returns to platform:discounts, so
        platform:disputes keeps only the fee."""
        sale = hold.sale
        self.house["platform:revenue", sale.currency] -= hold.platform_part
        self.house["platform:discounts", sale.currency] -= hold.discount_part
        self.house["platform:disputes", sale.currency] -= hold.amount - hold.seller_part
        sale.earning_refunded += hold.seller_part
        sale.status = "charged_back"

    # payouts ---------------------------------------------------------------------------

    def request_payout(self, payout: Payout) -> None:
        """available -> in transit, at once (never below zero)."""
        balance = self.sellers[payout.seller, payout.currency]
        assert balance["available"] >= payout.amount, "the scenario overdraws"
        balance["available"] -= payout.amount
        balance["in_transit"] += payout.amount

    def pay(self, payout: Payout) -> None:
        """in transit -> out of the method's clearing account; counted in paid_out."""
        balance = self.sellers[payout.seller, payout.currency]
        balance["in_transit"] -= payout.amount
        balance["paid_out"] += payout.amount
        self.house[PAYOUT_CLEARING[payout.method], payout.currency] -= payout.amount

    def return_payout(self, payout: Payout) -> None:
        """Failed or canceled: in transit -> back to available."""
        balance = self.sellers[payout.seller, payout.currency]
        balance["in_transit"] -= payout.amount
        balance["available"] += payout.amount


# -- driving the API ------------------------------------------------------------------


class Marketplace:
    """The scenario's actors on the HTTP API, each step mirrored in ``Books``."""

    def __init__(self, admin: Api, as_key, storage: Storage, clock: Clock) -> None:
        self.admin, self.as_key, self.storage, self.clock = admin, as_key, storage, clock
        self.books = Books()
        self.sellers: dict[str, Api] = {}
        self.coupons: dict[str, Coupon] = {}
        self.payouts: list[Payout] = []

    def day(self, number: int, hours: int = 0) -> None:
        now = START + timedelta(days=number, hours=hours)
        assert now >= self.clock.now, "time only moves forward"
        self.clock.now = now

    def upkeep(self) -> None:
        """What ``paytrack serve`` does every few seconds: release what is due."""
        run_once(self.storage)
        self.books.release(self.clock.now)

    # setup -----------------------------------------------------------------------------

    def seller(self, seller_id: str, account: dict, **terms) -> Api:
        ok(self.admin.put(f"/v1/sellers/{seller_id}", json={"name": seller_id, **terms}))
        if "commission_rate" in terms:
            self.books.rates[seller_id] = Decimal(terms["commission_rate"])
        if "hold_days" in terms:
            self.books.hold_days[seller_id] = terms["hold_days"]
        key = self.as_key("seller", seller_id=seller_id)
        ok(key.put(f"/v1/sellers/{seller_id}/payout-account", json=account))
        self.sellers[seller_id] = key
        return key

    def coupon(self, coupon: Coupon, **terms) -> None:
        body = {"code": coupon.code, "funded_by": coupon.funded_by, **terms}
        if coupon.percent_off is not None:
            body |= {"kind": "percent", "percent_off": str(coupon.percent_off)}
        else:
            body |= {"kind": "fixed", "amount_off": coupon.amount_off}
        created = ok(self.admin.post("/v1/coupons", json=body), 201)
        assert created["funded_by"] == coupon.funded_by
        self.coupons[coupon.code] = coupon

    # sales, refunds, disputes ------------------------------------------------------------

    def sell(self, name: str, seller: str, currency: str, subtotal: int, *,
             coupon: str | None = None, gateway: str = "stripe") -> Sale:
        """A customer buys: the payment is created, then the gateway confirms it."""
        expected = self.books.capture(name, seller, currency, subtotal,
                                      coupon=self.coupons[coupon] if coupon else None,
                                      gateway=gateway, now=self.clock.now)
        body = {"customer_id": f"cust_{name}", "seller_id": seller, "item_type": "course",
                "item_id": f"course_{seller}_{name}", "currency": currency,
                "subtotal": subtotal, "method": "card", "gateway": gateway}
        if coupon:
            body["coupon_code"] = coupon.lower()  # codes match whatever their case
        created = ok(self.admin.post("/v1/payments", json=body), 201)
        payment = ok(self.admin.post(f"/v1/payments/{created['id']}/capture"))
        assert (payment["status"], payment["total"], payment["seller_amount"],
                payment["platform_fee"], payment["platform_discount"]) == (
            "succeeded", expected.total, expected.seller_amount, expected.platform_fee,
            expected.platform_discount), (name, payment)
        expected.id = payment["id"]
        return expected

    def refund(self, name: str, amount: int | None, *, requested_by: Api | None = None
               ) -> None:
        """Refunded in one step by an admin, or asked for by ``requested_by`` (the customer
        or the seller) and approved by an admin."""
        sale = self.books.sales[name]
        body = {"payment_id": sale.id, "reason": f"refund of {name}"}
        if amount is not None:
            body["amount"] = amount
        if requested_by is None:
            refund = ok(self.admin.post("/v1/refunds", json={**body, "approve": True}), 201)
        else:
            asked = ok(requested_by.post("/v1/refunds", json=body), 201)
            assert asked["status"] == "requested"
            refund = ok(self.admin.post(f"/v1/refunds/{asked['id']}/approve"))
        parts = self.books.refund(name, amount)
        assert refund["status"] == "succeeded"
        assert (refund["seller_part"], refund["platform_part"], refund["discount_part"]) == \
            parts, (name, refund)
        assert refund["amount"] == parts[0] + parts[1] - parts[2]

    def dispute(self, name: str, amount: int, fee: int) -> Hold:
        hold = self.books.open_dispute(name, amount, fee)
        opened = ok(self.admin.post("/v1/disputes", json={
            "payment_id": hold.sale.id, "amount": amount, "fee": fee,
            "reason": "customer says the course was never delivered",
            "reason_code": "product_not_received"}), 201)
        assert (opened["status"], opened["seller_part"], opened["platform_part"],
                opened["discount_part"]) == (
            "open", hold.seller_part, hold.platform_part, hold.discount_part), opened
        hold.id = opened["id"]
        return hold

    def decide(self, hold: Hold, verb: str) -> None:
        decided = ok(self.admin.post(f"/v1/disputes/{hold.id}/{verb}",
                                     json={"reason": f"issuer ruled: {verb}"}))
        assert decided["status"] == {"win": "won", "lose": "lost"}[verb]
        (self.books.win if verb == "win" else self.books.lose)(hold)

    # payouts -----------------------------------------------------------------------------

    def request_payout(self, seller: str, currency: str, amount: int, method: str) -> Payout:
        """The seller asks for its own money."""
        payout = Payout(seller, currency, amount, method)
        created = ok(self.sellers[seller].post("/v1/payouts", json={
            "amount": amount, "currency": currency, "method": method}), 201)
        assert (created["seller_id"], created["status"]) == (seller, "requested")
        payout.id = created["id"]
        self.books.request_payout(payout)
        self.payouts.append(payout)
        return payout

    def approve(self, payout: Payout) -> None:
        assert ok(self.admin.post(f"/v1/payouts/{payout.id}/approve"))["status"] == "approved"

    def pay(self, payout: Payout) -> None:
        paid = ok(self.admin.post(f"/v1/payouts/{payout.id}/pay",
                                  json={"reference": f"tr_{payout.id[-8:]}"}))
        assert paid["status"] == "paid"
        self.books.pay(payout)

    def fail(self, payout: Payout) -> None:
        failed = ok(self.admin.post(f"/v1/payouts/{payout.id}/fail",
                                    json={"reason": "account closed"}))
        assert failed["status"] == "failed"
        self.books.return_payout(payout)

    def cancel(self, payout: Payout) -> None:
        """The seller withdraws its own request before approval."""
        canceled = ok(self.sellers[payout.seller].post(f"/v1/payouts/{payout.id}/cancel",
                                                       json={"reason": "changed my mind"}))
        assert canceled["status"] == "canceled"
        self.books.return_payout(payout)

    # checks ------------------------------------------------------------------------------

    def check(self, phase: str) -> None:
        """Every seller's five figures in every currency, its earnings, the platform's
        accounts and the ledger's own proofs, against the books."""
        for seller in self.sellers:
            shown = ok(self.admin.get(f"/v1/sellers/{seller}/balance"))
            assert shown["seller_id"] == seller
            got = {row["currency"]: {k: row[k] for k in FIGURES} for row in shown["balances"]}
            expected = {cur: dict(b) for (s, cur), b in self.books.sellers.items()
                        if s == seller}
            for currency in got.keys() | expected.keys():
                assert got.get(currency, _zero()) == expected.get(currency, _zero()), (
                    phase, seller, currency)
            self.check_earnings(phase, seller, self.admin)
        accounts = ok(self.admin.get("/v1/ledger/accounts", params={"limit": 100}))
        assert not accounts["has_more"]
        got = {(a["code"], a["currency"]): a["balance"] for a in accounts["data"]
               if a["code"].startswith(("platform:", "gateway:"))}
        for key in got.keys() | self.books.house.keys():
            assert got.get(key, 0) == self.books.house.get(key, 0), (phase, key)
        trial = ok(self.admin.get("/v1/ledger/trial-balance"))
        assert trial["balanced"] is True, (phase, trial)
        verified = ok(self.admin.get("/v1/ledger/verify"))
        assert verified["ok"] is True, (phase, verified)

    def check_earnings(self, phase: str, seller: str, reader: Api) -> None:
        page = ok(reader.get(f"/v1/sellers/{seller}/earnings", params={"limit": 100}))
        got = {e["payment_id"]: e for e in page["data"]}
        expected = {s.id: s for s in self.books.sales.values() if s.seller == seller}
        assert got.keys() == expected.keys(), (phase, seller)
        for payment_id, sale in expected.items():
            earning = got[payment_id]
            assert (earning["currency"], earning["gross"], earning["commission"],
                    earning["net"], earning["refunded"], earning["pending"],
                    earning["released"], earning["status"]) == (
                sale.currency, sale.total, sale.platform_fee, sale.seller_amount,
                sale.earning_refunded, sale.pending, sale.released,
                "released" if sale.is_released else "pending"), (phase, seller, earning)
            assert datetime.fromisoformat(earning["available_on"]) == sale.available_on


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


# -- the scenario ---------------------------------------------------------------------

WELCOME10 = Coupon("WELCOME10", "platform", percent_off=Decimal("0.10"))
BOB5 = Coupon("BOB5", "seller", amount_off=500)

BANK = {"method": "bank_transfer", "account_holder": "Ada Lovelace",
        "iban": "DE89 3704 0044 0532 0130 00"}
PAYPAL = {"method": "paypal", "email": "bob@example.com"}
CONNECT = {"method": "stripe_connect", "account_id": "acct_1Nv0FGQ9RKHgCVdK"}


def test_three_weeks_of_a_marketplace(admin, as_key, storage, clock):
    m = Marketplace(admin, as_key, storage, clock)
    books = m.books

    # Setup. inst_ada: the platform's rate (0.20) and hold (7 days), USD and JPY.
    # inst_bob: its own rate, 0.15. inst_cy: its own hold, 3 days.
    ada = m.seller("inst_ada", BANK)
    bob = m.seller("inst_bob", PAYPAL, commission_rate="0.15")
    cy = m.seller("inst_cy", CONNECT, hold_days=3)
    m.coupon(WELCOME10)  # 10% off, any currency, the platform pays for it
    m.coupon(BOB5, currency="USD", seller_ids=["inst_bob"])  # 5.00 off, bob pays for it

    # Day 0: the first sales.
    m.sell("p1", "inst_ada", "USD", 10000)                     # fee 2000, seller 8000
    m.sell("p2", "inst_ada", "USD", 20000, coupon="WELCOME10")  # pays 18000; 4000 / 16000
    m.sell("p3", "inst_bob", "USD", 10500, coupon="BOB5",
           gateway="paypal")                                   # pays 10000; 1500 / 8500
    m.sell("p4", "inst_ada", "JPY", 5000)                      # fee 1000, seller 4000
    m.sell("p5", "inst_cy", "USD", 8000, gateway="paypal")     # fee 1600, seller 6400
    m.check("day 0: captured, all pending")

    # Day 1: a full refund before the release; halves round up (a cent, then a yen).
    m.day(1)
    m.sell("p6", "inst_bob", "USD", 1010)  # 1010 × 0.15 = 151.5 -> fee 152, seller 858
    m.refund("p6", 1010)                   # all of it back from pending
    m.sell("p7", "inst_cy", "JPY", 4995, coupon="WELCOME10")  # 499.5 -> 500 off; 999 / 3996
    # Day 2: the customer asks for a quarter of p1 back and an admin approves.
    m.day(2)
    m.refund("p1", 2500, requested_by=as_key("customer", customer_id="cust_p1"))
    # A dispute on a held, platform-discounted payment: seller 3996 from pending; the
    # platform holds 999 − 500 (its fee less the discount the customer did not pay) and
    # bears the gateway's 1000 fee. inst_cy defends it.
    jpy_dispute = m.dispute("p7", 4495, fee=1000)
    evidence = cy.post(f"/v1/disputes/{jpy_dispute.id}/evidence",
                       json={"text": "the student watched every lesson"})
    assert ok(evidence)["status"] == "under_review"
    m.check("day 2: refunds before the release, a dispute while held")

    # Day 3: inst_cy's 3-day hold ends for p5.
    m.day(3)
    m.upkeep()
    m.check("day 3: p5 released")

    # Days 4-5: inst_cy is paid part of p5, then p5 is disputed after the release: its
    # seller part takes what is left of available and the rest as debt.
    m.day(4)
    m.upkeep()  # p7: nothing left to release, the dispute holds it all
    cy_first = m.request_payout("inst_cy", "USD", 5000, "stripe_connect")
    m.approve(cy_first)
    m.day(5)
    m.pay(cy_first)
    usd_dispute = m.dispute("p5", 8000, fee=1500)  # seller 6400: 1400 available, 5000 debt
    m.check("day 5: paid out, then disputed into debt")

    # Day 7: the week-old sales are released; inst_bob is paid most of his.
    m.day(7)
    m.upkeep()
    bob_payout = m.request_payout("inst_bob", "USD", 8000, "paypal")
    m.approve(bob_payout)
    m.pay(bob_payout)
    m.check("day 7: released and paid out")

    # Day 8: refunds after the release (from available) and after the payout (into debt).
    m.day(8)
    m.upkeep()  # p6: nothing left to release
    m.refund("p2", 9000)  # half: seller 8000, platform 2000, 1000 back to discounts
    m.refund("p3", 2500, requested_by=bob)  # a quarter: seller 2125 = 500 avail. + 1625 debt
    m.refund("p3", None)  # the rest, 7500: seller 6375, all debt
    m.check("day 8: refunds after release and after payout")

    # Days 9-10: new sales; the JPY dispute is lost; inst_ada's payouts: one fails, one she
    # cancels, one is paid.
    m.day(9)
    m.sell("p8", "inst_cy", "USD", 4000)                   # fee 800, seller 3200
    m.sell("p9", "inst_bob", "USD", 6500, coupon="BOB5")  # pays 6000; 900 / 5100
    m.day(10)
    m.decide(jpy_dispute, "lose")  # revenue −999, discounts −500: disputes keeps the fee
    failed = m.request_payout("inst_ada", "USD", 10000, "bank_transfer")
    m.approve(failed)
    m.fail(failed)
    canceled = m.request_payout("inst_ada", "USD", 4000, "bank_transfer")
    m.cancel(canceled)
    ada_jpy = m.request_payout("inst_ada", "JPY", 3000, "bank_transfer")
    m.approve(ada_jpy)
    m.pay(ada_jpy)
    m.check("day 10: dispute lost, payouts failed, canceled and paid")

    # Day 12: p8's release pays down part of inst_cy's debt, then the USD dispute is won:
    # its 6400 pays down the rest (1800) and 4600 becomes available.
    m.day(12)
    m.upkeep()
    m.decide(usd_dispute, "win")
    m.check("day 12: debt partly recovered, dispute won")

    # Day 14: half of a platform-discounted sale is refunded while it is held.
    m.day(14)
    m.sell("p10", "inst_ada", "USD", 30000, coupon="WELCOME10")  # pays 27000; 6000 / 24000
    m.refund("p10", 13500)  # seller 12000 from pending, platform 3000, discounts 1500
    m.sell("p11", "inst_cy", "USD", 6000)  # fee 1200, seller 4800
    m.check("day 14")

    # Days 16-17: p9's release recovers only part of inst_bob's debt.
    m.day(16)
    m.upkeep()  # p9: 5100 of bob's 8000 debt
    m.day(17)
    m.upkeep()  # p11: 4800 to inst_cy's available
    m.check("day 17: debt partly recovered by a release")

    # Days 18-21: more sales, a JPY coupon refund while held, a last payout, and the rest
    # of p10 refunded after its release.
    m.day(18)
    m.sell("p12", "inst_bob", "USD", 20000)                      # fee 3000, seller 17000
    m.sell("p13", "inst_ada", "JPY", 12000, coupon="WELCOME10")  # pays 10800; 2400 / 9600
    m.refund("p13", 2700)  # a quarter: seller 2400, platform 600, discounts 300
    cy_second = m.request_payout("inst_cy", "USD", 2500, "stripe_connect")
    m.approve(cy_second)
    m.check("day 18")
    m.day(20)
    m.pay(cy_second)
    m.day(21)
    m.upkeep()  # p10
    m.refund("p10", None)  # the other half, 13500: seller 12000 from available
    m.check("day 21: the end")

    # The books themselves, against figures worked out by hand from the timeline above.
    assert dict(books.sellers) == {
        ("inst_ada", "USD"): {"pending": 0, "available": 14000, "in_transit": 0,
                              "paid_out": 0, "debt": 0},
        ("inst_ada", "JPY"): {"pending": 7200, "available": 1000, "in_transit": 0,
                              "paid_out": 3000, "debt": 0},
        ("inst_bob", "USD"): {"pending": 17000, "available": 0, "in_transit": 0,
                              "paid_out": 8000, "debt": 2900},
        ("inst_cy", "USD"): {"pending": 0, "available": 6900, "in_transit": 0,
                             "paid_out": 7500, "debt": 0},
        ("inst_cy", "JPY"): {"pending": 0, "available": 0, "in_transit": 0,
                             "paid_out": 0, "debt": 0},
    }
    assert {k: v for k, v in books.house.items() if v} == {
        ("platform:revenue", "USD"): 11000,           # fees 21152 − refunds' parts 10152
        ("platform:revenue", "JPY"): 2800,            # 1000 + 999 + 2400 − 600 − 999 lost
        ("platform:discounts", "USD"): 1000,          # 2000 + 3000 − 1000 − 1500 − 1500
        ("platform:discounts", "JPY"): 900,           # 500 + 1200 − 300 − 500 lost
        ("platform:disputes", "USD"): 1500,           # the fees alone
        ("platform:disputes", "JPY"): 1000,
        ("gateway:stripe:clearing", "USD"): 45000,    # 92010 − 39510 refunded − 7500 paid out
        # 18000 − 10000 refunded − 9500 disputed with its fee + 8000 won − 8000 paid out
        ("gateway:paypal:clearing", "USD"): -1500,
        ("gateway:stripe:clearing", "JPY"): 12100,    # 20295 − 4495 − 1000 fee − 2700
        ("gateway:manual:clearing", "JPY"): -3000,    # ada's JPY bank payout
    }

    # Where the payments ended.
    for name, status, refunded in (("p2", "partially_refunded", 9000), ("p3", "refunded", 10000),
                                   ("p5", "succeeded", 0), ("p7", "charged_back", 0),
                                   ("p6", "refunded", 1010), ("p10", "refunded", 27000)):
        payment = ok(admin.get(f"/v1/payments/{books.sales[name].id}"))
        assert (payment["status"], payment["refunded_amount"]) == (status, refunded), name
        assert books.sales[name].status == status

    # Each seller sees its own balance, earnings and payouts, and nothing of another's.
    for seller, key in m.sellers.items():
        assert ok(key.get(f"/v1/sellers/{seller}/balance")) == ok(
            admin.get(f"/v1/sellers/{seller}/balance"))
        m.check_earnings("own view", seller, key)
        own = ok(key.get("/v1/payouts", params={"limit": 100}))["data"]
        assert {(p["id"], p["status"]) for p in own} == {
            (p.id, ok(admin.get(f"/v1/payouts/{p.id}"))["status"])
            for p in m.payouts if p.seller == seller}
        for other in m.sellers.keys() - {seller}:
            for path in (f"/v1/sellers/{other}/balance", f"/v1/sellers/{other}/earnings"):
                assert key.get(path).status_code == 404, (seller, path)
            assert ok(key.get("/v1/payouts", params={"seller_id": other}))["data"] == []
            for payout in (p for p in m.payouts if p.seller == other):
                assert key.get(f"/v1/payouts/{payout.id}").status_code == 404
            for sale in (s for s in books.sales.values() if s.seller == other):
                assert key.get(f"/v1/payments/{sale.id}").status_code == 404
    assert {p["status"] for p in ok(ada.get("/v1/payouts"))["data"]} == {
        "failed", "canceled", "paid"}
