"""Export cells: a decimal column says what ``format_amount`` says, and text a spreadsheet
would run is quoted while everything else is left alone."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from paytrack.domain.money import currency_exponent, format_amount
from paytrack.services.exports import cell, decimal_cell


@given(st.integers(-10**15, 10**15), st.sampled_from(["USD", "JPY", "KWD", "IQD", "CLF"]))
def test_decimal_cells_equal_format_amount(amount, currency):
    assert decimal_cell(amount, currency_exponent(currency)) == format_amount(amount, currency)


def test_timestamps_are_written_in_utc():
    local = datetime(2026, 3, 2, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert cell(local) == "2026-03-02T12:00:00Z"
    assert cell(datetime(2026, 3, 2, 12, 0, 0, 5, tzinfo=UTC)) == "2026-03-02T12:00:00.000005Z"


def test_only_formula_starts_are_quoted():
    for text in ("=1", "+1", "-1", "@A1", "\t1", "\r1"):
        assert cell(text) == "'" + text
    for text in ("1-1", "a=b", "", "ä=1", "  ", " a=1", "\u3000x", "−1"):
        assert cell(text) == text
    assert cell(["=x"]) == '["=x"]'


def test_formula_starts_after_white_space_or_in_full_width_are_quoted():
    for text in (" =1+1", "  +1", "\n=HYPERLINK(\"http://x\")", "\u00a0@SUM(A1)",
                 "\u3000-1", "\uff1dcmd|' /C calc'!A0", "\uff0b1", "\uff0d1", "\uff20A1",
                 "\ufe66 1", " \uff1d1"):
        assert cell(text) == "'" + text, repr(text)
