"""Local days, date ranges and the buckets analytics counts them in.

A revenue delta falls on the day its entry happened in the analytics time zone
(``PAYTRACK_ANALYTICS_TZ``, an IANA name). A range is two local dates, both included. Weeks
are ISO weeks (Monday to Sunday), months calendar months; a range's first and last bucket
are cut to the range. Nothing here steps past the calendar's ends (years 1 and 9999).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paytrack.domain.errors import ValidationFailed

DEFAULT_RANGE_DAYS = 30  # a range with neither end given: the last 30 days, today included
MAX_RANGE_DAYS = 3660  # about ten years (ten leap years' worth of days)
ONE_DAY = timedelta(days=1)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``UTC``, ``Asia/Kolkata``); ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. 'UTC', "
                         "'Europe/Berlin', 'Asia/Kolkata')") from None


def local_day(at: datetime, tz: ZoneInfo) -> date:
    assert at.tzinfo is not None, "an aware datetime"
    return at.astimezone(tz).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _after(day: date, days: int) -> date:
    """``day`` plus ``days``, stopping at the calendar's last day."""
    return day + timedelta(days=days) if (date.max - day).days >= days else date.max


@dataclass(frozen=True, slots=True)
class DateRange:
    """Local dates from ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def whole_months(self) -> tuple[date, date] | None:
        """The first days of the first and last months the range covers entirely."""
        first = self.start if self.start.day == 1 else _after(month_end(self.start), 1)
        last = month_start(self.end) if self.end == month_end(self.end) else None
        if last is None:
            if self.end.month == 1 and self.end.year == 1:
                return None
            last = month_start(month_start(self.end) - ONE_DAY)
        if first > last or first < self.start:
            return None
        return first, last

    def whole_years(self) -> tuple[date, date] | None:
        """The first days of the first and last years the range covers entirely."""
        first = self.start.year if (self.start.month, self.start.day) == (1, 1) \
            else self.start.year + 1
        last = self.end.year if (self.end.month, self.end.day) == (12, 31) else self.end.year - 1
        if first > last:
            return None
        return date(first, 1, 1), date(last, 1, 1)

    def pieces(self) -> list[tuple[str, date, date]]:
        """The range as the fewest rollup rows read it: its whole years (``year``, first
        days), the whole months outside them (``month``, first days) and the days outside
        those (``day``); each as (grain, first, last)."""
        years = self.whole_years()
        if years is None:
            return self._months_and_days()
        pieces: list[tuple[str, date, date]] = [("year", *years)]
        if self.start < years[0]:
            pieces += DateRange(self.start, years[0] - ONE_DAY)._months_and_days()
        year_end = date(years[1].year, 12, 31)
        if year_end < self.end:
            pieces += DateRange(year_end + ONE_DAY, self.end)._months_and_days()
        return pieces

    def _months_and_days(self) -> list[tuple[str, date, date]]:
        months = self.whole_months()
        return ([("month", *months)] if months is not None else []) + [
            ("day", edge.start, edge.end) for edge in self.edge_days()]

    def edge_days(self) -> list[DateRange]:
        """The days outside ``whole_months``: the whole range if it covers no month."""
        months = self.whole_months()
        if months is None:
            return [self]
        edges = []
        if self.start < months[0]:
            edges.append(DateRange(self.start, months[0] - ONE_DAY))
        last_day = month_end(months[1])
        if last_day < self.end:
            edges.append(DateRange(last_day + ONE_DAY, self.end))
        return edges


def resolve_range(start: date | None, end: date | None, today: date) -> DateRange:
    """The range a request asks for: both ends given, or the missing one filled so the
    range is ``DEFAULT_RANGE_DAYS`` long (ending today when neither is given)."""
    if end is None:
        end = today if start is None else _after(start, DEFAULT_RANGE_DAYS - 1)
        if start is not None and today >= start:
            end = min(end, today)
    if start is None:
        back = DEFAULT_RANGE_DAYS - 1
        start = end - timedelta(days=back) if (end - date.min).days >= back else date.min
    if end < start:
        raise ValidationFailed(f"to ({end}) is before from ({start})", field="to")
    span = DateRange(start, end)
    if span.days > MAX_RANGE_DAYS:
        raise ValidationFailed(f"the range from {start} to {end} is {span.days} days long; "
                               f"at most {MAX_RANGE_DAYS} (about ten years)", field="from")
    return span


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday
    MONTH = "month"


def bucket_start(day: date, interval: Interval) -> date:
    """The first day of the (uncut) bucket ``day`` falls in."""
    if interval is Interval.MONTH:
        return month_start(day)
    if interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())  # year 1 starts on a Monday: no underflow
    return day


def _bucket_end(first: date, interval: Interval) -> date:
    if interval is Interval.MONTH:
        return month_end(first)
    if interval is Interval.WEEK:
        return _after(first, 6)
    return first


def bucket_label(first: date, interval: Interval) -> str:
    """``2026-03-02`` (day), ``2026-W10`` (ISO week), ``2026-03`` (month)."""
    if interval is Interval.MONTH:
        return f"{first.year:04d}-{first.month:02d}"
    if interval is Interval.WEEK:
        year, week, _ = first.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return first.isoformat()


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str
    key: date  # the uncut bucket's first day: what ``bucket_start`` gives its days
    start: date  # cut to the range
    end: date


def buckets(span: DateRange, interval: Interval) -> list[Bucket]:
    """Every bucket of the range, in order, the first and last cut to it."""
    found = []
    day = span.start
    while True:
        key = bucket_start(day, interval)
        end = min(_bucket_end(key, interval), span.end)
        found.append(Bucket(bucket_label(key, interval), key, day, end))
        if end >= span.end:
            return found
        day = end + ONE_DAY
