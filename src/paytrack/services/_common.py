"""Helpers the services share: reading a row, checking text and guarded status moves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypedDict, TypeVar

from paytrack.domain.errors import InvalidTransition, NotFound, ValidationFailed
from paytrack.domain.states import Transitions, move

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Stateful(TypedDict):
    """What every record with a state machine has (a Payment, a Refund …)."""

    status: str


S = TypeVar("S", bound=Stateful)


class Reads(Protocol[T_co]):
    def get(self, object_id: str, /) -> T_co | None: ...


class Moves(Reads[T_co], Protocol[T_co]):
    def transition(self, object_id: str, sources: Iterable[str], target: str,
                   values: dict[str, Any], /) -> T_co | None: ...


def fetch(repo: Reads[T], entity: str, object_id: str) -> T:
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


def guarded_move(repo: Moves[S], table: Transitions, entity: str, object_id: str,
                 sources: frozenset[str], target: str, values: dict[str, Any], *,
                 refusal: str | None = None) -> S:
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
