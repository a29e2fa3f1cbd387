"""What every router shares: pagination parameters and the problem responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from paytrack.entrypoints.api.problems import documented
from paytrack.entrypoints.api.schemas import OBJECT_ID_PATTERN
from paytrack.entrypoints.api.writes import WriteRoute

Limit = Annotated[int, Query(ge=1, le=100, examples=[20],
                             description="how many to return: 1 to 100")]


def object_id(example: str) -> Any:
    """A path parameter naming one of paytrack's own objects."""
    return Path(pattern=OBJECT_ID_PATTERN, examples=[example],
                description="a paytrack id (letters, digits and `_`), as paytrack returned it")


def router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=prefix, tags=[tag], route_class=WriteRoute,
                     responses=documented(400, 401, 403, 404, 409, 413, 422, 429))
