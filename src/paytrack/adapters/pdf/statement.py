"""A seller statement as a PDF: a header with the period, the opening and closing
balances and the totals per kind, then the lines, ``LINES_PER_PAGE`` to a page (the
column heads repeated on each). Money is formatted with Babel for the currency; the core
fonts are Latin-1, so a symbol outside it (€) is written as the currency's code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from paytrack.domain.money import currency_exponent

LINES_PER_PAGE = 25
LOCALE = "en_US"
_COLUMNS = (("Date", 24, "L"), ("Kind", 32, "L"), ("Reference", 60, "L"),
            ("Journal entry", 60, "L"), ("Amount", 40, "R"), ("Balance", 40, "R"))


def money(amount_minor: int, currency: str) -> str:
    """``amount_minor`` in ``currency`` as Babel writes it (en_US), to ISO 4217's exponent."""
    exponent = currency_exponent(currency)
    value = Decimal(amount_minor).scaleb(-exponent)
    # en_US's pattern with ISO's digits (CLDR gives IDR, HUF, TWD none: "IDR1.5").
    digits = "." + "0" * exponent if exponent else ""
    shown = format_currency(value, currency, format=f"¤#,##0{digits}", locale=LOCALE,
                            currency_digits=False, decimal_quantization=False)
    try:
        shown.encode("latin-1")
    except UnicodeEncodeError:
        shown = format_currency(value, currency, format=f"¤¤\xa0#,##0{digits}",
                                locale=LOCALE, currency_digits=False,
                                decimal_quantization=False)
    return shown


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def _reference(line: Mapping[str, Any]) -> str:
    for name in ("payout_id", "dispute_id", "refund_id", "payment_id"):
        if line.get(name):
            return str(line[name])
    return ""


def render_statement(statement: Mapping[str, Any]) -> bytes:
    """The statement (``services.statements.Statement``) as PDF bytes."""
    currency = statement["currency"]
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_compression(False)  # a few pages of text; readable by text tools as it is
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.set_title(f"Statement of {statement['seller_id']}")
    lines: Sequence[Mapping[str, Any]] = statement["lines"]
    rows: list[Mapping[str, Any] | None] = [*lines] or [None]  # None: a page with no line
    on_page = LINES_PER_PAGE
    for line in rows:
        # A new page after LINES_PER_PAGE lines, or sooner when a long header leaves less room.
        if on_page == LINES_PER_PAGE or pdf.will_page_break(5):
            pdf.add_page()
            _header(pdf, statement, first=pdf.page_no() == 1)
            _heads(pdf)
            pdf.set_font("Helvetica", size=8)
            on_page = 0
        if line is None:
            break
        values = (_day(line["date"]), line["kind"], _reference(line), line["entry_id"],
                  money(line["amount"], currency), money(line["balance"], currency))
        for (_, width, align), value in zip(_COLUMNS, values, strict=True):
            pdf.cell(width, 5, value, align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.ln(5)
        on_page += 1
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=10)
    pdf.cell(0, 6, f"Closing balance: {money(statement['closing_balance'], currency)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _header(pdf: FPDF, statement: Mapping[str, Any], *, first: bool) -> None:
    currency = statement["currency"]
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(0, 8, f"Statement of {statement['seller_id']} ({currency})",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 5, f"From {statement['start'].astimezone(UTC).isoformat()} to "
                   f"{statement['end'].astimezone(UTC).isoformat()} (UTC)   "
                   f"page {pdf.page_no()} of {{nb}}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not first:
        pdf.ln(2)
        return
    pdf.cell(0, 5, f"Opening balance: {money(statement['opening_balance'], currency)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for total in statement["totals"]:
        pdf.cell(0, 5, f"  {total['kind']}: {total['lines']} lines, "
                       f"{money(total['amount'], currency)}",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, f"Closing balance: {money(statement['closing_balance'], currency)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _heads(pdf: FPDF) -> None:
    pdf.set_font("Helvetica", style="B", size=8)
    for title, width, align in _COLUMNS:
        pdf.cell(width, 6, title, border="B", align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.ln(6)
