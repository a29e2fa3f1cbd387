"""What a dispute posts when it opens, is won and is lost: each entry balances, the seller's
and the platform's parts follow the payment's split (as a refund's would), and whatever the
outcome ``platform:disputes`` keeps only the fee."""

from collections import defaultdict
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from paytrack.domain.disputes import lost_entry, opened_entry, won_entry
from paytrack.domain.ledger import seller_available, seller_debt, seller_pending
from paytrack.domain.splits import (
    Bearer,
    Breakdown,
    CommissionBase,
    Policy,
    compute_split,
    taken_back,
)
from paytrack.domain.states import DISPUTE_TRANSITIONS, DisputeStatus, can_move

D = DisputeStatus


def _by_code(*entries):
    sums: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.postings:  # a lost dispute with no platform part moves nothing more
            entry.check_balanced()
        for p in entry.postings:
            sums[p.account.code] += p.amount_minor
    return {code: amount for code, amount in sums.items() if amount}


def _hold(amount, seller_side, fee=0):
    return opened_entry(dispute_id="dp_1", payment_id="pay_1", gateway="stripe",
                        currency="USD", amount=amount, seller_side=seller_side, fee=fee)


def test_opening_holds_the_sellers_and_the_platforms_parts_and_books_the_fee():
    split = compute_split(Breakdown(10000), Decimal("0.20"), Policy())  # 8000 / 2000
    parts, discount = taken_back(split, 10000, 0, 5000)
    assert (parts.seller_amount, parts.platform_fee, discount) == (4000, 1000, 0)
    entry = _hold(5000, [(seller_pending("s1"), 4000)], fee=1500)
    assert _by_code(entry) == {"gateway:stripe:clearing": -6500, "seller:s1:pending": 4000,
                               "platform:disputes": 2500}


def test_the_seller_side_may_come_from_pending_available_and_debt():
    side = [(seller_pending("s1"), 1000), (seller_available("s1"), 2000),
            (seller_debt("s1"), 5000)]
    assert _by_code(_hold(10000, side)) == {
        "gateway:stripe:clearing": -10000, "seller:s1:pending": 1000,
        "seller:s1:available": 2000, "seller:s1:debt": 5000, "platform:disputes": 2000}


def test_winning_releases_the_hold_but_not_the_fee():
    side = [(seller_pending("s1"), 4000)]
    won = won_entry(dispute_id="dp_1", payment_id="pay_1", gateway="stripe", currency="USD",
                    amount=5000, seller_side=side)
    assert _by_code(won) == {"gateway:stripe:clearing": 5000, "seller:s1:pending": -4000,
                             "platform:disputes": -1000}
    assert _by_code(_hold(5000, side, fee=1500), won) == {
        "gateway:stripe:clearing": -1500, "platform:disputes": 1500}


def test_losing_takes_the_platforms_part_from_revenue_tax_and_shipping():
    policy = Policy(commission_base=CommissionBase.NET, shipping_collected_by=Bearer.PLATFORM)
    split = compute_split(Breakdown(10000, tax=800, shipping=500), Decimal("0.20"), policy)
    parts, discount = taken_back(split, 11300, 0, 11300)
    side = [(seller_pending("s1"), parts.seller_amount)]
    lost = lost_entry(dispute_id="dp_1", payment_id="pay_1", currency="USD", amount=11300,
                      parts=parts, discount_part=discount)
    assert _by_code(_hold(11300, side, fee=1500), lost) == {
        "gateway:stripe:clearing": -12800, "seller:s1:pending": 8000,
        "platform:revenue": 2000, "platform:tax_payable": 800, "platform:shipping": 500,
        "platform:disputes": 1500}


def test_a_platform_funded_discount_larger_than_the_platforms_part_holds_a_negative_part():
    """Undiscounted 10000 (seller 8000, platform 2000); the platform funds 3000 of discount,
    so the customer paid 7000 and disputes all of it: the seller's part, 8000, is more than
    the dispute. The platform's held part is -1000, and when lost the discount returns."""
    split = compute_split(Breakdown(10000, discount=3000), Decimal("0.20"), Policy(),
                          platform_discount=3000)
    assert (split.seller_amount, split.platform_fee) == (8000, 2000)
    parts, discount = taken_back(split, 7000, 0, 7000)
    assert (parts.seller_amount, parts.platform_fee, discount) == (8000, 2000, 3000)
    side = [(seller_pending("s1"), 8000)]
    opened = _hold(7000, side)
    assert _by_code(opened) == {"gateway:stripe:clearing": -7000, "seller:s1:pending": 8000,
                                "platform:disputes": -1000}
    lost = lost_entry(dispute_id="dp_1", payment_id="pay_1", currency="USD", amount=7000,
                      parts=parts, discount_part=discount)
    assert _by_code(opened, lost) == {"gateway:stripe:clearing": -7000,
                                      "seller:s1:pending": 8000, "platform:revenue": 2000,
                                      "platform:discounts": -3000}
    won = won_entry(dispute_id="dp_1", payment_id="pay_1", gateway="stripe", currency="USD",
                    amount=7000, seller_side=side)
    assert _by_code(opened, won) == {}


@given(subtotal=st.integers(1, 10**9), discount_pct=st.integers(0, 100),
       funded_pct=st.integers(0, 100), tax=st.integers(0, 10**7),
       shipping=st.integers(0, 10**7), rate_bps=st.integers(0, 10000),
       refunded_pct=st.integers(0, 100), disputed_pct=st.integers(1, 100),
       fee=st.integers(0, 10**5), net=st.booleans(), won=st.booleans())
def test_every_dispute_balances_and_leaves_only_its_fee_in_platform_disputes(
        subtotal, discount_pct, funded_pct, tax, shipping, rate_bps, refunded_pct,
        disputed_pct, fee, net, won):
    discount = subtotal * discount_pct // 100
    if subtotal - discount + tax + shipping <= 0:
        return
    funded = discount * funded_pct // 100
    policy = Policy(commission_base=CommissionBase.NET if net else CommissionBase.TOTAL)
    breakdown = Breakdown(subtotal, discount, tax, shipping)
    total = breakdown.total
    split = compute_split(breakdown, Decimal(rate_bps) / 10000, policy,
                          platform_discount=funded)
    refunded = total * refunded_pct // 100
    amount = max(1, (total - refunded) * disputed_pct // 100)
    if refunded + amount > total:
        return
    parts, discount_part = taken_back(split, total, refunded, refunded + amount)
    side = [(seller_pending("s1"), parts.seller_amount)]
    opened = _hold(amount, side, fee=fee)
    if won:
        end = won_entry(dispute_id="dp_1", payment_id="pay_1", gateway="stripe",
                        currency="USD", amount=amount, seller_side=side)
    else:
        end = lost_entry(dispute_id="dp_1", payment_id="pay_1", currency="USD", amount=amount,
                         parts=parts, discount_part=discount_part)
    assert _by_code(opened, end).get("platform:disputes", 0) == fee


def test_a_dispute_goes_under_review_then_is_won_or_lost_and_stays_so():
    assert can_move(DISPUTE_TRANSITIONS, D.OPEN, D.UNDER_REVIEW)
    assert can_move(DISPUTE_TRANSITIONS, D.UNDER_REVIEW, D.UNDER_REVIEW)  # more evidence
    for start in (D.OPEN, D.UNDER_REVIEW):
        assert can_move(DISPUTE_TRANSITIONS, start, D.WON)
        assert can_move(DISPUTE_TRANSITIONS, start, D.LOST)
    for end in (D.WON, D.LOST):
        assert not any(can_move(DISPUTE_TRANSITIONS, end, s) for s in D)
