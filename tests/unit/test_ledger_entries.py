import pytest

from paytrack.domain.errors import LedgerError
from paytrack.domain.ledger import (
    PLATFORM_FEES,
    PLATFORM_REVENUE,
    JournalEntry,
    gateway_clearing,
    seller_available,
    seller_debt,
    seller_pending,
    spec_for,
)
from paytrack.domain.payments import capture_entry, refund_entry
from paytrack.domain.splits import Bearer, Split


def _by_code(entry):
    return {p.account.code: p.amount_minor for p in entry.postings}


def test_an_unbalanced_entry_is_refused():
    entry = JournalEntry("test", "t").debit(gateway_clearing("manual"), "USD", 100)
    entry.credit(PLATFORM_REVENUE, "USD", 99)
    with pytest.raises(LedgerError, match="does not balance"):
        entry.check_balanced()


def test_balance_is_per_currency():
    entry = JournalEntry("test", "t").debit(gateway_clearing("manual"), "USD", 100)
    entry.credit(PLATFORM_REVENUE, "EUR", 100)
    with pytest.raises(LedgerError):
        entry.check_balanced()


def test_capture_debits_clearing_and_credits_each_leg():
    entry = capture_entry(payment_id="pay_1", gateway="manual", seller_id="s1", currency="USD",
                          split=Split(8000, 2000), gateway_fee=0, fee_bearer=Bearer.PLATFORM)
    entry.check_balanced()
    assert _by_code(entry) == {"gateway:manual:clearing": 10000, "seller:s1:pending": -8000,
                               "platform:revenue": -2000}


def test_gateway_fee_leaves_clearing_and_is_borne_by_the_platform_by_default():
    entry = capture_entry(payment_id="pay_1", gateway="stripe", seller_id="s1", currency="USD",
                          split=Split(8000, 2000), gateway_fee=320, fee_bearer=Bearer.PLATFORM)
    entry.check_balanced()
    codes = [(p.account.code, p.amount_minor) for p in entry.postings]
    assert (PLATFORM_FEES.code, 320) in codes
    assert ("gateway:stripe:clearing", -320) in codes


def test_a_refund_mirrors_the_capture_for_the_refunded_part():
    entry = refund_entry(payment_id="pay_1", refund_id="re_1", gateway="manual",
                         currency="USD", parts=Split(240, 60),
                         seller_side=[(seller_pending("s1"), 240)])
    entry.check_balanced()
    assert _by_code(entry) == {"seller:s1:pending": 240, "platform:revenue": 60,
                               "gateway:manual:clearing": -300}


def test_a_refund_debits_every_leg_the_capture_credited():
    entry = refund_entry(payment_id="pay_1", refund_id="re_1", gateway="manual",
                         currency="USD", parts=Split(7, 2, 1, 3),
                         seller_side=[(seller_pending("s1"), 7)])
    entry.check_balanced()
    assert _by_code(entry) == {"seller:s1:pending": 7, "platform:revenue": 2,
                               "platform:tax_payable": 1, "platform:shipping": 3,
                               "gateway:manual:clearing": -13}


def test_a_refund_part_that_would_credit_a_leg_is_a_programming_error():
    with pytest.raises(AssertionError, match="debit a positive amount"):
        refund_entry(payment_id="pay_1", refund_id="re_1", gateway="manual",
                     currency="USD", parts=Split(1, 1, -1, 0),
                     seller_side=[(seller_pending("s1"), 1)])


def test_account_rules_are_recovered_from_codes():
    assert spec_for("seller:acme:co:pending") == seller_pending("acme:co")
    assert spec_for("seller:s1:available").non_negative
    with pytest.raises(LedgerError):
        spec_for("nope:x")


def test_a_reversal_flips_every_posting():
    entry = capture_entry(payment_id="pay_1", gateway="manual", seller_id="s1", currency="USD",
                          split=Split(8000, 2000), gateway_fee=0, fee_bearer=Bearer.PLATFORM)
    reversal = entry.reversed("correction", "undo")
    reversal.check_balanced()
    assert _by_code(reversal) == {k: -v for k, v in _by_code(entry).items()}


def test_a_refund_after_release_takes_the_sellers_part_from_available_then_debt():
    entry = refund_entry(payment_id="pay_1", refund_id="re_1", gateway="manual",
                         currency="USD", parts=Split(240, 60),
                         seller_side=[(seller_available("s1"), 200), (seller_debt("s1"), 40)])
    entry.check_balanced()
    assert _by_code(entry) == {"seller:s1:available": 200, "seller:s1:debt": 40,
                               "platform:revenue": 60, "gateway:manual:clearing": -300}


def test_a_platform_funded_discount_is_debited_to_discounts_and_comes_back_with_refunds():
    # 100.00 paid after a 20.00 platform-funded discount: split as if 120.00 were paid.
    capture = capture_entry(payment_id="pay_1", gateway="manual", seller_id="s1",
                            currency="USD", split=Split(9600, 2400), gateway_fee=0,
                            fee_bearer=Bearer.PLATFORM, platform_discount=2000)
    capture.check_balanced()
    assert _by_code(capture) == {"gateway:manual:clearing": 10000, "platform:discounts": 2000,
                                 "seller:s1:pending": -9600, "platform:revenue": -2400}
    refund = refund_entry(payment_id="pay_1", refund_id="re_1", gateway="manual",
                          currency="USD", parts=Split(9600, 2400), discount_part=2000,
                          seller_side=[(seller_pending("s1"), 9600)])
    refund.check_balanced()
    assert _by_code(refund) == {k: -v for k, v in _by_code(capture).items()}


def test_a_fee_the_seller_bears_beyond_its_share_becomes_its_debt():
    entry = capture_entry(payment_id="pay_1", gateway="stripe", seller_id="s1", currency="USD",
                          split=Split(100, 9900), gateway_fee=300, fee_bearer=Bearer.SELLER)
    entry.check_balanced()
    assert [(p.account.code, p.amount_minor) for p in entry.postings
            if p.account.seller_id] == [("seller:s1:pending", -100),
                                        ("seller:s1:pending", 100), ("seller:s1:debt", 200)]
