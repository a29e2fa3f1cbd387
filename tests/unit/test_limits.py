import pytest

from paytrack.domain.errors import AmountLimitExceeded
from paytrack.domain.limits import MAX_AMOUNT_MINOR, MAX_BALANCE_MINOR
from paytrack.domain.splits import Breakdown


def test_the_limits_keep_every_stored_number_and_every_pair_of_balances_in_64_bits():
    assert MAX_AMOUNT_MINOR == 10**14 - 1  # fourteen digits, as in a SWIFT MT103 amount
    assert MAX_AMOUNT_MINOR < 2**53  # one amount is exact even as a JSON double
    assert MAX_BALANCE_MINOR >= 40_000 * MAX_AMOUNT_MINOR
    assert 2 * MAX_BALANCE_MINOR < 2**63  # a sum or difference of two balances fits
    # what concurrent writers may add past the limit before they commit: 10,000 at once,
    # each moving the largest amount twice through the account
    assert MAX_BALANCE_MINOR + 10_000 * 2 * MAX_AMOUNT_MINOR < 2**63


@pytest.mark.parametrize("field", ["subtotal", "discount", "tax", "shipping"])
def test_a_breakdown_part_above_the_limit_is_refused_by_name(field):
    parts = {"subtotal": MAX_AMOUNT_MINOR, field: MAX_AMOUNT_MINOR + 1}
    with pytest.raises(AmountLimitExceeded, match=f"^{field} {MAX_AMOUNT_MINOR + 1} is above "
                       f"the largest amount paytrack accepts: {MAX_AMOUNT_MINOR} minor units"):
        Breakdown(**parts)


def test_a_breakdown_whose_total_passes_the_limit_is_refused():
    assert Breakdown(MAX_AMOUNT_MINOR).total == MAX_AMOUNT_MINOR
    with pytest.raises(AmountLimitExceeded, match="^total "):
        Breakdown(MAX_AMOUNT_MINOR, shipping=1)
