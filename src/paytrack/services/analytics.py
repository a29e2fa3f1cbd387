"""Revenue analytics: the admin's figures over a range of local days, and the upkeep of the
rollups behind them (fold, rebuild).

Every figure is a sum of revenue deltas (``domain/analytics.py``), read from the rollups
plus the deltas not yet folded, per currency. A read answers 503 while the rollups do not
hold the history in the configured time zone (an upgraded install, or
``PAYTRACK_ANALYTICS_TZ`` changed): the background job rebuilds them within a round, or
``paytrack analytics rebuild`` at once.

To add a view: pick the rollup that groups by what it needs (``tables.ROLLUP_DIMENSIONS``),
ask ``uow.analytics.figures`` for its measures per group, and shape them with ``figures``.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypedDict

from paytrack.adapters.storage.analytics import COMPLETE_ROLLUPS, FOLD_BATCH
from paytrack.adapters.storage.tables import (
    GRAINS,
    ROLLUP_DIMENSIONS,
    revenue_deltas,
    rollups,
)
from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.analytics import MEASURES, ZERO, Measures, RevenueDifference
from paytrack.domain.errors import AnalyticsRebuilding, NotFound, ValidationFailed
from paytrack.domain.money import round_half_up, validate_currency
from paytrack.domain.payments import Payment
from paytrack.domain.periods import (
    DateRange,
    Interval,
    bucket_start,
    buckets,
    local_day,
    month_start,
    resolve_range,
    zone,
)
from paytrack.domain.states import PaymentStatus
from paytrack.services import permissions
from paytrack.services.permissions import Action

if TYPE_CHECKING:
    from sqlalchemy import Table

RATE_PLACES = Decimal("0.0001")
# Rollups by the payment's own columns, which ``ledger verify`` checks per group.
GROUPED_ROLLUPS = ("sellers", "items", "methods", "coupons")


class RankBy(StrEnum):
    """What a top list is ordered by (its ``revenue``)."""

    GROSS = "gross"
    NET = "net"
    PLATFORM_REVENUE = "platform_revenue"
    SELLER_EARNINGS = "seller_earnings"
    UNITS = "units"  # payments captured


# A top list's figure as measures added up: the storage ranks groups by it (exactly) before
# adding up their other measures.
RANK_WEIGHTS: dict[RankBy, dict[str, int]] = {
    RankBy.GROSS: {"gross": 1},
    RankBy.NET: {"gross": 1, "refunded": -1, "dispute_losses": -1},  # Measures.net
    RankBy.PLATFORM_REVENUE: {"platform_revenue": 1},
    RankBy.SELLER_EARNINGS: {"seller_earnings": 1},
    RankBy.UNITS: {"captured": 1},
}


def figures(m: Measures) -> dict[str, Any]:
    """A sum of measures as the API shows it: each measure (``captured`` as
    ``transactions``), ``net``, the average transaction value and the success and failure
    rates over the payments that ended (captured or unpaid), as decimal strings."""
    values: dict[str, Any] = m.as_dict()
    values["transactions"] = values.pop("captured")
    ended = m.captured + m.failed
    return {
        **values,
        "net": m.net,
        "average_transaction_value": (round_half_up(Decimal(m.gross) / m.captured)
                                      if m.captured else None),
        "success_rate": _rate(m.captured, ended),
        "failure_rate": _rate(m.failed, ended),
    }


def _rate(part: int, whole: int) -> str | None:
    if whole <= 0:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def _open(uow: UnitOfWork, actor: Actor, currency: str, start: date | None,
          end: date | None, *, seller_id: str | None = None
          ) -> tuple[dict[str, Any], DateRange]:
    """Check the caller and the rollups; the range asked for (``resolve_range``). With
    ``seller_id``: a seller's own analytics (``_seller``), else the platform's."""
    if seller_id is None:
        permissions.check(actor, Action.READ_ANALYTICS)
    currency = validate_currency(currency)
    tz = uow.policy.analytics_tz
    state = uow.analytics.state()
    if state["rebuild_required"] or state["tz"] not in (None, tz):
        raise AnalyticsRebuilding(
            f"the analytics rollups are being rebuilt in {tz} (they hold "
            f"{'no history yet' if state['rebuild_required'] else state['tz']}); retry in a "
            "few seconds, or run `paytrack analytics rebuild`")
    span = resolve_range(start, end, local_day(uow.now(), zone(tz)))
    # What every answer starts with: the currency, the range and its time zone.
    return {"currency": currency, "from": span.start, "to": span.end, "tz": tz}, span


def currencies(uow: UnitOfWork, actor: Actor) -> list[str]:
    """The currencies the platform took money in, the one with the most gross first."""
    permissions.check(actor, Action.READ_ANALYTICS)
    found = uow.analytics.currencies()
    return [currency for currency, _ in sorted(found, key=lambda c: (-c[1], c[0]))]


def summary(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
            end: date | None = None, seller_id: str | None = None) -> dict[str, Any]:
    """Every figure over the range, for all sellers or one."""
    scope, span = _open(uow, actor, currency, start, end)
    if seller_id is None:
        found = uow.analytics.figures("totals", scope["currency"], span)
    else:
        found = uow.analytics.figures("sellers", scope["currency"], span,
                                      where={"seller_id": seller_id})
    total = sum((m for _, m in found), ZERO)
    return {**scope, "seller_id": seller_id, **figures(total)}


def trend(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
          end: date | None = None, interval: str = Interval.DAY) -> dict[str, Any]:
    """The figures per day, ISO week or month of the range, every bucket present (zeros
    where nothing happened); the first and last are cut to the range."""
    scope, span = _open(uow, actor, currency, start, end)
    every = Interval(interval)
    if every is Interval.MONTH:  # whole months from the month rollup
        found = uow.analytics.figures("totals", scope["currency"], span, by_period=True)
    else:
        found = uow.analytics.figures_by_day("totals", scope["currency"], span)
    per_bucket: dict[date, Measures] = {}
    for (period,), m in found:
        key = bucket_start(period, every)
        per_bucket[key] = per_bucket.get(key, ZERO) + m
    return {**scope, "interval": str(every), "data": [
        {"bucket": b.label, "start": b.start, "end": b.end,
         **figures(per_bucket.get(b.key, ZERO))}
        for b in buckets(span, every)]}


def _ranked(found: list[tuple[tuple[Any, ...], Measures]], by: RankBy, limit: int,
            names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The top ``limit`` groups by ``by``, largest first (ties by key), each with its
    units, gross, refunded, net, platform revenue and seller earnings. Sorted here, in
    exact integers, so no sum past 64 bits can misorder them."""
    def revenue(m: Measures) -> int:
        return sum(weight * getattr(m, name) for name, weight in RANK_WEIGHTS[by].items())

    found = [(key, m) for key, m in found if m]
    found.sort(key=lambda row: (-revenue(row[1]), row[0]))
    return [{**dict(zip(names, key, strict=True)), "revenue": revenue(m),
             "units": m.captured, "gross": m.gross, "refunded": m.refunded,
             "refunds": m.refunds, "net": m.net, "platform_revenue": m.platform_revenue,
             "seller_earnings": m.seller_earnings} for key, m in found[:limit]]


def top_sellers(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
                end: date | None = None, limit: int = 10,
                by: str = RankBy.GROSS) -> dict[str, Any]:
    scope, span = _open(uow, actor, currency, start, end)
    rank = RankBy(by)
    found = uow.analytics.figures("sellers", scope["currency"], span, group=("seller_id",),
                                  top=(RANK_WEIGHTS[rank], limit))
    return {**scope, "by": str(rank), "data": _ranked(found, rank, limit, ("seller_id",))}


def top_items(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
              end: date | None = None, limit: int = 10,
              by: str = RankBy.GROSS) -> dict[str, Any]:
    scope, span = _open(uow, actor, currency, start, end)
    rank = RankBy(by)
    names = ("item_type", "item_id", "seller_id")
    found = uow.analytics.figures("items", scope["currency"], span, group=names,
                                  top=(RANK_WEIGHTS[rank], limit))
    return {**scope, "by": str(rank), "data": _ranked(found, rank, limit, names)}


def methods(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
            end: date | None = None) -> dict[str, Any]:
    """Per payment method and gateway: payments captured (``count``) and what they took
    (``amount``, gross), payments that ended unpaid, refunded money and the success rate;
    largest amount first."""
    scope, span = _open(uow, actor, currency, start, end)
    found = [(key, m) for key, m in uow.analytics.figures(
        "methods", scope["currency"], span, group=("method", "gateway")) if m]
    found.sort(key=lambda row: (-row[1].gross, row[0]))
    return {**scope, "data": [
        {"method": method, "gateway": gateway, "count": m.captured, "amount": m.gross,
         "failed": m.failed, "refunded": m.refunded,
         "success_rate": _rate(m.captured, m.captured + m.failed)}
        for (method, gateway), m in found]}


def _ratio(part: int, whole: int) -> str | None:
    """``part ÷ whole`` to 4 places (null when ``whole`` is 0); may pass 1 (partial
    refunds, or refunds of payments captured before the range)."""
    return _rate(part, whole) if whole > 0 else None


def _refund_figures(m: Measures) -> dict[str, Any]:
    return {"refunds": m.refunds, "refunded": m.refunded, "captured": m.captured,
            "gross": m.gross, "refund_rate_by_count": _ratio(m.refunds, m.captured),
            "refund_rate_by_amount": _ratio(m.refunded, m.gross)}


def _by_refunded(found: list[tuple[tuple[Any, ...], Measures]], limit: int,
                 names: tuple[str, ...]) -> list[dict[str, Any]]:
    found = [(key, m) for key, m in found if m]
    found.sort(key=lambda row: (-row[1].refunded, row[0]))
    return [{**dict(zip(names, key, strict=True)), **_refund_figures(m)}
            for key, m in found[:limit]]


def refunds(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
            end: date | None = None, limit: int = 10) -> dict[str, Any]:
    """Refund rates per seller and per item (the top ``limit`` by money refunded), and in
    all. A rate is refunds (or money refunded) in the range over payments captured (or
    gross) in the range."""
    scope, span = _open(uow, actor, currency, start, end)
    sellers = uow.analytics.figures("sellers", scope["currency"], span, group=("seller_id",))
    names = ("item_type", "item_id", "seller_id")
    items = uow.analytics.figures("items", scope["currency"], span, group=names)
    total = sum((m for _, m in sellers), ZERO)
    return {**scope, **_refund_figures(total),
            "sellers": _by_refunded(sellers, limit, ("seller_id",)),
            "items": _by_refunded(items, limit, names)}


def _coupon_figures(m: Measures) -> dict[str, Any]:
    return {"uses": m.captured, "discount": m.discount, "gross": m.gross,
            "refunded": m.refunded, "net": m.net}


def coupons(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
            end: date | None = None) -> dict[str, Any]:
    """Per coupon (and who funds it): payments captured with it (``uses``), the discount
    they got, and their gross and net; largest discount first; totals per funder."""
    scope, span = _open(uow, actor, currency, start, end)
    found = [(key, m) for key, m in uow.analytics.figures(
        "coupons", scope["currency"], span, group=("coupon_id", "discount_funded_by")) if m]
    found.sort(key=lambda row: (-row[1].discount, row[0]))
    codes = uow.coupons.codes([coupon_id for (coupon_id, _), _ in found])
    funders: dict[str, Measures] = {"platform": ZERO, "seller": ZERO}
    for (_, funder), m in found:
        funders[funder] = funders.get(funder, ZERO) + m
    return {**scope, "data": [
        {"coupon_id": coupon_id, "code": codes.get(coupon_id), "funded_by": funder,
         **_coupon_figures(m)} for (coupon_id, funder), m in found],
        "totals": [{"funded_by": funder, **_coupon_figures(m)}
                   for funder, m in sorted(funders.items())]}


def _customer_figures(m: Measures) -> dict[str, Any]:
    return {"payments": m.captured, "gross": m.gross, "net": m.net}


def customers(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
              end: date | None = None, interval: str = Interval.DAY) -> dict[str, Any]:
    """Per bucket: new customers (first capture in the bucket) and what new and returning
    customers (first capture before the bucket) paid in it; and per cohort (the month of
    the customers' first capture) what its customers paid in the range. Read from the
    cohorts rollup (keyed by first-capture day) and the first captures."""
    scope, span = _open(uow, actor, currency, start, end)
    every = Interval(interval)
    found = uow.analytics.cohort_figures(scope["currency"], span,
                                         by_day=every is not Interval.MONTH)
    firsts = uow.analytics.new_customers(scope["currency"], span)
    new_count: dict[date, int] = {}
    for day, count in firsts:
        key = bucket_start(day, every)
        new_count[key] = new_count.get(key, 0) + count
    new: dict[date, Measures] = {}
    returning: dict[date, Measures] = {}
    per_cohort: dict[date, Measures] = {}
    for (cohort_day, period), m in found:
        key = bucket_start(period, every)
        cohort = bucket_start(cohort_day, every)
        if cohort == key:
            new[key] = new.get(key, ZERO) + m
        elif cohort < key:
            returning[key] = returning.get(key, ZERO) + m
        month = month_start(cohort_day)
        per_cohort[month] = per_cohort.get(month, ZERO) + m
    sizes = uow.analytics.cohort_sizes(scope["currency"], sorted(per_cohort))
    return {**scope, "interval": str(every),
            "new_customers": sum(new_count.values()),
            "data": [{"bucket": b.label, "start": b.start, "end": b.end,
                      "new_customers": new_count.get(b.key, 0),
                      "new": _customer_figures(new.get(b.key, ZERO)),
                      "returning": _customer_figures(returning.get(b.key, ZERO))}
                     for b in buckets(span, every)],
            "cohorts": [{"cohort": month.strftime("%Y-%m"), "customers": sizes.get(month, 0),
                         **_customer_figures(m), "platform_revenue": m.platform_revenue,
                         "seller_earnings": m.seller_earnings}
                        for month, m in sorted(per_cohort.items()) if m]}


# -- a seller's own analytics ----------------------------------------------------------


def _seller(uow: UnitOfWork, actor: Actor, seller_id: str | None) -> str:
    """The seller whose analytics are asked for: a seller key's own (another seller's id
    is a 404); an admin names one (422 without, 404 if there is none)."""
    permissions.check(actor, Action.READ_SELLER_ANALYTICS)
    if seller_id is None:
        if actor.role is not Role.SELLER or actor.id is None:
            raise ValidationFailed("seller_id is required: whose analytics?",
                                   field="seller_id")
        seller_id = actor.id
    permissions.check_object(actor, Action.READ_SELLER_ANALYTICS, {"seller_id": seller_id},
                             f"seller {seller_id}")
    if uow.parties.get("seller", seller_id) is None:
        raise NotFound(f"seller {seller_id} not found")
    return seller_id


def _open_seller(uow: UnitOfWork, actor: Actor, seller_id: str | None, currency: str,
                 start: date | None, end: date | None) -> tuple[dict[str, Any], DateRange]:
    seller = _seller(uow, actor, seller_id)
    scope, span = _open(uow, actor, currency, start, end, seller_id=seller)
    return {**scope, "seller_id": seller}, span


def seller_figures(m: Measures) -> dict[str, Any]:
    """A seller's figures: its payments' (``figures``), with its earnings, the platform's
    commission on them and the average order value named as a seller reads them."""
    values = figures(m)
    renamed = {"earnings": values.pop("seller_earnings"),
               "commission": values.pop("platform_revenue"),
               "average_order_value": values.pop("average_transaction_value")}
    return {**values, **renamed}


def seller_summary(uow: UnitOfWork, actor: Actor, *, currency: str,
                   start: date | None = None, end: date | None = None,
                   seller_id: str | None = None) -> dict[str, Any]:
    """Every figure of one seller's payments over the range."""
    scope, span = _open_seller(uow, actor, seller_id, currency, start, end)
    found = uow.analytics.figures("sellers", scope["currency"], span,
                                  where={"seller_id": scope["seller_id"]})
    return {**scope, **seller_figures(sum((m for _, m in found), ZERO))}


def seller_trend(uow: UnitOfWork, actor: Actor, *, currency: str, start: date | None = None,
                 end: date | None = None, interval: str = Interval.DAY,
                 seller_id: str | None = None) -> dict[str, Any]:
    """One seller's earnings, commission, total (gross) and transactions per bucket."""
    scope, span = _open_seller(uow, actor, seller_id, currency, start, end)
    every = Interval(interval)
    where = {"seller_id": scope["seller_id"]}
    if every is Interval.MONTH:
        found = uow.analytics.figures("sellers", scope["currency"], span, where=where,
                                      by_period=True)
    else:
        found = uow.analytics.figures_by_day("sellers", scope["currency"], span, where=where)
    per_bucket: dict[date, Measures] = {}
    for (period,), m in found:
        key = bucket_start(period, every)
        per_bucket[key] = per_bucket.get(key, ZERO) + m
    return {**scope, "interval": str(every), "data": [
        {"bucket": b.label, "start": b.start, "end": b.end,
         **seller_figures(per_bucket.get(b.key, ZERO))}
        for b in buckets(span, every)]}


def seller_top_items(uow: UnitOfWork, actor: Actor, *, currency: str,
                     start: date | None = None, end: date | None = None, limit: int = 10,
                     by: str = RankBy.GROSS, seller_id: str | None = None) -> dict[str, Any]:
    """One seller's items with the most revenue in the range."""
    scope, span = _open_seller(uow, actor, seller_id, currency, start, end)
    rank = RankBy(by)
    names = ("item_type", "item_id", "seller_id")
    found = uow.analytics.figures("items", scope["currency"], span, group=names,
                                  where={"seller_id": scope["seller_id"]},
                                  top=(RANK_WEIGHTS[rank], limit))
    return {**scope, "by": str(rank), "data": _ranked(found, rank, limit, names)}


def seller_transactions(uow: UnitOfWork, actor: Actor, *, seller_id: str | None = None,
                        status: str | None = None, currency: str | None = None,
                        limit: int = 20, cursor: str | None = None
                        ) -> tuple[str, list[Payment], int]:
    """One seller's payments, newest first, ``limit`` from ``cursor``; and how many match
    the filters in all. (A list of payments, not a figure: read from the payments.)"""
    seller = _seller(uow, actor, seller_id)
    if status is not None and status not in set(PaymentStatus):
        raise ValidationFailed(f"unknown payment status {status!r}", field="status")
    if currency is not None:
        currency = validate_currency(currency)
    filters: dict[str, Any] = {"seller_id": seller, "status": status, "currency": currency}
    rows = uow.payments.list(filters=filters, limit=limit, before_id=cursor)
    return seller, rows, uow.payments.count(filters)


# -- keeping the rollups ---------------------------------------------------------------


class Rebuilt(TypedDict):
    tz: str
    deltas: int  # the deltas the history made, folded afresh


def rebuild_analytics(uow: UnitOfWork, actor: Actor) -> Rebuilt:
    """Rebuild every rollup from the journal entries, payments and disputes, in the
    configured time zone; on PostgreSQL nothing posts meanwhile."""
    permissions.check(actor, Action.REBUILD_ANALYTICS)
    rebuilt = _rebuild(uow)
    uow.records.audit(str(actor), "analytics.rebuilt", "analytics", "rollups", None,
                      dict(rebuilt), uow.now())
    return rebuilt


def _rebuild(uow: UnitOfWork) -> Rebuilt:
    tz = uow.policy.analytics_tz
    uow.analytics.lock_state(exclusive=True)  # folds wait, and then see the new state
    uow.revenue_history.hold_still()
    uow.analytics.clear()
    deltas = uow.analytics.refill(uow.revenue_history.delta_rows(zone(tz), FOLD_BATCH))
    uow.analytics.save_state(tz, uow.now())
    return {"tz": tz, "deltas": deltas}


def prepare_rollups(uow: UnitOfWork) -> Rebuilt | None:
    """The background job's first step: rebuild the rollups if they do not hold the
    history in the configured time zone (or adopt it while they hold nothing yet)."""
    tz = uow.policy.analytics_tz
    state = uow.analytics.state()
    if state["tz"] == tz and not state["rebuild_required"]:
        return None  # the usual case: nothing to lock
    state = uow.analytics.lock_state(exclusive=True)
    if state["rebuild_required"] or state["tz"] not in (None, tz):
        return _rebuild(uow)
    if state["tz"] is None:
        uow.analytics.save_state(tz, None)
    return None


def fold_revenue(uow: UnitOfWork) -> int:
    """Fold a batch of deltas into the rollups (a worker runs this every round); nothing
    while they await a rebuild."""
    state = uow.analytics.lock_state(exclusive=False)
    if state["rebuild_required"] or state["tz"] != uow.policy.analytics_tz:
        return 0
    return uow.analytics.fold()


def revenue_differences(uow: UnitOfWork) -> list[RevenueDifference] | None:
    """Per rollup that every delta goes into, currency and measure, where the rollup plus
    the deltas not yet folded differ from the figure recomputed from postings, entries and
    payments. None while the rollups await their first build over existing history."""
    if uow.analytics.state()["rebuild_required"]:
        return None
    tables = [rollups[(name, grain)] for name in COMPLETE_ROLLUPS for grain in GRAINS]
    found = uow.analytics.compare(tables, uow.revenue_history.expected("expected"))
    expected, pending = found.get("expected", {}), found.get("pending", {})
    differences: list[RevenueDifference] = []
    agreeing = []
    for table, grain in ((rollups[(n, g)], g) for n in COMPLETE_ROLLUPS for g in GRAINS):
        stored = found.get(table.name, {})
        found_here = _differences(table.name, None, expected, stored, pending)
        differences += found_here
        if not found_here:
            agreeing.append((table, grain))
    return differences + _misplaced(uow, agreeing) + _misattributed(uow, agreeing)


def _misattributed(uow: UnitOfWork, agreeing: list[tuple[Table, str]]
                   ) -> list[RevenueDifference]:
    """Rollups by seller, item, method or coupon whose totals agree (the coupons rollup
    always: it holds only payments with a coupon), checked per group over all of history
    against the payments' own columns: a figure counted as another seller's (item's …)."""
    differences: list[RevenueDifference] = []
    for name in GROUPED_ROLLUPS:
        names = ROLLUP_DIMENSIONS[name]
        tables = [t for t in (rollups[(name, g)] for g in GRAINS)
                  if name == "coupons" or any(t is table for table, _ in agreeing)]
        if not tables:
            continue
        found = uow.analytics.compare(tables, uow.revenue_history.expected("expected", names),
                                      group=names)
        # Payments without a coupon are in no coupon's row.
        expected, pending = ({key: m for key, m in found.get(source, {}).items()
                              if name != "coupons" or key[1] is not None}
                             for source in ("expected", "pending"))
        for table in tables:
            stored = found.get(table.name, {})
            for key in sorted(expected.keys() | stored.keys() | pending.keys()):
                have = stored.get(key, ZERO) + pending.get(key, ZERO)
                want = expected.get(key, ZERO)
                differences += [
                    {"rollup": table.name, "currency": key[0], "period": None,
                     "group": dict(zip(names, key[1:], strict=True)), "measure": measure,
                     "stored": getattr(have, measure), "expected": getattr(want, measure)}
                    for measure in MEASURES if getattr(have, measure) != getattr(want, measure)]
    return differences


def _differences(rollup: str, period: date | None, expected: dict[Any, Measures],
                 stored: dict[Any, Measures],
                 pending: dict[Any, Measures]) -> list[RevenueDifference]:
    """Per key (a currency, or a currency and a period) and measure, where ``stored`` plus
    ``pending`` is not ``expected``."""
    differences: list[RevenueDifference] = []
    for key in sorted(expected.keys() | stored.keys() | pending.keys()):
        have = stored.get(key, ZERO) + pending.get(key, ZERO)
        want = expected.get(key, ZERO)
        currency, on = (key, period) if isinstance(key, str) else key
        differences += [
            {"rollup": rollup, "currency": currency, "period": on, "measure": measure,
             "stored": getattr(have, measure), "expected": getattr(want, measure)}
            for measure in MEASURES if getattr(have, measure) != getattr(want, measure)]
    return differences


def _misplaced(uow: UnitOfWork, tables: list[tuple[Table, str]]) -> list[RevenueDifference]:
    """Rollups whose totals agree, checked per local day (month) against the history
    dated in the rollups' zone: a figure moved to another day, or a delta a process
    dated in a stale time zone. Nothing while a rebuild in another zone is due."""
    tz = uow.analytics.state()["tz"] or uow.policy.analytics_tz
    if not tables or tz != uow.policy.analytics_tz:
        return []
    days = uow.revenue_history.expected_by_day(zone(tz), FOLD_BATCH)
    pending = uow.analytics.by_period(revenue_deltas)  # dated by the appending process
    expected = {"day": (days, pending),
                "month": (_by(days, Interval.MONTH), _by(pending, Interval.MONTH)),
                "year": (_by(days, None), _by(pending, None))}
    return [difference for table, grain in tables
            for difference in _differences(table.name, None, expected[grain][0],
                                           uow.analytics.by_period(table), expected[grain][1])]


def _by(days: dict[tuple[str, date], Measures],
        interval: Interval | None) -> dict[tuple[str, date], Measures]:
    """Per currency and month (``interval``), or year (None)."""
    periods: dict[tuple[str, date], Measures] = {}
    for (currency, day), m in days.items():
        start = bucket_start(day, interval) if interval else day.replace(month=1, day=1)
        periods[(currency, start)] = periods.get((currency, start), ZERO) + m
    return periods
