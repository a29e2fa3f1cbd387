"""What a refused input should have been: each validation error names the field, what it
found wrong, what was expected and an example, in the words of the API's own documentation.

The expectation and the example are the field's ``description`` and ``examples`` in the
OpenAPI schema (set on the input types in ``schemas.py``), so an error message and the docs
can never disagree:

    currency: "usd" is not in the expected form (expected an ISO-4217 currency code in
    capital letters, e.g. "USD")
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request

JSON_BODY = "a JSON object sent with Content-Type: application/json"
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
WHOLE_BODY_RULES = {"conflicting_fields"}  # model validators in schemas.py


class Documented:
    """The documented parameters and body of the operation a request was routed to."""

    def __init__(self, request: Request | None) -> None:
        self.request = request
        self.operation: dict[str, Any] = {}
        self.components: dict[str, Any] = {}
        route = request.scope.get("route") if request is not None else None
        if request is not None and isinstance(route, APIRoute) and route.include_in_schema:
            schema = request.app.openapi()
            self.components = schema.get("components", {}).get("schemas", {})
            path = schema.get("paths", {}).get(route.path_format, {})
            self.operation = path.get(request.method.lower(), {})

    def message(self, error: dict[str, Any]) -> str:
        """What was wrong with one field, what was expected and an example."""
        location = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        if location == ("body",):
            if kind in WHOLE_BODY_RULES:  # our own rule across fields: it says it all
                return _found(error)
            return self._body_message(kind)
        found = _found(error)
        if "e.g." in found:  # a message of our own that says it all already
            return found
        if kind == "extra_forbidden" and location[:1] == ("body",):
            body = self._body_schema()
            fields = ", ".join(body.get("properties", {})) if body else None
            return f"is not a field of this request (it takes {fields})" if fields else found
        node = self._node(location)
        if node is None:
            return found
        return _with_expectation(found, _first(self, node, "description"),
                                 _first(self, node, "examples"))

    def _body_message(self, kind: str) -> str:
        if kind == "missing":
            found = "required"
        elif kind in _NOT_AN_OBJECT:
            content_type = self.request.headers.get("content-type") if self.request else None
            if content_type is None or _is_json(content_type):
                found = "is not a JSON object"
            else:
                found = f"was sent as {printable(content_type.split(';')[0])}"
        else:
            found = "is not valid"
        return _with_expectation(found, JSON_BODY, self._body_example())

    def _body_example(self) -> Any:
        body = self._body_schema()
        if body is None:
            return None
        examples = body.get("examples")
        if examples:
            return examples[0]
        properties = body.get("properties", {})
        names = body.get("required") or list(properties)[:2]
        return {name: _first(self, properties[name], "examples") for name in names
                if name in properties}

    def _body_schema(self) -> dict[str, Any] | None:
        content = self.operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            return None
        return next((n for n in _nodes(self, schema) if "properties" in n), None)

    def _node(self, location: tuple[Any, ...]) -> dict[str, Any] | None:
        """The documented schema of the top-level field at ``location`` (a nested error,
        ``metadata.note``, is explained by its field, ``metadata``)."""
        if len(location) < 2:
            return None
        where, name = location[0], location[1]
        if where == "body":
            body = self._body_schema()
            return body.get("properties", {}).get(name) if body else None
        for parameter in self.operation.get("parameters", []):
            if parameter.get("in") == where and parameter.get("name") == name:
                return {**parameter.get("schema", {}),
                        **{k: v for k, v in parameter.items() if k == "description"}}
        return None


def _found(error: dict[str, Any]) -> str:
    """What was wrong, without pydantic's raw patterns."""
    kind = error.get("type", "")
    if kind == "missing":
        return "required"
    if kind == "string_pattern_mismatch":
        return f"{_shown(error.get('input'))} is not in the expected form"
    return str(error.get("msg", "is not valid"))


def _with_expectation(found: str, expected: str | None, example: Any) -> str:
    if expected is None and example is None:
        return found
    parts = [f"expected {expected}" if expected else None,
             f"e.g. {_shown(example, limit=200)}" if example is not None else None]
    return f"{found} ({', '.join(p for p in parts if p)})"


def _first(documented: Documented, node: dict[str, Any], key: str) -> Any:
    """The outermost ``key`` of ``node``: a field's own, else its type's."""
    for candidate in _nodes(documented, node):
        value = candidate.get(key)
        if value:
            return value[0] if key == "examples" and isinstance(value, list) else value
    return None


def _nodes(documented: Documented, node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``node`` and the schemas it is made of, outermost first ($ref, anyOf …; not null)."""
    queue = [node]
    while queue:
        current = queue.pop(0)
        ref = current.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            current = {**documented.components.get(ref.rsplit("/", 1)[1], {}), **current}
        yield current
        for key in ("anyOf", "oneOf", "allOf"):
            queue.extend(n for n in current.get(key, []) if n.get("type") != "null")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _shown(value: Any, limit: int = 40) -> str:
    """A value as JSON, cut to ``limit`` characters, with nothing unprintable in it."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return printable(text if len(text) <= limit else text[:limit] + "…")


def printable(value: object) -> str:
    """``value`` as text, control characters and bidirectional overrides escaped."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in str(value))
