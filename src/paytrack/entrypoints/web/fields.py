"""Query and form fields as a browser sends them: an empty field is no value (a GET form
sends ``start=`` for an empty date), and anything malformed is a 400 page, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query

from paytrack.domain.errors import ValidationFailed
from paytrack.entrypoints.api.parameters import is_id

Text = Annotated[str | None, Query(max_length=200)]
DayText = Annotated[str | None, Query(max_length=10)]


def text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def day(value: str | None, field: str = "date") -> date | None:
    value = text(value)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a date like 2026-03-31", field=field) from None


def cursor(value: str | None, prefix: str) -> str | None:
    """A list's cursor: the id of the last row shown (``pay_…``), as the list gave it."""
    value = text(value)
    if value is not None and not is_id(value, prefix):
        raise ValidationFailed(f"{value!r} is not a cursor this list gave", field="cursor")
    return value
