"""RFC 9457 problem details: one mapping from every error to ``application/problem+json``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from paytrack.domain.errors import PaytrackError
from paytrack.entrypoints.api import hints

log = logging.getLogger("paytrack.api")
MEDIA_TYPE = "application/problem+json"
CHALLENGE = 'Bearer realm="paytrack"'


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """An error. ``code`` is stable and meant for machines; ``detail`` is for people."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None


def problem(status: int, code: str, title: str, detail: str,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"https://paytrack.dev/problems/{code}", "title": title, "status": status,
            "detail": detail, "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "too_many_requests"}


def response_for(exc: Exception, request: Request | None = None) -> JSONResponse | None:
    """The problem response for a known error, or None for a bug (a 500). With the request,
    a validation error quotes what the route documents for each field."""
    response = _response_for(exc, request)
    if response is not None and response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", CHALLENGE)  # RFC 9110 § 11.6.1
    return response


def _response_for(exc: Exception, request: Request | None) -> JSONResponse | None:
    if isinstance(exc, PaytrackError):
        extra: dict[str, Any] = {k: v for k, v in exc.extra.items()
                                 if isinstance(v, str | int | bool)}
        if "field" in extra:
            extra = {"errors": [{"field": extra.pop("field"), "message": exc.detail,
                                 "type": exc.code}], **extra}
        return problem(exc.status, exc.code, exc.title, exc.detail, **extra)
    if isinstance(exc, RequestValidationError):
        return _validation_problem(exc, request)
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError | ValueError):
            return _malformed_json(exc.__cause__)  # what FastAPI could not parse as JSON
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, code.replace("_", " ").capitalize(),
                       str(exc.detail), headers=getattr(exc, "headers", None))
    return None


def _malformed_json(cause: BaseException | None = None) -> JSONResponse:
    why = ("it is nested too deeply" if isinstance(cause, RecursionError)
           else "it is not UTF-8" if isinstance(cause, UnicodeDecodeError) else None)
    detail = "the request body is not valid JSON" + (f": {why}" if why else "")
    return problem(400, "malformed_json", "Malformed JSON", detail)


def _validation_problem(exc: RequestValidationError,
                        request: Request | None) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _malformed_json()
    documented = hints.Documented(request)
    fields = []
    for e in errors:
        location = tuple(e.get("loc", ()))
        field = ".".join(hints.printable(p) for p in location if p != "body") or "body"
        fields.append({"field": field, "message": documented.message(e),
                       "type": e.get("type", "invalid")})
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return problem(422, "validation_failed", "Invalid input", detail, errors=fields)


def install(app: FastAPI) -> None:
    async def known(request: Request, exc: Exception) -> JSONResponse:
        response = response_for(exc, request)
        assert response is not None
        if response.status_code == 405:
            response.headers["Allow"] = _allowed_methods(app, request)
        return response

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal_error", "Internal error",
                       "something went wrong on our side; the request changed nothing")

    app.add_exception_handler(PaytrackError, known)
    app.add_exception_handler(RequestValidationError, known)
    app.add_exception_handler(StarletteHTTPException, known)
    app.add_exception_handler(Exception, unexpected)


def _allowed_methods(app: FastAPI, request: Request) -> str:
    """Every method any route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        served = getattr(route, "methods", None)  # a Route's; a Mount has none
        if match is not Match.NONE and served:
            methods |= served
    return ", ".join(sorted(methods))


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem statuses a route can answer with."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {s: {"model": Problem, "description": "Problem",
                "content": {MEDIA_TYPE: {"schema": schema}}} for s in statuses}
