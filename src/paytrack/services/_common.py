"""Helpers the services share: reading a row, checking text and guarded status moves."""

from __future__ import annotations

from typing import Any

from paytrack.domain.errors import InvalidTransition, NotFound, ValidationFailed
from paytrack.domain.states import move


def fetch(repo, entity: str, object_id: str) -> dict[str, Any]:
    """The row, or NotFound. Whether the caller may see it is ``permissions``' question."""
    row = repo.get(object_id)
    if row is None:
        raise NotFound(f"{entity} {object_id} not found")
    return row


def require_text(value: object, name: str, max_length: int = 500) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{name} is required", field=name)
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is longer than {max_length} characters", field=name)
    return value.strip()


def guarded_move(repo, table: dict, entity: str, object_id: str, sources: frozenset[str],
                 target: str, values: dict[str, Any], *, refusal: str | None = None) -> dict:
    """Move ``object_id`` to ``target`` if its status is one of ``sources``, in one
    conditional UPDATE; the new row carries ``previous_status``. On a refusal, read the
    row to say why: not found (404), a move the state machine does not allow (409), or one
    it allows but not to this caller (409 with ``refusal``, e.g. "a customer may cancel
    only a pending payment")."""
    row = repo.transition(object_id, sources, target, values)
    if row is not None:
        return row
    current = fetch(repo, entity, object_id)
    move(table, entity, current["status"], target)  # raises if the table forbids it
    raise InvalidTransition(
        f"{entity} is {current['status']}; {refusal or f'this action cannot make it {target}'}",
        current=current["status"], target=target,
    )
