"""Stripe's amount units, converted at the edge: paytrack itself keeps ISO 4217 minor units.

Stripe's API takes integer amounts in its own minor unit for each currency
(https://docs.stripe.com/currencies), which is ISO's for most currencies but not all:

- zero-decimal at Stripe: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF (ISO 0,
  except MGA, which ISO gives 2 decimals: only whole ariary can go to Stripe);
- ISK and UGX (ISO 0) stay two-decimal in Stripe's API for backwards compatibility, in whole
  units only: 5 ISK is ``500``;
- HUF and TWD (ISO 2) are charged with two decimals but paid out in whole units only;
- the three-decimal BHD JOD KWD OMR TND (ISO 3) must end in 0;
- every other currency is two-decimal at Stripe.

An amount Stripe cannot express is refused here, before any request, rather than rounded.
"""

from __future__ import annotations

from paytrack.domain.errors import InvalidAmount
from paytrack.domain.money import currency_exponent, format_amount

ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
                          "VND", "VUV", "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# ISK and UGX need no entry: two-decimal at Stripe, and ISO's whole units always are whole.
WHOLE_UNIT_PAYOUTS = frozenset({"HUF", "TWD"})


def stripe_exponent(currency: str) -> int:
    """The decimals of Stripe's API amount for ``currency``."""
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def to_stripe_amount(amount_minor: int, currency: str, *, payout: bool = False) -> int:
    """ISO minor units -> the integer Stripe expects (``payout``: for a payout, not a charge
    or refund). Refuses an amount Stripe cannot take instead of rounding it."""
    shift = stripe_exponent(currency) - currency_exponent(currency)
    if shift < 0 and amount_minor % 10**-shift:
        raise _unsendable(amount_minor, currency, f"Stripe takes {currency} to "
                          f"{stripe_exponent(currency)} decimals")
    stripe_amount = amount_minor * 10**shift if shift >= 0 else amount_minor // 10**-shift
    if payout and currency in WHOLE_UNIT_PAYOUTS and stripe_amount % 100:
        raise _unsendable(amount_minor, currency, f"Stripe pays out whole {currency} only")
    if currency in THREE_DECIMAL and stripe_amount % 10:
        raise _unsendable(amount_minor, currency, f"Stripe takes {currency} in multiples of "
                          f"{format_amount(10, currency)}")
    return stripe_amount


def from_stripe_amount(stripe_amount: int, currency: str) -> int:
    """The integer in a Stripe object or event -> ISO minor units."""
    shift = stripe_exponent(currency) - currency_exponent(currency)
    if shift <= 0:
        return stripe_amount * 10**-shift
    if stripe_amount % 10**shift:
        raise InvalidAmount(f"Stripe amount {stripe_amount} {currency} has a fraction of the "
                            f"ISO 4217 minor unit ({currency} has {currency_exponent(currency)} "
                            "decimals)")
    return stripe_amount // 10**shift


def _unsendable(amount_minor: int, currency: str, because: str) -> InvalidAmount:
    return InvalidAmount(f"{format_amount(amount_minor, currency)} {currency} cannot be sent to "
                         f"Stripe: {because}")
