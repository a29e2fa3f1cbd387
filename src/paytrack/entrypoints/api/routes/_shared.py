"""What every router shares: pagination parameters and the problem responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from paytrack.entrypoints.api.problems import documented
from paytrack.entrypoints.api.writes import WriteRoute

Limit = Annotated[int, Query(ge=1, le=100, description="At most 100")]
Cursor = Annotated[str | None, Query(max_length=60, pattern=r"^[A-Za-z0-9_]*$",
                                     description="`next_cursor` of the previous page")]


def router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=prefix, tags=[tag], route_class=WriteRoute,
                     responses=documented(400, 401, 403, 404, 409, 413, 422, 429))
