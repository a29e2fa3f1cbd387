"""Query and form fields as a browser sends them: an empty field is no value (a GET form
sends ``start=`` for an empty date), and anything malformed is a 400 page, never a 500."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Query

from paytrack.domain.errors import ValidationFailed
from paytrack.entrypoints.api.parameters import is_id

Text = Annotated[str | None, Query(max_length=200)]
DayText = Annotated[str | None, Query(max_length=10)]


# What the API refuses in a one-line value: a control character (a NUL cannot even be
# stored in PostgreSQL) or a bidirectional override.
_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def text(value: str | None, field: str = "query") -> str | None:
    value = (value or "").strip()
    if _REFUSED.search(value):
        raise ValidationFailed(f"{field} contains a control character", field=field)
    return value or None


def day(value: str | None, field: str = "date") -> date | None:
    value = text(value, field)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a date like 2026-03-31", field=field) from None


def cursor(value: str | None, prefix: str) -> str | None:
    """A list's cursor: the id of the last row shown (``pay_…``), as the list gave it."""
    value = text(value, "cursor")
    if value is not None and not is_id(value, prefix):
        raise ValidationFailed(f"{value!r} is not a cursor this list gave", field="cursor")
    return value
