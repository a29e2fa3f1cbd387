"""Reading a posted form: text fields only, each capped, and the API's input models
applied to it so that a form is refused for what the API would refuse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from paytrack.domain.errors import ValidationFailed

# No dashboard form has a field longer than this; a longer one is refused, not cut.
MAX_FIELD = 2000
MAX_FIELDS = 40

Model = TypeVar("Model", bound=BaseModel)


async def read_form(request: Request) -> dict[str, str]:
    """The form's text fields (a file, an oversized field or one sent twice is refused:
    422; no dashboard form has two fields of one name, and which one to act on would be
    a guess)."""
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if not isinstance(value, str):
            raise ValidationFailed("this form takes no files", field=name)
        if len(value) > MAX_FIELD:
            raise ValidationFailed(f"{name} is too long", field=name)
        if name in fields:
            raise ValidationFailed(f"{name} is sent twice", field=name)
        fields[name] = value
    return fields


# The posted form, read before a (sync) route runs in its thread.
FormDep = Annotated[dict[str, str], Depends(read_form)]


def text(form: Mapping[str, str], name: str, *, max_length: int = 500) -> str | None:
    """A field's trimmed text, None when empty; longer than ``max_length``: refused."""
    value = (form.get(name) or "").strip()
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is longer than {max_length} characters", field=name)
    return value or None


def whole(form: Mapping[str, str], name: str) -> int | None:
    """A field holding a whole number (None when empty)."""
    value = text(form, name, max_length=20)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed(f"{name} must be a whole number", field=name) from None


def validated(model: type[Model], data: Mapping[str, object]) -> Model:
    """``data`` through the API's input model; its first complaint as a ValidationFailed."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "invalid"))
        raise ValidationFailed(f"{where}: {message}" if where else message,
                               field=where or None) from None
