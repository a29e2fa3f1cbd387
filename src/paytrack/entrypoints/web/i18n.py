"""The dashboard's languages: English and Russian, from gettext catalogs read with Babel;
money, numbers and dates formatted per locale with Babel, amounts exact to the currency's
ISO-4217 exponent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, parse_pattern
from babel.support import Translations

from paytrack.domain.money import currency_exponent

LOCALES = ("en", "ru")  # English is the source language: its catalog is the msgids
DEFAULT = "en"
CATALOGS = Path(__file__).resolve().parent / "locale"


@cache
def translations(language: str) -> NullTranslations:
    """The language's catalog (read from its .po file once: no compile step)."""
    path = CATALOGS / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def choose(asked: str | None, accept_language: str | None) -> str:
    """The language asked for (the switch's cookie), else the browser's first one we have."""
    if asked in LOCALES:
        return asked
    for part in (accept_language or "").split(",")[:20]:
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        if primary in LOCALES:
            return primary
    return DEFAULT


class Formats:
    """Money, numbers and dates for one locale (the templates' filters)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(language)

    def money(self, amount_minor: int | None, currency: str) -> str:
        """``1250, "USD"`` → ``$12.50`` (en), ``12,50 $`` (ru); always the ISO exponent's
        decimals, exactly (no float on the way)."""
        if amount_minor is None:
            return "—"
        exponent = currency_exponent(currency)
        pattern = parse_pattern(self.locale.currency_formats["standard"].pattern)
        pattern.frac_prec = (exponent, exponent)
        return pattern.apply(Decimal(amount_minor).scaleb(-exponent), self.locale,
                             currency=currency, currency_digits=False)

    def number(self, value: int | Decimal | str) -> str:
        return format_decimal(Decimal(value), locale=self.locale)

    def percent(self, value: Decimal | str | None) -> str:
        if value is None:
            return "—"
        return format_percent(Decimal(value), "#,##0.0%", locale=self.locale)

    def day(self, value: date | None) -> str:
        return "—" if value is None else format_date(value, "medium", locale=self.locale)

    def bucket(self, value: date, interval: str) -> str:
        """A chart's short label for the bucket starting ``value``: "Nov 2" or "Nov 2026"."""
        pattern = "LLL yyyy" if interval == "month" else "MMM d"
        return format_date(value, pattern, locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        return "—" if value is None else format_datetime(value, "medium", tzinfo=value.tzinfo,
                                                         locale=self.locale)
