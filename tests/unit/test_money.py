from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrack.domain.errors import CurrencyMismatch, InvalidAmount, InvalidCurrency
from paytrack.domain.money import (
    Money,
    allocate,
    currency_exponent,
    format_amount,
    parse_amount,
    round_half_up,
    validate_currency,
)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.50", "USD", 1250), ("12.5", "USD", 1250), ("12", "USD", 1200),
     ("1.234", "KWD", 1234), ("10", "JPY", 10), ("0.01", "EUR", 1), ("1000000", "INR", 100000000)],
)
def test_decimal_strings_parse_to_minor_units(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(("currency", "exponent"), [
    ("IQD", 3), ("IDR", 2), ("HUF", 2), ("COP", 2), ("LAK", 2), ("IRR", 2),  # CLDR: 0, 0, ...
    ("JPY", 0), ("KWD", 3), ("USD", 2), ("CLF", 4), ("UYW", 4), ("ISK", 0), ("CLP", 0),
])
def test_exponents_come_from_iso_4217_not_from_cldr_display_digits(currency, exponent):
    assert currency_exponent(currency) == exponent


def test_iraqi_dinars_have_three_decimals_and_rupiah_two():
    assert parse_amount("1.234", "IQD") == 1234
    assert format_amount(1234, "IQD") == "1.234"
    assert parse_amount("15000.50", "IDR") == 1500050
    assert str(Money(1500050, "IDR")) == "15000.50 IDR"
    with pytest.raises(InvalidAmount, match="more decimals"):
        parse_amount("1.2345", "IQD")


@pytest.mark.parametrize("code", ["XAU", "XAG", "XDR", "XXX", "XTS", "XBA", "XSU", "XUA"])
def test_codes_without_a_minor_unit_are_not_money(code):
    with pytest.raises(InvalidCurrency, match=f"^'{code}' .* has no minor unit in ISO 4217"):
        Money(100, code)


@pytest.mark.parametrize(("code", "name"), [
    ("DEM", "German Mark"), ("HRK", "Croatian Kuna"), ("SLL", "Sierra Leonean Leone"),
    ("ZWL", "Zimbabwean Dollar"), ("VEF", "Venezuelan Bolívar"), ("MRO", "Mauritanian"),
])
def test_withdrawn_codes_are_refused_by_name(code, name):
    with pytest.raises(InvalidCurrency,
                       match=f"^'{code}' \\({name}.*\\) is not an active ISO-4217 currency"):
        validate_currency(code)


@pytest.mark.parametrize("code", ["ZWG", "SLE", "VES", "VED", "MRU", "XCG", "XOF", "CHE"])
def test_current_codes_that_replaced_others_are_accepted(code):
    assert validate_currency(code) == code


@pytest.mark.parametrize(("text", "currency"), [("10.5", "JPY"), ("12.345", "USD"),
                                                ("1.2345", "KWD")])
def test_more_decimals_than_the_currency_allows_is_refused(text, currency):
    with pytest.raises(InvalidAmount, match="more decimals"):
        parse_amount(text, currency)


@pytest.mark.parametrize("value", [12.5, 0.1, True, float("nan")])
def test_floats_and_booleans_are_refused(value):
    with pytest.raises(InvalidAmount):
        parse_amount(value, "USD")


@pytest.mark.parametrize("text", ["1e3", "12,50", "abc", "", "12.", ".5.5", "NaN", "Infinity"])
def test_malformed_amount_text_is_refused(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text, "USD")


@pytest.mark.parametrize("code", ["usd", "ABC", "", "US", None, 840])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(InvalidCurrency):
        Money(100, code)


def test_money_refuses_mixing_currencies_and_floats():
    with pytest.raises(CurrencyMismatch):
        Money(100, "USD") + Money(100, "EUR")
    with pytest.raises(TypeError):
        Money(100, "USD") * 1.5
    with pytest.raises(InvalidAmount):
        Money(1.0, "USD")
    assert Money(100, "USD") + Money(250, "USD") == Money(350, "USD")
    assert str(Money(1234, "KWD")) == "1.234 KWD"


def test_round_half_up_rounds_halves_away_from_zero():
    assert round_half_up(Decimal("100.5")) == 101
    assert round_half_up(Decimal("100.49")) == 100
    assert round_half_up(Decimal("-2.5")) == -3


def test_allocate_gives_leftover_units_to_largest_remainders():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(5, [3, 7]) == [2, 3]  # exact 1.5 / 3.5: tie goes to the earlier part
    assert allocate(0, [0, 0]) == [0, 0]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


CURRENCIES = st.sampled_from(["USD", "JPY", "KWD", "EUR", "INR", "CLP", "BHD", "IQD", "CLF"])


@given(st.integers(min_value=0, max_value=10**15), CURRENCIES)
def test_formatting_then_parsing_gives_back_the_same_minor_units(minor, currency):
    assert parse_amount(format_amount(minor, currency), currency) == minor


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False), CURRENCIES)
def test_parsing_is_exact_or_refuses(value, currency):
    exponent = currency_exponent(currency)
    text = format(value, "f")
    exact = value.scaleb(exponent)
    if exact == exact.to_integral_value():
        assert parse_amount(text, currency) == int(exact)
    else:
        with pytest.raises(InvalidAmount):
            parse_amount(text, currency)


@given(st.integers(min_value=-10**12, max_value=10**12),
       st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=6)
       .filter(lambda ws: sum(ws) > 0))
def test_allocation_parts_sum_exactly_and_stay_within_one_unit(amount, weights):
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(amount) * weight / total
        assert abs(part - exact) < 1


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=6)
       .filter(lambda ws: sum(ws) > 0))
def test_allocating_the_whole_returns_the_weights(weights):
    assert allocate(sum(weights), weights) == weights
