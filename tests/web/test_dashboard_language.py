"""The dashboard in English and Russian: every message translated, chosen by the
browser's language or the switch, money per locale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from paytrack.entrypoints.web.i18n import Formats, choose, translations

TOOL = Path(__file__).resolve().parents[2] / "tools" / "catalog.py"


def _catalog_tool():
    spec = importlib.util.spec_from_file_location("catalog", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_message_of_the_dashboard_has_a_russian_translation():
    tool = _catalog_tool()
    messages = tool.extracted()
    assert len(messages) > 100 and "Overview" in messages and "Confirmed" in messages
    assert tool.untranslated(tool.load(), messages) == []


def test_the_booking_seeds_words_in_russian():
    ru = translations("ru")
    assert [ru.gettext(w) for w in ("Confirmed", "Pending", "Cancelled")] == [
        "Подтверждено", "В ожидании", "Отменено"]


def test_the_language_is_the_switchs_then_the_browsers_then_english():
    assert choose("ru", "en-US,en;q=0.9") == "ru"
    assert choose(None, "ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert choose(None, "de-DE,fr;q=0.5") == "en"
    assert choose("xx", None) == "en"


def test_money_is_exact_at_the_currencys_exponent_in_each_locale():
    en, ru = Formats("en"), Formats("ru")
    assert en.money(1250, "USD") == "$12.50" and ru.money(1250, "USD") == "12,50\xa0$"
    assert en.money(500, "JPY") == "¥500" and en.money(1234, "KWD").endswith("1.234")
    assert en.money(123456789012345678, "USD") == "$1,234,567,890,123,456.78"  # no float


def test_pages_follow_the_browsers_language_and_the_switch(admin_web):
    russian = admin_web.get("/dashboard/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in russian.text and "Обзор" in russian.text
    switched = admin_web.get("/dashboard/language?to=en&next=/dashboard/payments",
                             follow_redirects=False)
    assert switched.headers["location"] == "/dashboard/payments"
    english = admin_web.get("/dashboard/", headers={"Accept-Language": "ru-RU"})
    assert '<html lang="en">' in english.text  # the switch's choice wins
