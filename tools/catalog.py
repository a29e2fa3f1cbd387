"""Keep the dashboard's Russian catalog in step with its templates.

    python tools/catalog.py            # extract, then add new messages to messages.po (empty)
    python tools/catalog.py --check    # exit 1 if a message has no Russian translation

The catalog is read at run time by ``paytrack.entrypoints.web.i18n`` (no compile step).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "paytrack" / "entrypoints" / "web"
PO = WEB / "locale" / "ru" / "LC_MESSAGES" / "messages.po"
METHODS = [("**/templates/dashboard/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/dashboard/**.html": {"extensions": "jinja2.ext.i18n",
                                               "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extracted() -> list[str]:
    found: dict[str, None] = {}
    for _, _, message, _, _ in extract_from_dir(WEB, METHODS, OPTIONS, KEYWORDS):
        if isinstance(message, str):
            found.setdefault(message)
    return list(found)


def load() -> Catalog:
    if not PO.exists():
        return Catalog(locale="ru", project="paytrack", charset="utf-8")
    with PO.open("rb") as po:
        return read_po(po, locale="ru")


def untranslated(catalog: Catalog, messages: list[str]) -> list[str]:
    return [m for m in messages
            if catalog.get(m) is None or not catalog.get(m).string or catalog.get(m).fuzzy]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    messages = extracted()
    catalog = load()
    if args.check:
        missing = untranslated(catalog, messages)
        for message in missing:
            print(f"untranslated: {message!r}")
        sys.exit(1 if missing else 0)
    for message in messages:
        if catalog.get(message) is None:
            catalog.add(message, "")
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as po:
        write_po(po, catalog, width=100, omit_header=False, sort_output=False)
    print(f"{len(messages)} messages, {len(untranslated(catalog, messages))} untranslated")


if __name__ == "__main__":
    main()
