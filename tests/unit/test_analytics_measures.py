"""What each journal entry about a payment adds to the revenue figures, computed from its
postings (domain/analytics.py): the entries are built by the same functions the services
post, so a figure is what the balances say."""

from decimal import Decimal

import pytest

from paytrack.domain.analytics import Measures, RevenueTags, ended_unpaid, measures_of
from paytrack.domain.disputes import lost_entry, opened_entry, won_entry
from paytrack.domain.errors import LedgerError
from paytrack.domain.ledger import JournalEntry, gateway_clearing, seller_pending
from paytrack.domain.payments import capture_entry, refund_entry
from paytrack.domain.reconciliation import fee_adjustment_entry
from paytrack.domain.splits import (
    Bearer,
    Breakdown,
    CommissionBase,
    Policy,
    Split,
    compute_split,
    taken_back,
)

NET = Policy(commission_base=CommissionBase.NET, shipping_collected_by=Bearer.PLATFORM)


def tags(discount: int = 0, *, dispute_amount: int = 0, coupon: str | None = None,
         funded_by: str | None = None) -> RevenueTags:
    return RevenueTags(payment_id="pay_1", currency="USD", seller_id="s1", customer_id="c1",
                       item_type="course", item_id="py", method="card", gateway="stripe",
                       coupon_id=coupon, discount_funded_by=funded_by, discount=discount,
                       dispute_amount=dispute_amount)


def capture(split: Split, *, fee: int = 0, bearer: Bearer = Bearer.PLATFORM,
            platform_discount: int = 0, discount: int = 0) -> Measures:
    return measures_of(capture_entry(
        payment_id="pay_1", gateway="stripe", seller_id="s1", currency="USD", split=split,
        gateway_fee=fee, fee_bearer=bearer, platform_discount=platform_discount,
        about=tags(discount)))


def test_a_capture_counts_its_total_commission_and_seller_share():
    # 100.00 less 10.00 seller-funded discount, 8.00 tax, 5.00 shipping, base net, 20%
    split = compute_split(Breakdown(10000, 1000, 800, 500), Decimal("0.20"), NET)
    assert capture(split, discount=1000) == Measures(
        captured=1, gross=10300, discount=1000, platform_revenue=1800, seller_earnings=7200,
        tax=800, shipping=500)


def test_a_gateway_fee_the_platform_bears_is_a_fee_and_leaves_the_seller_whole():
    split = Split(seller_amount=8000, platform_fee=2000)
    measures = capture(split, fee=320)
    assert (measures.gross, measures.fees, measures.seller_earnings,
            measures.platform_revenue) == (10000, 320, 8000, 2000)


def test_a_gateway_fee_the_seller_bears_comes_out_of_its_earnings():
    split = Split(seller_amount=8000, platform_fee=2000)
    measures = capture(split, fee=320, bearer=Bearer.SELLER)
    assert (measures.gross, measures.fees, measures.seller_earnings,
            measures.platform_revenue) == (10000, 320, 7680, 2000)


def test_a_fee_larger_than_the_sellers_share_still_counts_once():
    split = Split(seller_amount=100, platform_fee=400)  # beyond the share: seller debt
    measures = capture(split, fee=300, bearer=Bearer.SELLER)
    assert (measures.gross, measures.fees, measures.seller_earnings) == (500, 300, -200)


def test_a_platform_funded_coupon_is_the_platforms_cost_not_the_sellers():
    # 100.00 with a 15.00 platform-funded coupon: the split is computed on 100.00
    split = compute_split(Breakdown(10000, 1500), Decimal("0.20"), Policy(),
                          platform_discount=1500)
    measures = capture(split, platform_discount=1500, discount=1500)
    assert measures == Measures(captured=1, gross=8500, discount=1500, platform_discount=1500,
                                platform_revenue=2000, seller_earnings=8000)


def test_a_partial_refund_takes_back_each_leg_in_proportion():
    split = compute_split(Breakdown(10000, 0, 1000), Decimal("0.20"), NET)  # 8000/2000/1000
    parts, discount_part = taken_back(split, 11000, 0, 5500)
    measures = measures_of(refund_entry(
        payment_id="pay_1", refund_id="re_1", gateway="stripe", currency="USD", parts=parts,
        seller_side=[(seller_pending("s1"), parts.seller_amount)],
        discount_part=discount_part, about=tags()))
    assert measures == Measures(refunded=5500, refunds=1, platform_revenue=-1000,
                                seller_earnings=-4000, tax=-500)


def test_refunding_a_platform_funded_discount_returns_it_to_the_platform():
    split = compute_split(Breakdown(10000, 2000), Decimal("0.20"), Policy(),
                          platform_discount=2000)  # legs 8000 + 2000 for a total of 8000
    parts, discount_part = taken_back(split, 8000, 0, 8000)
    measures = measures_of(refund_entry(
        payment_id="pay_1", refund_id="re_1", gateway="stripe", currency="USD", parts=parts,
        seller_side=[(seller_pending("s1"), parts.seller_amount)],
        discount_part=discount_part, about=tags(2000)))
    assert measures == Measures(refunded=8000, refunds=1, platform_discount=-2000,
                                platform_revenue=-2000, seller_earnings=-8000)


def _dispute_parts() -> tuple[Split, int]:
    split = compute_split(Breakdown(10000, 0, 1000), Decimal("0.20"), NET)
    return taken_back(split, 11000, 0, 11000)


def test_an_opened_dispute_holds_its_amount_and_the_sellers_part_but_not_its_fee():
    parts, _ = _dispute_parts()
    entry = opened_entry(dispute_id="dp_1", payment_id="pay_1", gateway="stripe",
                         currency="USD", amount=11000, fee=1500,
                         seller_side=[(seller_pending("s1"), parts.seller_amount)],
                         about=tags(dispute_amount=11000))
    assert measures_of(entry) == Measures(disputed=11000, disputes=1, seller_earnings=-8000)


def test_a_won_dispute_returns_what_it_held():
    entry = won_entry(dispute_id="dp_1", payment_id="pay_1", gateway="stripe", currency="USD",
                      amount=11000, seller_side=[(seller_pending("s1"), 8000)],
                      about=tags(dispute_amount=11000))
    assert measures_of(entry) == Measures(disputed=-11000, seller_earnings=8000)


def test_a_lost_dispute_is_a_loss_and_takes_the_platforms_part_from_its_revenue():
    parts, discount_part = _dispute_parts()
    entry = lost_entry(dispute_id="dp_1", payment_id="pay_1", currency="USD", amount=11000,
                       parts=parts, discount_part=discount_part,
                       about=tags(dispute_amount=11000))
    measures = measures_of(entry)
    assert measures == Measures(dispute_losses=11000, platform_revenue=-2000, tax=-1000)
    assert measures.net == -11000


def test_a_settlement_reports_fee_difference_is_a_fee():
    entry = fee_adjustment_entry(payment_id="pay_1", gateway="stripe", currency="USD",
                                 recorded_fee=300, report_fee=350, about=tags())
    assert entry is not None
    assert measures_of(entry) == Measures(fees=50)


def test_net_is_gross_less_refunds_and_dispute_losses():
    assert Measures(gross=10000, refunded=2500, dispute_losses=1000, disputed=4000).net == 6500
    assert ended_unpaid() + ended_unpaid(-1) == Measures()


@pytest.mark.parametrize("about", [None, tags()], ids=["no tags", "another payment's tags"])
def test_an_entry_about_a_payment_must_carry_that_payments_tags(about):
    entry = JournalEntry("payment.captured", "capture", payment_id="pay_2", about=about)
    entry.debit(gateway_clearing("stripe"), "USD", 100).credit(seller_pending("s1"), "USD", 100)
    with pytest.raises(LedgerError, match="revenue tags"):
        entry.check_about()


def test_an_entry_about_a_payment_posts_in_the_payments_currency():
    entry = JournalEntry("payment.captured", "capture", payment_id="pay_1", about=tags())
    entry.debit(gateway_clearing("stripe"), "EUR", 100).credit(seller_pending("s1"), "EUR", 100)
    with pytest.raises(LedgerError, match="currency"):
        entry.check_about()
