"""Helpers the services share: scope checks and guarded status moves."""

from __future__ import annotations

from typing import Any

from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import InvalidTransition, NotFound, ValidationFailed
from paytrack.domain.states import move


def check_scope(actor: Actor, payment: dict[str, Any], what: str = "payment") -> None:
    """A seller sees only its payments, a customer only its own: anything else is a 404."""
    if (actor.role is Role.SELLER and payment["seller_id"] != actor.id) or (
        actor.role is Role.CUSTOMER and payment["customer_id"] != actor.id
    ):
        raise NotFound(f"{what} {payment['id']} not found")


def require_text(value: object, name: str, max_length: int = 500) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{name} is required", field=name)
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is longer than {max_length} characters", field=name)
    return value.strip()


def guarded_move(repo, table: dict, entity: str, object_id: str, sources: frozenset[str],
                 target: str, values: dict[str, Any]) -> dict:
    """Move ``object_id`` to ``target`` if its status is one of ``sources``, in one
    conditional UPDATE; the new row carries ``previous_status``. On a refusal, read the
    row to say why: not found (404) or a move the state machine does not allow (409)."""
    row = repo.transition(object_id, sources, target, values)
    if row is not None:
        return row
    current = repo.get(object_id)
    if current is None:
        raise NotFound(f"{entity} {object_id} not found")
    move(table, entity, current["status"], target)  # raises if the table forbids it
    raise InvalidTransition(
        f"{entity} is {current['status']}; this action cannot make it {target}",
        current=current["status"], target=target,
    )
