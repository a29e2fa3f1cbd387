"""Customers, sellers and items: created on first reference, editable later."""

from __future__ import annotations

from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.errors import ItemHasPayments, NotFound
from paytrack.domain.parties import Item, Party, PartyKind
from paytrack.domain.splits import parse_rate
from paytrack.services import permissions
from paytrack.services._common import require_text
from paytrack.services.permissions import Action

EDITABLE = {"customer": ("name", "email", "metadata"),
            "seller": ("name", "email", "metadata", "commission_rate", "hold_days")}


def upsert_party(uow: UnitOfWork, kind: PartyKind, party_id: str, actor: Actor,
                 **fields: Any) -> Party:
    """Create the customer or seller if it is new, then apply the given fields."""
    permissions.check(actor, Action.EDIT_PARTIES)
    require_text(party_id, f"{kind}_id", max_length=100)
    unknown = set(fields) - set(EDITABLE[kind])
    assert not unknown, f"not editable: {unknown}"
    if fields.get("commission_rate") is not None:
        fields["commission_rate"] = str(parse_rate(fields["commission_rate"]))
    now = uow.now()
    before = uow.parties.get(kind, party_id)
    if before is None:
        uow.parties.ensure(kind, party_id, now)
    changes = {k: v for k, v in fields.items() if v is not None}
    if changes:
        uow.parties.update(kind, party_id, now, **changes)
    after = uow.parties.get(kind, party_id)
    assert after is not None, "created above"
    uow.records.audit(str(actor), f"{kind}.{'updated' if before else 'created'}", kind,
                      party_id, _plain(before), _plain(after), now)
    return after


def clear_seller_overrides(uow: UnitOfWork, seller_id: str, actor: Actor, *,
                           commission_rate: bool = False, hold_days: bool = False) -> Party:
    """Back to the platform's default commission rate and/or hold period."""
    permissions.check(actor, Action.EDIT_PARTIES)
    before = _get(uow, "seller", seller_id)
    now = uow.now()
    cleared = {name: None for name, clear in (("commission_rate", commission_rate),
                                              ("hold_days", hold_days)) if clear}
    uow.parties.update("seller", seller_id, now, **cleared)
    after = uow.parties.get("seller", seller_id)
    assert after is not None, "read above"
    uow.records.audit(str(actor), "seller.updated", "seller", seller_id, _plain(before),
                      _plain(after), now)
    return after


def upsert_item(uow: UnitOfWork, item_type: str, item_id: str, seller_id: str, actor: Actor,
                *, title: str | None = None,
                metadata: dict[str, Any] | None = None) -> Item:
    """Create or edit an item. Its payments keep the seller they were made for, so an item
    that has any cannot move to another seller (the database refuses it too)."""
    permissions.check(actor, Action.EDIT_PARTIES)
    now = uow.now()
    if uow.parties.get("seller", seller_id) is None:
        uow.parties.ensure("seller", seller_id, now)
    before = uow.parties.get_item(item_type, item_id)
    if before is None and uow.parties.ensure_item(item_type, item_id, seller_id, now,
                                                  title=title, metadata=metadata) is not None:
        before = uow.parties.get_item(item_type, item_id)  # created meanwhile elsewhere
    if before is not None:
        if before["seller_id"] != seller_id and uow.payments.any_for_item(item_type, item_id):
            raise ItemHasPayments(
                f"{item_type} {item_id} has payments for seller {before['seller_id']}; "
                f"it cannot move to seller {seller_id}")
        changes = {k: v for k, v in {"title": title, "metadata": metadata,
                                     "seller_id": seller_id}.items() if v is not None}
        uow.parties.update_item(item_type, item_id, now, **changes)
    after = uow.parties.get_item(item_type, item_id)
    assert after is not None, "created above"
    uow.records.audit(str(actor), f"item.{'updated' if before else 'created'}", "item",
                      f"{item_type}:{item_id}", _plain(before), _plain(after), now)
    return after


READ = {"seller": Action.READ_SELLER, "customer": Action.READ_CUSTOMER}


def get_party(uow: UnitOfWork, kind: PartyKind, party_id: str, actor: Actor) -> Party:
    """A seller or customer, to an admin or to that party itself."""
    permissions.check_object(actor, READ[kind], {f"{kind}_id": party_id}, f"{kind} {party_id}")
    return _get(uow, kind, party_id)


def list_parties(uow: UnitOfWork, kind: PartyKind, actor: Actor, *, limit: int = 20,
                 cursor: str | None = None) -> list[Party]:
    """Every customer or seller, in id order (``cursor``: the last id of the page before);
    admins only (a seller reads itself with ``get_party``)."""
    permissions.check(actor, Action.EDIT_PARTIES)
    return uow.parties.page(kind, limit=limit, after_id=cursor)


def _get(uow: UnitOfWork, kind: PartyKind, party_id: str) -> Party:
    party = uow.parties.get(kind, party_id)
    if party is None:
        raise NotFound(f"{kind} {party_id} not found")
    return party


def _plain(row: Party | Item | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
