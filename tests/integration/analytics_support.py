"""A mixed marketplace for the analytics tests: coupons funded by the platform and by a
seller, partial and full refunds, disputes won and lost (one with a fee), a gateway fee,
a failed and a canceled payment, a payout, two sellers and three currencies, over four
days. ``EXPECTED`` is what the test itself computes from what it sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.splits import Bearer, CommissionBase, Policy
from paytrack.services import payouts, seller_funds
from paytrack.services.coupons import CreateCoupon, create_coupon
from paytrack.services.disputes import lose_dispute, open_dispute, win_dispute
from paytrack.services.payments import cancel_payment, capture_payment, fail_payment
from paytrack.services.refunds import refund_payment
from tests.clock import Clock
from tests.integration.conftest import ADMIN, committed, new_payment

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
# Commission 20% of subtotal − discount; tax and shipping to the platform's accounts.
POLICY = Policy(commission_base=CommissionBase.NET, shipping_collected_by=Bearer.PLATFORM,
                hold_days=0)

# Per currency, every figure as the test computes it from the amounts it sends below
# (each refund and dispute takes an exact share of its payment, so the legs are exact).
EXPECTED = {
    "USD": {
        # A 11500 (fee 320), B 18500 (platform-funded 1500 off 20000), C 5400 (10% off
        # 6000, seller-funded), D 5000; E failed, F canceled
        "transactions": 4, "failed": 2, "gross": 11500 + 18500 + 5400 + 5000,
        "discount": 1500 + 600, "platform_discount": 1500,
        "tax": 1000 - 500, "shipping": 500 - 250, "fees": 320,
        # commission 2000 + 4000 + 1080 + 1000, less A's half, D's all, C's half
        "platform_revenue": 2000 + 4000 + 1080 + 1000 - 1000 - 1000 - 540,
        "seller_earnings": 8000 + 16000 + 4320 + 4000 - 4000 - 4000 - 2160,
        "refunded": 5750 + 5000 + 2700, "refunds": 3,
        "disputed": 0, "disputes": 1, "dispute_losses": 0,  # B's dispute was won
    },
    "EUR": {
        # G 9900 (900 tax) disputed in full and lost (fee 1500); H 4000, half refunded
        "transactions": 2, "failed": 0, "gross": 9900 + 4000, "discount": 0,
        "platform_discount": 0, "tax": 900 - 900, "shipping": 0, "fees": 0,
        "platform_revenue": 1800 + 800 - 400 - 1800, "seller_earnings": 7200 + 3200 - 1600 - 7200,
        "refunded": 2000, "refunds": 1, "disputed": 9900, "disputes": 1,
        "dispute_losses": 9900,
    },
    "JPY": {
        # I 12000, half of it disputed and lost
        "transactions": 1, "failed": 0, "gross": 12000, "discount": 0, "platform_discount": 0,
        "tax": 0, "shipping": 0, "fees": 0, "platform_revenue": 2400 - 1200,
        "seller_earnings": 9600 - 4800, "refunded": 0, "refunds": 0, "disputed": 6000,
        "disputes": 1, "dispute_losses": 6000,
    },
}
for figures in EXPECTED.values():
    figures["net"] = figures["gross"] - figures["refunded"] - figures["dispute_losses"]
DISPUTE_FEES = {"USD": 0, "EUR": 1500, "JPY": 0}
PAID_OUT = {"USD": 5000, "EUR": 0, "JPY": 0}


def make_storage(engine, policy: Policy = POLICY, clock: Clock | None = None) -> Storage:
    return Storage(engine, policy, clock=clock or Clock(START),
                   payout_keys=PayoutKeyring.of(Fernet.generate_key()))


def marketplace(storage: Storage) -> dict[str, dict]:
    """Load the story; returns the payments by letter."""
    clock = storage.clock
    assert isinstance(clock, Clock)
    committed(storage, create_coupon, CreateCoupon(
        code="PLAT15", kind="fixed", amount_off=1500, currency="USD"), ADMIN)
    committed(storage, create_coupon, CreateCoupon(
        code="SELL10", kind="percent", percent_off="0.10", currency="USD",
        seller_ids=["s1"], funded_by="seller"), ADMIN)

    def pay(seller: str, customer: str, item: str, subtotal: int, **kw) -> dict:
        return new_payment(storage, seller_id=seller, customer_id=customer, item_id=item,
                           subtotal=subtotal, **kw)

    p = {
        "A": pay("s1", "c1", "py", 10000, tax=1000, shipping=500, gateway="stripe",
                 capture=False),
        "B": pay("s1", "c2", "py", 20000, coupon_code="PLAT15"),
        "C": pay("s1", "c3", "sql", 6000, coupon_code="SELL10", method="upi",
                 gateway="razorpay"),
        "D": pay("s2", "c2", "jazz", 5000, method="paypal", gateway="paypal"),
        "E": pay("s2", "c4", "jazz", 3000, gateway="stripe", capture=False),
        "F": pay("s1", "c1", "py", 2500, capture=False),
        "G": pay("s1", "c5", "py", 9000, tax=900, currency="EUR"),
        "H": pay("s2", "c5", "jazz", 4000, currency="EUR"),
        "I": pay("s2", "c6", "jazz", 12000, currency="JPY"),
    }
    p["A"] = committed(storage, capture_payment, p["A"]["id"], ADMIN, gateway_fee=320)
    committed(storage, fail_payment, p["E"]["id"], ADMIN, reason="card_declined")
    committed(storage, cancel_payment, p["F"]["id"], ADMIN)

    clock.advance(86400)  # day 2: refunds
    for letter, amount in (("A", 5750), ("D", 5000), ("C", 2700), ("H", 2000)):
        committed(storage, refund_payment, p[letter]["id"], ADMIN, reason="test",
                  amount=amount)

    clock.advance(86400)  # day 3: disputes
    lost = committed(storage, open_dispute, p["G"]["id"], ADMIN, amount=9900, reason="fraud",
                     fee=1500)
    committed(storage, lose_dispute, lost["id"], ADMIN)
    won = committed(storage, open_dispute, p["B"]["id"], ADMIN, amount=18500, reason="fraud")
    committed(storage, win_dispute, won["id"], ADMIN)
    half = committed(storage, open_dispute, p["I"]["id"], ADMIN, amount=6000, reason="fraud")
    committed(storage, lose_dispute, half["id"], ADMIN)

    clock.advance(86400)  # day 4: earnings released, one paid out
    committed(storage, seller_funds.release_due)
    committed(storage, payouts.set_payout_account, "s1", ADMIN, method="bank_transfer",
              details={"account_holder": "Ada Lovelace", "iban": "DE89370400440532013000"})
    payout = committed(storage, payouts.request_payout, ADMIN, amount=5000, currency="USD",
                       method="bank_transfer", seller_id="s1")
    committed(storage, payouts.approve_payout, payout["id"], ADMIN)
    committed(storage, payouts.pay_payout, payout["id"], ADMIN, reference="tr_1")
    clock.now = START + timedelta(days=3, hours=2)
    return p
