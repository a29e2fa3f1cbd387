"""Stripe's units at the edge; paytrack's amounts are ISO 4217 minor units throughout."""

import pytest

from paytrack.adapters.gateways.stripe_units import from_stripe_amount, to_stripe_amount
from paytrack.domain.errors import InvalidAmount


@pytest.mark.parametrize(("amount_minor", "currency", "stripe"), [
    (1050, "USD", 1050),  # 10.50 USD: same unit
    (500, "JPY", 500),  # zero-decimal in both
    (5, "ISK", 500),  # ISO 0 decimals, Stripe two-decimal (whole krónur only)
    (7, "UGX", 700),
    (1200, "MGA", 12),  # ISO 2 decimals, Stripe zero-decimal
    (1230, "KWD", 1230),  # three decimals in both, last digit 0
    (1050, "HUF", 1050),  # a charge may have fillér
    (12340, "IQD", 1234),  # ISO 3 decimals, Stripe's default two
])
def test_iso_minor_units_convert_to_stripe_and_back(amount_minor, currency, stripe):
    assert to_stripe_amount(amount_minor, currency) == stripe
    assert from_stripe_amount(stripe, currency) == amount_minor


@pytest.mark.parametrize(("amount_minor", "currency", "payout", "says"), [
    (1234, "MGA", False, "12.34 MGA cannot be sent to Stripe: Stripe takes MGA to 0 decimals"),
    (1234, "KWD", False, "Stripe takes KWD in multiples of 0.010"),
    (12345, "IQD", False, "Stripe takes IQD to 2 decimals"),
    (1050, "HUF", True, "10.50 HUF cannot be sent to Stripe: Stripe pays out whole HUF only"),
    (1001, "TWD", True, "Stripe pays out whole TWD only"),
])
def test_an_amount_stripe_cannot_express_is_refused_not_rounded(amount_minor, currency, payout,
                                                                says):
    with pytest.raises(InvalidAmount, match=says):
        to_stripe_amount(amount_minor, currency, payout=payout)


def test_a_whole_unit_payout_goes_through():
    assert to_stripe_amount(1000, "HUF", payout=True) == 1000


def test_a_fractional_krona_from_stripe_is_refused():
    with pytest.raises(InvalidAmount, match="fraction of the ISO 4217 minor unit"):
        from_stripe_amount(550, "ISK")
