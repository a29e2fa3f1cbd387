"""Customers, sellers and items, keyed by the platform's own ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import bindparam, literal_column, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from paytrack.adapters.storage.errors import translate
from paytrack.adapters.storage.sql import insert_ignore, record, record_or_none
from paytrack.adapters.storage.tables import customers, items, sellers
from paytrack.domain.parties import Customer, Item, Party, PartyKind, Seller

_TABLES = {"customer": customers, "seller": sellers}
_RECORDS: dict[str, type[Customer] | type[Seller]] = {"customer": Customer, "seller": Seller}


class PartyLookup(TypedDict):
    """Which of a payment's parties exist (their ids, or None), the seller's commission
    rate and the seller the item belongs to (None: no such item yet)."""

    customer: str | None
    seller: str | None
    seller_rate: str | None
    item_seller: str | None

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


class PartyCache:
    """What parties looked like when last read: customers and sellers that exist, each
    seller's rate, each item's seller. Never trusted alone: a write that used it carries a
    guard the database checks in the same statement (see ``Appender``)."""

    MAX_ENTRIES = 200_000

    def __init__(self) -> None:
        self.customers: set[str] = set()
        self.sellers: dict[str, str | None] = {}  # id -> commission rate
        self.items: dict[tuple[str, str], str] = {}  # (type, id) -> seller id

    def remember(self, customer_id: str, seller_id: str, item_type: str, item_id: str,
                 found: PartyLookup) -> None:
        if len(self.customers) + len(self.sellers) + len(self.items) > self.MAX_ENTRIES:
            self.clear()
        if found["customer"] is not None:
            self.customers.add(customer_id)
        if found["seller"] is not None:
            self.sellers[seller_id] = found["seller_rate"]
        if found["item_seller"] is not None:
            self.items[(item_type, item_id)] = found["item_seller"]

    def clear(self) -> None:
        self.customers.clear()
        self.sellers.clear()
        self.items.clear()


class PartyRepository:
    def __init__(self, conn: Connection, cache: PartyCache | None = None,
                 guard: Callable[[dict], None] | None = None) -> None:
        self.conn = conn
        self.cache = cache
        self.guard = guard  # set only when the caller retries on a stale read (Storage.run)

    def lookup(self, customer_id: str, seller_id: str, item_type: str,
               item_id: str) -> PartyLookup:
        """Which of the three exist, the seller's rate and the item's seller: from the cache
        when it knows all three (guarded at write time), else in one round trip."""
        cache = self.cache
        # A cached owner other than the one named is not trusted to refuse: ask the database.
        if cache is not None and self.guard is not None and customer_id in cache.customers \
                and seller_id in cache.sellers \
                and cache.items.get((item_type, item_id)) == seller_id:
            found: PartyLookup = {"customer": customer_id, "seller": seller_id,
                     "seller_rate": cache.sellers[seller_id],
                     "item_seller": cache.items[(item_type, item_id)]}
            self.guard({"seller_id": seller_id, "seller_rate": found["seller_rate"],
                        "item_type": item_type, "item_id": item_id,
                        "item_seller": found["item_seller"]})
            return found
        row = self.conn.execute(_LOOKUP, {"customer_id": customer_id, "seller_id": seller_id,
                                          "item_type": item_type, "item_id": item_id}).one()
        found = record(row, PartyLookup)
        if cache is not None:
            cache.remember(customer_id, seller_id, item_type, item_id, found)
        return found

    def prime(self, limit: int) -> None:
        """Fill the cache with up to ``limit`` of each kind of party."""
        cache = self.cache
        assert cache is not None, "a repository without a cache has nothing to prime"
        cache.customers.update(self.conn.execute(select(customers.c.id).limit(limit)).scalars())
        cache.sellers.update(
            (r.id, r.commission_rate)
            for r in self.conn.execute(select(sellers.c.id, sellers.c.commission_rate)
                                       .limit(limit)))
        cache.items.update(
            ((r.item_type, r.id), r.seller_id)
            for r in self.conn.execute(select(items.c.item_type, items.c.id, items.c.seller_id)
                                       .limit(limit)))

    def ensure(self, kind: PartyKind, party_id: str, now: datetime, **fields: Any) -> None:
        table = _TABLES[kind]
        self.conn.execute(
            insert_ignore(self.conn, table).values(
                id=party_id, created_at=now, updated_at=now, **_with_metadata(fields)
            )
        )

    def ensure_item(self, item_type: str, item_id: str, seller_id: str, now: datetime,
                    **fields: Any) -> str | None:
        """Create the item unless it exists: None if this created it, else the seller it
        already had (on PostgreSQL, after waiting for a concurrent creator to commit)."""
        created = self.conn.execute(
            insert_ignore(self.conn, items).values(
                item_type=item_type, id=item_id, seller_id=seller_id,
                created_at=now, updated_at=now, **_with_metadata(fields),
            ).returning(items.c.seller_id)
        ).first()
        if created is not None:
            return None
        return self.conn.execute(
            select(items.c.seller_id)
            .where(items.c.item_type == item_type, items.c.id == item_id)
        ).scalar_one()

    def get(self, kind: PartyKind, party_id: str) -> Party | None:
        table = _TABLES[kind]
        row = self.conn.execute(select(table).where(table.c.id == party_id)).first()
        return record_or_none(row, _RECORDS[kind])

    def page(self, kind: PartyKind, *, limit: int, after_id: str | None = None
             ) -> list[Party]:
        """Parties of one kind in id order, the first ``limit`` after ``after_id``."""
        table = _TABLES[kind]
        query = select(table).order_by(table.c.id).limit(limit)
        if after_id is not None:
            query = query.where(table.c.id > after_id)
        return [record(row, _RECORDS[kind]) for row in self.conn.execute(query)]

    def get_item(self, item_type: str, item_id: str) -> Item | None:
        row = self.conn.execute(
            select(items).where(items.c.item_type == item_type, items.c.id == item_id)
        ).first()
        return record_or_none(row, Item)

    def update(self, kind: PartyKind, party_id: str, now: datetime, **fields: Any) -> None:
        if self.cache is not None and kind == "seller":
            self.cache.sellers.pop(party_id, None)
        table = _TABLES[kind]
        self.conn.execute(
            update(table).where(table.c.id == party_id).values(updated_at=now, **fields)
        )

    def update_item(self, item_type: str, item_id: str, now: datetime, **fields: Any) -> None:
        if self.cache is not None:
            self.cache.items.pop((item_type, item_id), None)
        try:
            self.conn.execute(
                update(items).where(items.c.item_type == item_type, items.c.id == item_id)
                .values(updated_at=now, **fields)
            )
        except DBAPIError as exc:  # paid for meanwhile: its payments hold it to its seller
            error = translate(exc)
            if error is exc:
                raise
            raise error from exc


def _with_metadata(fields: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {}, **{k: v for k, v in fields.items() if v is not None}}
