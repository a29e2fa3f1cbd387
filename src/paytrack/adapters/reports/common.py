"""What every settlement report parser shares: the line it yields and careful CSV reading.

A report is refused whole, with the line and column at fault (``InvalidReport``, 422), when
it is not UTF-8 text, is larger than ``MAX_REPORT_BYTES`` or longer than
``MAX_REPORT_LINES``, lacks a column its provider publishes, holds a number that is not an
exact decimal in the currency's minor unit, or a cell that a spreadsheet would run as a
formula (``=…``, ``@…``, ``+``/``-`` before a letter, ``(``, ``=`` or ``@``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from paytrack.domain.errors import InvalidAmount, InvalidCurrency, InvalidReport
from paytrack.domain.limits import MAX_AMOUNT_MINOR
from paytrack.domain.money import parse_amount, validate_currency
from paytrack.domain.reconciliation import LineKind

MAX_REPORT_BYTES = 20 * 1024 * 1024
MAX_REPORT_LINES = 100_000
MAX_CELL_CHARS = 2_000
_FORMULA = re.compile(r"^\s*(=|@|[+\-](?=[A-Za-z(=@]))")
_REF = re.compile(r"^[A-Za-z0-9_\-.:]{1,200}$")
# A line's time outside these is a broken export: it would stretch the report's period
# (and so ``missing_in_report``) over every payment.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One line of a provider's report, in paytrack's terms. Amounts are positive minor
    units: what was charged or refunded, and the fee the gateway kept (None where the
    report gives none)."""

    line_number: int  # in the file, the header being line 1
    kind: LineKind
    gateway_ref: str | None  # the provider's id of the charge, capture or refund
    refs: tuple[str, ...]  # every id the line names that may find it in paytrack
    currency: str
    amount: int
    fee: int | None
    occurred_at: datetime | None
    description: str | None


@dataclass(frozen=True, slots=True)
class Row:
    """A CSV row by column name, with its line number for messages."""

    line_number: int
    cells: dict[str, str]

    def text(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def optional(self, column: str) -> str | None:
        return self.text(column) or None

    def refuse(self, column: str, why: str) -> InvalidReport:
        return InvalidReport(f"line {self.line_number}, column {column!r}: {why}",
                             line=self.line_number, column=column)

    def ref(self, column: str) -> str | None:
        value = self.text(column)
        if not value:
            return None
        if not _REF.match(value):
            raise self.refuse(column, f"{_shown(value)} is not a gateway id "
                                      "(letters, digits, _ - . : only)")
        return value

    def currency(self, column: str) -> str:
        try:
            return validate_currency(self.text(column).upper())
        except InvalidCurrency as exc:
            raise self.refuse(column, exc.detail) from None

    def amount(self, column: str, currency: str, *, thousands: bool = False) -> int:
        """A decimal in major units (``"12.50"``) as signed minor units, exactly."""
        text = self.text(column)
        if thousands:
            text = re.sub(r"(?<=\d),(?=\d{3}(\D|$))", "", text)
        return self._checked(column, text, currency)

    def minor(self, column: str) -> int:
        """An integer count of minor units (``"50000"`` for 500.00)."""
        text = self.text(column)
        if not re.fullmatch(r"-?\d{1,20}", text):
            raise self.refuse(column, f"{_shown(text)} is not a whole number of minor units")
        return self._bounded(column, int(text))

    def sign(self, column: str, value: int, kind: LineKind, *, negative: bool) -> None:
        """Refuse an amount whose sign contradicts the line's kind (no ``abs`` may turn a
        reversal into the sale it reverses)."""
        if value and (value < 0) != negative:
            raise self.refuse(column, f"a {kind} line's amount is "
                                      f"{'negative' if value < 0 else 'positive'}")

    def fee_within(self, column: str, fee: int, amount: int) -> None:
        """A charge's fee is part of its amount."""
        if abs(fee) > abs(amount):
            raise self.refuse(column, "the fee is larger than the amount")

    def in_range(self, column: str, value: datetime) -> datetime:
        if not EARLIEST <= value < LATEST:
            raise self.refuse(column, f"{value:%Y-%m-%d} is not a settlement date "
                                      f"({EARLIEST.year} to {LATEST.year - 1})")
        return value

    def _checked(self, column: str, text: str, currency: str) -> int:
        if not text:
            raise self.refuse(column, "an amount is required")
        try:
            value = parse_amount(text, currency)
        except InvalidAmount as exc:
            raise self.refuse(column, exc.detail) from None
        return self._bounded(column, value)

    def _bounded(self, column: str, value: int) -> int:
        if abs(value) > MAX_AMOUNT_MINOR:
            raise self.refuse(column, "the amount is larger than paytrack keeps")
        return value


def _shown(value: str) -> str:
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def read_rows(data: bytes, required: Sequence[str]) -> Iterator[Row]:
    """The rows of a CSV report whose header names every ``required`` column; blank rows
    are skipped."""
    if len(data) > MAX_REPORT_BYTES:
        raise InvalidReport(f"the report is larger than {MAX_REPORT_BYTES} bytes; "
                            "split it by date")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidReport(f"the report is not UTF-8 text (byte {exc.start}); export it "
                            "as CSV in UTF-8") from None
    if "\x00" in text:
        raise InvalidReport("the report holds NUL bytes: it is not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise InvalidReport("the report is empty: a CSV header line is required")
        twice = sorted({name for name in header if name and header.count(name) > 1})
        if twice:
            raise InvalidReport(f"the header names {', '.join(map(repr, twice))} twice: "
                                "which one holds the data?")
        missing = [name for name in required if name not in header]
        if missing:
            raise InvalidReport(
                f"the report lacks the column(s) {', '.join(map(repr, missing))}; its header "
                f"is {_shown(','.join(header))} — is it the right gateway's report?",
                missing=missing)
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if line > MAX_REPORT_LINES + 1:
                raise InvalidReport(f"the report has more than {MAX_REPORT_LINES} lines; "
                                    "split it by date")
            if len(cells) != len(header):
                raise InvalidReport(f"line {line} has {len(cells)} cells, the header "
                                    f"{len(header)}", line=line)
            for name, cell in zip(header, cells, strict=True):
                _check_cell(line, name, cell)
            yield Row(line, dict(zip(header, cells, strict=True)))
    except csv.Error as exc:
        raise InvalidReport(f"line {reader.line_num}: not valid CSV ({exc})",
                            line=reader.line_num) from None


def _check_cell(line: int, column: str, cell: str) -> None:
    if len(cell) > MAX_CELL_CHARS:
        raise InvalidReport(f"line {line}, column {column!r}: longer than {MAX_CELL_CHARS} "
                            "characters", line=line, column=column)
    if _FORMULA.match(cell):
        raise InvalidReport(f"line {line}, column {column!r}: {_shown(cell)} is a "
                            "spreadsheet formula, not report data", line=line, column=column)
    if any(ord(c) < 32 and c not in "\t\n\r" or 0x7f <= ord(c) <= 0x9f for c in cell):
        raise InvalidReport(f"line {line}, column {column!r}: holds a control character",
                            line=line, column=column)


def parse_time(row: Row, column: str, formats: Sequence[str]) -> datetime | None:
    """A UTC time in one of ``formats`` (naive: UTC), or a Unix timestamp in seconds."""
    text = row.text(column)
    if not text:
        return None
    if text.isdigit() and len(text) <= 11:
        return row.in_range(column, datetime.fromtimestamp(int(text), UTC))
    for fmt in formats:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return row.in_range(column, value.replace(tzinfo=UTC))
    raise row.refuse(column, f"{_shown(text)} is not a date-time like "
                             f"{datetime(2026, 11, 2, 14, 3).strftime(formats[0])}")


def description(row: Row, column: str) -> str | None:
    value = row.text(column)
    return value[:500] or None
