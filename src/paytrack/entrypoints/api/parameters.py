"""Query parameters, one rule each for every route: none is silently ignored (nor given
twice: no route takes a list), and a cursor
that no list returned is refused the same way by every list (400 ``invalid_cursor``).

(No ``from __future__ import annotations``: the cursor parameters are made in functions,
and FastAPI reads their annotations at run time.)"""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from paytrack.domain.errors import InvalidCursor, RepeatedParameter, UnknownParameter
from paytrack.domain.ids import is_id

_CURSOR_HELP = ("pass the `next_cursor` of the previous page unchanged, or leave `cursor` "
                "out for the first page")


async def no_unknown_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not take: ignored, a misspelt filter would
    answer with everything (``?currency=KWD`` on a list that cannot filter by it)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return  # the docs pages (Swagger's OAuth redirect takes what its provider sends)
    known = _query_names(route)
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in known:
            takes = ", ".join(sorted(known)) or "no query parameters"
            raise UnknownParameter(f"unknown query parameter {name!r}; this route takes: "
                                   f"{takes}", parameter=name)
        # No route takes a list: a second value would silently replace the first.
        if name in seen:
            raise RepeatedParameter(f"query parameter {name!r} is given more than once; "
                                    "give it once", parameter=name)
        seen.add(name)


def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters ``route`` takes, its dependencies' included (kept on the route:
    routes are not hashable)."""
    names = route.__dict__.get("_query_names")
    if names is None:
        names = route.__dict__["_query_names"] = _names(route.dependant)
    return names


def _names(dependant: Dependant) -> frozenset[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _names(sub)
    return frozenset(names)


def _cursor_query(pattern: str, example: str) -> Any:
    # The pattern is documented, and checked here rather than by FastAPI (a 422), so that
    # every list refuses a cursor the same way, whatever its form.
    return Query(description=f"`next_cursor` of the previous page; {_CURSOR_HELP}",
                 examples=[example], json_schema_extra={"pattern": pattern})


def id_cursor(prefix: str) -> Any:
    """A cursor for a list ordered by paytrack ids with ``prefix`` (``pay``, ``re``, …)."""
    pattern = f"^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$"

    query = _cursor_query(pattern, f"{prefix}_01JD8X3M9QH7V2K4T6W8Y0Z1AB")

    def cursor(cursor: Annotated[str | None, query] = None) -> str | None:
        if cursor is not None and not is_id(cursor, prefix):
            raise _invalid(cursor)
        return cursor

    return Depends(cursor)


def _number_cursor(cursor: Annotated[str | None,
                                    _cursor_query(r"^[1-9][0-9]{0,17}$", "1042")] = None
                   ) -> int | None:
    if cursor is None:
        return None
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18 and cursor[0] != "0"):
        raise _invalid(cursor)
    return int(cursor)


NumberCursor = Annotated[int | None, Depends(_number_cursor)]


def _invalid(cursor: str) -> InvalidCursor:
    shown = cursor[:40] + ("…" if len(cursor) > 40 else "")
    return InvalidCursor(f"cursor {shown!r} is not one this list returned; {_CURSOR_HELP}")
