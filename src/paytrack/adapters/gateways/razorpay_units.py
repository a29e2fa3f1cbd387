"""Razorpay's amount units, checked at the edge: paytrack keeps ISO 4217 minor units.

Razorpay takes each currency's subunit, which is ISO 4217's minor unit: paise, cents, whole
yen for zero-decimal currencies such as JPY (the Checkout ``amount`` parameter and
https://razorpay.com/docs/payments/international-payments/). Three-decimal currencies
("such as KWD, BHD and OMR") must end in 0: 99.991 KWD cannot be charged, 99.990 KWD is
``99990``. That rule is applied to every ISO three-decimal currency (BHD IQD JOD KWD LYD
OMR TND). An amount Razorpay cannot take is refused here, before any request, rather than
rounded.
"""

from __future__ import annotations

from paytrack.domain.errors import InvalidAmount
from paytrack.domain.money import currency_exponent, format_amount


def to_razorpay_amount(amount_minor: int, currency: str) -> int:
    """ISO minor units -> the integer Razorpay expects; refuses what it cannot take."""
    exponent = currency_exponent(currency)
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvalidAmount(f"{amount_minor!r} {currency} cannot be sent to Razorpay: it takes "
                            "a positive whole number of the currency's subunit")
    if exponent == 3 and amount_minor % 10:
        raise InvalidAmount(f"{format_amount(amount_minor, currency)} {currency} cannot be sent "
                            f"to Razorpay: it takes {currency} in multiples of "
                            f"{format_amount(10, currency)} (the last decimal 0)")
    return amount_minor


def from_razorpay_amount(razorpay_amount: int, currency: str) -> int:
    """The integer in a Razorpay entity -> ISO minor units (the same count)."""
    currency_exponent(currency)
    if (isinstance(razorpay_amount, bool) or not isinstance(razorpay_amount, int)
            or razorpay_amount < 0):
        raise InvalidAmount(f"{razorpay_amount!r} is not a Razorpay amount of {currency}")
    return razorpay_amount
