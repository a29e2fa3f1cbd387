"""Customers, sellers and items, keyed by the platform's own ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, literal_column, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.sql import insert_ignore
from paytrack.adapters.storage.tables import customers, items, sellers

_TABLES = {"customer": customers, "seller": sellers}

# Built once: which of the three parties exist, the seller's rate and the item's seller.
_LOOKUP = select(
    select(customers.c.id).where(customers.c.id == bindparam("customer_id"))
    .scalar_subquery().label("customer"),
    select(sellers.c.id).where(sellers.c.id == bindparam("seller_id"))
    .scalar_subquery().label("seller"),
    select(sellers.c.commission_rate).where(sellers.c.id == bindparam("seller_id"))
    .scalar_subquery().label("seller_rate"),
    select(items.c.seller_id)
    .where(items.c.item_type == bindparam("item_type"), items.c.id == bindparam("item_id"))
    .scalar_subquery().label("item_seller"),
).select_from(select(literal_column("1")).subquery())


class PartyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lookup(self, customer_id: str, seller_id: str, item_type: str, item_id: str) -> dict:
        """In one round trip: which of the three exist, the seller's rate, the item's seller."""
        row = self.conn.execute(_LOOKUP, {"customer_id": customer_id, "seller_id": seller_id,
                                          "item_type": item_type, "item_id": item_id}).one()
        return dict(row._mapping)

    def ensure(self, kind: str, party_id: str, now: datetime, **fields: Any) -> None:
        table = _TABLES[kind]
        self.conn.execute(
            insert_ignore(self.conn, table).values(
                id=party_id, created_at=now, updated_at=now, **_with_metadata(fields)
            )
        )

    def ensure_item(self, item_type: str, item_id: str, seller_id: str, now: datetime,
                    **fields: Any) -> None:
        self.conn.execute(
            insert_ignore(self.conn, items).values(
                item_type=item_type, id=item_id, seller_id=seller_id,
                created_at=now, updated_at=now, **_with_metadata(fields),
            )
        )

    def get(self, kind: str, party_id: str) -> dict | None:
        table = _TABLES[kind]
        row = self.conn.execute(select(table).where(table.c.id == party_id)).first()
        return dict(row._mapping) if row else None

    def get_item(self, item_type: str, item_id: str) -> dict | None:
        row = self.conn.execute(
            select(items).where(items.c.item_type == item_type, items.c.id == item_id)
        ).first()
        return dict(row._mapping) if row else None

    def update(self, kind: str, party_id: str, now: datetime, **fields: Any) -> None:
        table = _TABLES[kind]
        self.conn.execute(
            update(table).where(table.c.id == party_id).values(updated_at=now, **fields)
        )

    def update_item(self, item_type: str, item_id: str, now: datetime, **fields: Any) -> None:
        self.conn.execute(
            update(items).where(items.c.item_type == item_type, items.c.id == item_id)
            .values(updated_at=now, **fields)
        )


def _with_metadata(fields: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {}, **{k: v for k, v in fields.items() if v is not None}}
