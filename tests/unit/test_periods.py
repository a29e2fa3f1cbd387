"""Local days, ranges and buckets (domain/periods.py): the day a delta falls on in the
analytics time zone, ISO weeks across a year's end, whole months and the edges around them,
and ranges that never step past the calendar."""

from datetime import UTC, date, datetime

import pytest

from paytrack.domain.errors import ValidationFailed
from paytrack.domain.periods import (
    DateRange,
    Interval,
    bucket_start,
    buckets,
    local_day,
    month_end,
    resolve_range,
    zone,
)

BERLIN, NEW_YORK, KOLKATA = zone("Europe/Berlin"), zone("America/New_York"), zone("Asia/Kolkata")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_payment_at_2330_utc_falls_on_the_next_day_in_kolkata():
    assert local_day(at("2026-03-01T23:30"), KOLKATA) == date(2026, 3, 2)
    assert local_day(at("2026-03-01T18:29"), KOLKATA) == date(2026, 3, 1)
    assert local_day(at("2026-03-01T18:30"), KOLKATA) == date(2026, 3, 2)


def test_the_day_clocks_spring_forward_in_berlin_is_23_hours_long():
    # 29 March 2026: 02:00 CET becomes 03:00 CEST; the day runs 23:00Z to 22:00Z
    assert local_day(at("2026-03-28T22:59"), BERLIN) == date(2026, 3, 28)
    assert local_day(at("2026-03-28T23:00"), BERLIN) == date(2026, 3, 29)
    assert local_day(at("2026-03-29T21:59"), BERLIN) == date(2026, 3, 29)
    assert local_day(at("2026-03-29T22:00"), BERLIN) == date(2026, 3, 30)


def test_the_day_clocks_fall_back_in_new_york_is_25_hours_long():
    # 1 November 2026: 02:00 EDT becomes 01:00 EST; the day runs 04:00Z to 05:00Z next day
    assert local_day(at("2026-11-01T03:59"), NEW_YORK) == date(2026, 10, 31)
    assert local_day(at("2026-11-01T04:00"), NEW_YORK) == date(2026, 11, 1)
    assert local_day(at("2026-11-02T04:59"), NEW_YORK) == date(2026, 11, 1)
    assert local_day(at("2026-11-02T05:00"), NEW_YORK) == date(2026, 11, 2)


def test_an_unknown_time_zone_is_refused_with_examples():
    for name in ("Mars/Olympus", "../etc/passwd", "", "UTC+5"):
        with pytest.raises(ValueError, match="IANA"):
            zone(name)


def test_iso_weeks_across_a_year_end():
    # 2026 has 53 ISO weeks; 2027-W01 starts on Monday 4 January
    found = buckets(DateRange(date(2026, 12, 30), date(2027, 1, 12)), Interval.WEEK)
    assert [(b.label, b.start, b.end) for b in found] == [
        ("2026-W53", date(2026, 12, 30), date(2027, 1, 3)),
        ("2027-W01", date(2027, 1, 4), date(2027, 1, 10)),
        ("2027-W02", date(2027, 1, 11), date(2027, 1, 12)),
    ]
    # and a week of a new ISO year that begins in December
    assert buckets(DateRange(date(2025, 12, 29), date(2025, 12, 31)), Interval.WEEK)[0].label \
        == "2026-W01"
    assert bucket_start(date(2027, 1, 3), Interval.WEEK) == date(2026, 12, 28)


def test_month_buckets_are_cut_to_the_range():
    found = buckets(DateRange(date(2026, 1, 15), date(2026, 3, 10)), Interval.MONTH)
    assert [(b.label, b.key, b.start, b.end) for b in found] == [
        ("2026-01", date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 10)),
    ]
    assert len(buckets(DateRange(date(2024, 2, 1), date(2024, 2, 29)), Interval.DAY)) == 29


@pytest.mark.parametrize(("start", "end", "months", "edges"), [
    ("2026-01-15", "2026-04-10", ("2026-02-01", "2026-03-01"),
     [("2026-01-15", "2026-01-31"), ("2026-04-01", "2026-04-10")]),
    ("2026-01-01", "2026-12-31", ("2026-01-01", "2026-12-01"), []),
    ("2026-02-01", "2026-02-28", ("2026-02-01", "2026-02-01"), []),
    ("2026-01-02", "2026-01-31", None, [("2026-01-02", "2026-01-31")]),
    ("2026-01-15", "2026-02-14", None, [("2026-01-15", "2026-02-14")]),
    ("0001-01-01", "0001-01-30", None, [("0001-01-01", "0001-01-30")]),
    ("9999-12-01", "9999-12-31", ("9999-12-01", "9999-12-01"), []),
    ("9999-11-15", "9999-12-30", None, [("9999-11-15", "9999-12-30")]),
])
def test_a_range_reads_whole_months_and_the_days_around_them(start, end, months, edges):
    span = DateRange(date.fromisoformat(start), date.fromisoformat(end))
    expected = None if months is None else tuple(map(date.fromisoformat, months))
    assert span.whole_months() == expected
    assert [(e.start.isoformat(), e.end.isoformat()) for e in span.edge_days()] == edges


@pytest.mark.parametrize(("start", "end", "pieces"), [
    ("2025-01-01", "2025-12-31", [("year", "2025-01-01", "2025-01-01")]),
    ("2024-03-15", "2026-02-10", [
        ("year", "2025-01-01", "2025-01-01"), ("month", "2024-04-01", "2024-12-01"),
        ("day", "2024-03-15", "2024-03-31"), ("month", "2026-01-01", "2026-01-01"),
        ("day", "2026-02-01", "2026-02-10")]),
    ("2023-01-01", "2025-12-30", [
        ("year", "2023-01-01", "2024-01-01"), ("month", "2025-01-01", "2025-11-01"),
        ("day", "2025-12-01", "2025-12-30")]),
    ("2025-01-02", "2025-12-31", [
        ("month", "2025-02-01", "2025-12-01"), ("day", "2025-01-02", "2025-01-31")]),
    ("0001-01-01", "0001-12-31", [("year", "0001-01-01", "0001-01-01")]),
    ("0001-01-01", "0001-12-30", [
        ("month", "0001-01-01", "0001-11-01"), ("day", "0001-12-01", "0001-12-30")]),
    ("9999-01-01", "9999-12-31", [("year", "9999-01-01", "9999-01-01")]),
    ("9998-12-31", "9999-12-31", [("year", "9999-01-01", "9999-01-01"),
                                  ("day", "9998-12-31", "9998-12-31")]),
])
def test_a_range_reads_whole_years_then_whole_months_then_days(start, end, pieces):
    span = DateRange(date.fromisoformat(start), date.fromisoformat(end))
    assert [(g, a.isoformat(), b.isoformat()) for g, a, b in span.pieces()] == pieces
    # The pieces cover the range, each day once.
    days = []
    for grain, first, last in span.pieces():
        end_of = {"day": last, "month": month_end(last), "year": date(last.year, 12, 31)}
        days += range(first.toordinal(), end_of[grain].toordinal() + 1)
    assert sorted(days) == list(range(span.start.toordinal(), span.end.toordinal() + 1))


def test_a_range_defaults_to_the_last_30_days():
    today = date(2026, 3, 31)
    assert resolve_range(None, None, today) == DateRange(date(2026, 3, 2), today)
    assert resolve_range(date(2026, 3, 20), None, today) == DateRange(date(2026, 3, 20), today)
    assert resolve_range(date(2026, 1, 1), None, today) == DateRange(date(2026, 1, 1),
                                                                     date(2026, 1, 30))
    assert resolve_range(None, date(2026, 2, 1), today).start == date(2026, 1, 3)
    assert resolve_range(None, date(1, 1, 5), today) == DateRange(date.min, date(1, 1, 5))
    assert resolve_range(date(9999, 12, 20), None, today).end == date.max


def test_a_reversed_or_too_long_range_is_refused():
    with pytest.raises(ValidationFailed, match="before") as reversed_:
        resolve_range(date(2026, 3, 2), date(2026, 3, 1), date(2026, 3, 31))
    assert reversed_.value.extra["field"] == "to"
    with pytest.raises(ValidationFailed, match="at most 3660"):
        resolve_range(date(2016, 1, 1), date(2026, 1, 9), date(2026, 3, 31))
    assert resolve_range(date(2016, 1, 1), date(2026, 1, 7), date(2026, 3, 31)).days == 3660


def test_buckets_reach_the_calendars_last_day():
    found = buckets(DateRange(date(9999, 12, 20), date.max), Interval.WEEK)
    assert found[-1].end == date.max
