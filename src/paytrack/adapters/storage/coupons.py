"""Coupons, their targets, redemptions and usage counters.

Every limit is one conditional UPDATE (``… WHERE redemptions_held < max_redemptions``) and
every redemption move one UPDATE guarded by the status it comes from, so racing payments
serialize on the coupon's row and none passes a limit, and a move done twice changes
nothing the second time. CHECK constraints back the limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.sql import (
    insert_ignore,
    labeled_sum,
    read_sum,
    record_or_none,
    records,
)
from paytrack.adapters.storage.tables import (
    coupon_customers,
    coupon_redemptions,
    coupon_targets,
    coupons,
    payments,
)
from paytrack.domain.coupons import Coupon, Redemption, RedemptionStatus

RS = RedemptionStatus
_TARGETS = {"item": "item_ids", "seller": "seller_ids"}


class CouponRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- coupons ---------------------------------------------------------------------

    def insert(self, coupon: Coupon) -> bool:
        """Store a new coupon and its targets; False (nothing stored) if its code is taken."""
        row = {k: v for k, v in coupon.items() if k not in _TARGETS.values()}
        inserted = self.conn.execute(
            insert_ignore(self.conn, coupons).values(**row).returning(coupons.c.id)).first()
        if inserted is None:
            return False
        targets = [{"coupon_id": coupon["id"], "target_type": kind, "target_id": target}
                   for kind, ids in (("item", coupon["item_ids"]),
                                     ("seller", coupon["seller_ids"]))
                   for target in ids]
        if targets:
            self.conn.execute(insert(coupon_targets), targets)
        return True

    def codes(self, coupon_ids: Sequence[str]) -> dict[str, str]:
        """Each coupon's code, by id (a label for analytics)."""
        wanted = sorted(set(coupon_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            found.update((r.id, r.code) for r in self.conn.execute(
                select(coupons.c.id, coupons.c.code)
                .where(coupons.c.id.in_(wanted[start:start + 500]))))
        return found

    def get(self, coupon_id: str) -> Coupon | None:
        found = self._with_targets(self.conn.execute(
            select(coupons).where(coupons.c.id == coupon_id)).all())
        return found[0] if found else None

    def by_code(self, code_key: str) -> Coupon | None:
        found = self._with_targets(self.conn.execute(
            select(coupons).where(coupons.c.code_key == code_key)).all())
        return found[0] if found else None

    def newest(self, *, limit: int, before_id: str | None = None, active: bool | None = None,
             code_key: str | None = None, seller_id: str | None = None) -> list[Coupon]:
        """Newest first. ``seller_id``: only coupons limited to that seller (among others)."""
        query = select(coupons)
        if active is not None:
            query = query.where(coupons.c.active == active)
        if code_key is not None:
            query = query.where(coupons.c.code_key == code_key)
        if seller_id is not None:
            query = query.where(exists().where(
                coupon_targets.c.coupon_id == coupons.c.id,
                coupon_targets.c.target_type == "seller",
                coupon_targets.c.target_id == seller_id))
        if before_id:
            query = query.where(coupons.c.id < before_id)
        rows = self.conn.execute(query.order_by(coupons.c.id.desc()).limit(limit)).all()
        return self._with_targets(rows)

    def deactivate(self, coupon_id: str, reason: str | None, now: datetime) -> Coupon | None:
        """Deactivate an active coupon; None if there is none (or it is inactive already)."""
        row = self.conn.execute(
            update(coupons).where(coupons.c.id == coupon_id, coupons.c.active.is_(True))
            .values(active=False, deactivated_at=now, deactivation_reason=reason,
                    updated_at=now)
            .returning(coupons.c.id)).first()
        return None if row is None else self.get(coupon_id)

    def _with_targets(self, rows: Iterable[Any]) -> list[Coupon]:
        found: list[dict[str, Any]] = [{**row._mapping, "item_ids": [], "seller_ids": []}
                                       for row in rows]
        if not found:
            return []
        by_id = {c["id"]: c for c in found}
        targets = self.conn.execute(
            select(coupon_targets).where(coupon_targets.c.coupon_id.in_(list(by_id)))
            .order_by(coupon_targets.c.target_id))
        for target in targets:
            by_id[target.coupon_id][_TARGETS[target.target_type]].append(target.target_id)
        return cast(list[Coupon], found)

    # -- places in the limits ----------------------------------------------------------

    def hold_place(self, coupon: Coupon, customer_id: str) -> str | None:
        """Take a place in the coupon's limits for one payment of ``customer_id``: one
        conditional UPDATE per limit the coupon has. None if taken; else which limit is full
        (``"total"`` or ``"customer"``), and nothing is held."""
        if coupon["max_redemptions"] is not None:
            taken = self.conn.execute(
                update(coupons)
                .where(coupons.c.id == coupon["id"],
                       coupons.c.redemptions_held < coupons.c.max_redemptions)
                .values(redemptions_held=coupons.c.redemptions_held + 1)).rowcount
            if taken != 1:
                return "total"
        limit = coupon["max_redemptions_per_customer"]
        if limit is not None:
            self.conn.execute(insert_ignore(self.conn, coupon_customers).values(
                coupon_id=coupon["id"], customer_id=customer_id, redemptions_held=0,
                max_redemptions=limit))
            taken = self.conn.execute(
                update(coupon_customers)
                .where(coupon_customers.c.coupon_id == coupon["id"],
                       coupon_customers.c.customer_id == customer_id,
                       coupon_customers.c.redemptions_held
                       < coupon_customers.c.max_redemptions)
                .values(redemptions_held=coupon_customers.c.redemptions_held + 1)).rowcount
            if taken != 1:
                if coupon["max_redemptions"] is not None:
                    self._give_back_total(coupon["id"])
                return "customer"
        return None

    def give_back_place(self, coupon: Coupon, customer_id: str) -> None:
        """Give back the place a redemption held (the caller moved it out of ``counted``)."""
        if coupon["max_redemptions"] is not None:
            self._give_back_total(coupon["id"])
        if coupon["max_redemptions_per_customer"] is not None:
            given = self.conn.execute(
                update(coupon_customers)
                .where(coupon_customers.c.coupon_id == coupon["id"],
                       coupon_customers.c.customer_id == customer_id,
                       coupon_customers.c.redemptions_held > 0)
                .values(redemptions_held=coupon_customers.c.redemptions_held - 1)).rowcount
            assert given == 1, f"customer {customer_id} held no place on {coupon['id']}"

    def _give_back_total(self, coupon_id: str) -> None:
        given = self.conn.execute(
            update(coupons).where(coupons.c.id == coupon_id, coupons.c.redemptions_held > 0)
            .values(redemptions_held=coupons.c.redemptions_held - 1)).rowcount
        assert given == 1, f"coupon {coupon_id} held no place"

    def customer_held(self, coupon_id: str, customer_id: str) -> int:
        held = self.conn.execute(
            select(coupon_customers.c.redemptions_held)
            .where(coupon_customers.c.coupon_id == coupon_id,
                   coupon_customers.c.customer_id == customer_id)).scalar()
        return int(held or 0)

    # -- redemptions -------------------------------------------------------------------

    def add_redemption(self, redemption: Redemption) -> None:
        self.conn.execute(insert(coupon_redemptions).values(**redemption))

    def redemption(self, payment_id: str) -> Redemption | None:
        row = self.conn.execute(select(coupon_redemptions)
                                .where(coupon_redemptions.c.payment_id == payment_id)).first()
        return record_or_none(row, Redemption)

    def move_redemption(self, payment_id: str, source: RedemptionStatus,
                        target: RedemptionStatus, values: dict[str, Any]) -> Redemption | None:
        """Move the payment's redemption from ``source`` to ``target``; None (nothing
        changed) if it is not in ``source``, so a repeated move is a no-op."""
        row = self.conn.execute(
            update(coupon_redemptions)
            .where(coupon_redemptions.c.payment_id == payment_id,
                   coupon_redemptions.c.status == str(source))
            .values(status=str(target), **values)
            .returning(*coupon_redemptions.c)).first()
        return record_or_none(row, Redemption)

    def redemptions(self, coupon_id: str) -> list[Redemption]:
        return records(self.conn.execute(
            select(coupon_redemptions).where(coupon_redemptions.c.coupon_id == coupon_id)
            .order_by(coupon_redemptions.c.payment_id)), Redemption)

    # -- usage -------------------------------------------------------------------------

    def usage(self, coupon_id: str, seller_id: str | None) -> list[dict[str, Any]]:
        """Per currency: redeemed payments, their discounts, totals and refunds (only
        ``seller_id``'s payments, if given), and the payments still holding a reservation."""
        conn = self.conn
        status = coupon_redemptions.c.status
        where = [coupon_redemptions.c.coupon_id == coupon_id,
                 status.in_([str(RS.REDEEMED), str(RS.RESERVED)])]
        if seller_id is not None:
            where.append(payments.c.seller_id == seller_id)
        joined = coupon_redemptions.join(payments,
                                         payments.c.id == coupon_redemptions.c.payment_id)
        rows = conn.execute(
            select(payments.c.currency, status, func.count().label("payments"),
                   *labeled_sum(conn, payments.c.discount, "discount"),
                   *labeled_sum(conn, payments.c.total, "revenue"),
                   *labeled_sum(conn, payments.c.refunded_amount, "refunded"))
            .select_from(joined).where(and_(*where))
            .group_by(payments.c.currency, status)
            .order_by(payments.c.currency)).mappings().all()
        by_currency: dict[str, dict[str, Any]] = {}
        for row in rows:
            figures = by_currency.setdefault(row["currency"], {
                "currency": row["currency"], "redemptions": 0, "reserved": 0,
                "discount_given": 0, "revenue": 0, "refunded": 0})
            if row["status"] == RS.RESERVED:
                figures["reserved"] += row["payments"]
                continue
            figures["redemptions"] += row["payments"]
            figures["discount_given"] += read_sum(row, "discount")
            figures["revenue"] += read_sum(row, "revenue")
            figures["refunded"] += read_sum(row, "refunded")
        return list(by_currency.values())
