"""Pages from Jinja2 templates, one environment per language (its gettext catalog
installed), autoescaped."""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from paytrack.domain.money import format_amount
from paytrack.entrypoints.web.i18n import LOCALES, Formats, translations
from paytrack.entrypoints.web.labels import STATUSES
from paytrack.entrypoints.web.session import FLASH, Viewer, language_of, take_flash

TEMPLATES = Path(__file__).resolve().parent / "templates" / "dashboard"
# The dashboard's own files only: no inline script, no CDN.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@cache
def environment(language: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    gettext = translations(language).gettext
    env.globals["LOCALES"] = LOCALES
    env.globals["query"] = _query
    env.globals["plain_amount"] = format_amount  # what an amount field takes: "12.50"
    env.globals["new_form_key"] = lambda: secrets.token_urlsafe(18)
    env.globals["status_name"] = lambda status: gettext(STATUSES.get(status) or str(status))
    return env


def _query(params: dict[str, Any], **changes: Any) -> str:
    """``?…`` of ``params`` with ``changes``, empty values left out."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


def page(request: Request, viewer: Viewer | None, template: str, *, status: int = 200,
         **context: Any) -> HTMLResponse:
    language = viewer.language if viewer else language_of(request)
    notice = take_flash(request)
    html = environment(language).get_template(template).render(
        viewer=viewer, notice=notice, language=language, path=request.url.path,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        fmt=viewer.formats if viewer else Formats(language), status=status, **context)
    response = HTMLResponse(html, status_code=status,
                            headers={"Content-Security-Policy": CSP,
                                     "Cache-Control": "no-store"})
    if notice is not None:
        response.delete_cookie(FLASH, path="/dashboard")
    return response
