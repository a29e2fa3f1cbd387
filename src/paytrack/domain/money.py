"""Exact money: an integer count of a currency's minor unit plus its ISO-4217 code.

Exponents and the list of active codes come from ISO 4217's own table (the maintained
``iso4217`` data package): IQD has 3 decimals, IDR 2, JPY 0. Not from a hand-typed table,
and not from CLDR, whose digits are for display (Babel says IQD 0); Babel only names a
code in an error message. Codes without a minor unit (metals, funds such as XDR, XTS for
testing, XXX for "no currency") are not money, and withdrawn codes are not accepted.
Floats are refused everywhere: a float cannot say 0.10 exactly, so accepting one would
make money inexact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

import iso4217
from babel.numbers import get_currency_name

from paytrack.domain.errors import CurrencyMismatch, InvalidAmount, InvalidCurrency

_DECIMAL_TEXT = re.compile(r"^-?\d{1,20}(\.\d{1,20})?$")


@cache
def _minor_units() -> dict[str, int | None]:
    """Every active ISO-4217 code and its minor unit (None where ISO says N.A.)."""
    return {currency.code: currency.exponent for currency in iso4217.Currency}


def currency_exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has: USD 2, JPY 0, KWD 3, IQD 3."""
    exponent = _minor_units()[validate_currency(currency)]
    assert exponent is not None
    return exponent


def validate_currency(currency: object) -> str:
    """An active ISO-4217 code whose minor unit ISO defines; anything else is refused."""
    units = _minor_units()
    if not isinstance(currency, str) or currency not in units:
        name = get_currency_name(currency, locale="en") if isinstance(currency, str) else None
        if name and name != currency:  # a code CLDR still names: withdrawn or unofficial
            raise InvalidCurrency(f"{currency!r} ({name}) is not an active ISO-4217 currency; "
                                  "withdrawn and unofficial codes are refused")
        raise InvalidCurrency(f"{currency!r} is not an ISO-4217 currency code (e.g. 'USD', 'EUR')")
    if units[currency] is None:
        name = iso4217.Currency(currency).currency_name
        raise InvalidCurrency(
            f"{currency!r} ({name}) has no minor unit in ISO 4217: it is not money "
            "(metals, funds, testing and no-currency codes are refused)"
        )
    return currency


def parse_amount(value: object, currency: str) -> int:
    """Turn a decimal string (``"12.50"``) or an integer of minor units into minor units.

    ``"12.50" USD -> 1250``; ``"1.234" KWD -> 1234``; ``"10.5" JPY`` is refused because the
    yen has no minor unit. Floats and booleans are refused outright.
    """
    exponent = currency_exponent(currency)
    if isinstance(value, (bool, float)):
        raise InvalidAmount(
            f"{value!r} is a {type(value).__name__}; send integer minor units or a decimal string"
        )
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidAmount(f"{value!r} is not an amount")
    if not _DECIMAL_TEXT.match(text):
        raise InvalidAmount(f"{value!r} is not a decimal amount like '12.50'")
    try:
        decimal = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid text
        raise InvalidAmount(f"{value!r} is not a decimal amount") from exc
    minor = decimal.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise InvalidAmount(
            f"{value!r} has more decimals than {currency} allows ({exponent})"
        )
    return int(minor)


def format_amount(amount_minor: int, currency: str) -> str:
    """Minor units back to a plain decimal string: ``1250 USD -> "12.50"``."""
    exponent = currency_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


def round_half_up(value: Decimal) -> int:
    """The one rounding rule for money computed from a rate: halves go away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` in proportion to ``weights`` so the parts sum exactly to it.

    Largest remainder: every part gets the floor of its exact share, and the units left
    over go one each to the parts with the largest fractional remainders (ties to the
    earlier part). Each part is therefore within one minor unit of its exact share, and
    ``allocate(sum(weights), weights) == weights``.
    """
    assert all(isinstance(w, int) and w >= 0 for w in weights), "weights are non-negative ints"
    if amount < 0:
        return [-part for part in allocate(-amount, weights)]
    total = sum(weights)
    if total == 0:
        assert amount == 0, "cannot allocate a non-zero amount over zero weights"
        return [0 for _ in weights]
    parts = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        parts[i] += 1
    return parts


@dataclass(frozen=True, slots=True)
class Money:
    """A small frozen value: mixing currencies raises, multiplying by a float is refused."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise InvalidAmount(f"{self.amount_minor!r} is not an integer count of minor units")
        validate_currency(self.currency)

    @classmethod
    def parse(cls, value: object, currency: str) -> Money:
        return cls(parse_amount(value, currency), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money multiplies only by an int; use a named rounding for rates")
        return Money(self.amount_minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor <= other.amount_minor

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        return [Money(part, self.currency) for part in allocate(self.amount_minor, weights)]

    def __str__(self) -> str:
        return f"{format_amount(self.amount_minor, self.currency)} {self.currency}"
