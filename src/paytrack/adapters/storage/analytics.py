"""Revenue analytics in the database: deltas appended with the money, rollups folded from
them in batches, and reads that add the two.

- **Append.** ``append`` buffers one ``revenue_deltas`` row in the appender, written with
  the entry's own rows: no extra round trip, and no hot row updated by every capture.
- **Fold.** ``fold`` claims a batch of deltas (``DELETE … RETURNING``; on PostgreSQL the
  oldest rows no other fold holds, ``FOR UPDATE SKIP LOCKED``), adds them up in Python and
  upserts each rollup (``ON CONFLICT DO UPDATE SET x = x + excluded.x``) in sorted key
  order, so two folds never deadlock, all in the caller's transaction: a crash folds all of
  a batch or none of it. A cell never passes ``MAX_BALANCE_MINOR``: what would take it
  past goes to the key's next ``part`` row.
- **Read.** ``figures`` adds, in one statement (one snapshot), the month rows of the whole
  months in a range, the day rows of its edge days and the deltas not yet folded, so a
  figure is right the moment the payment commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import (
    exact_sum,
    exact_sum_parts,
    is_postgres,
    labeled_sum,
    read_sum,
    record,
)
from paytrack.adapters.storage.tables import (
    GRAINS,
    ROLLUP_DIMENSIONS,
    analytics_state,
    customer_firsts,
    revenue_deltas,
    rollups,
)
from paytrack.domain.analytics import (
    MEASURES,
    AnalyticsState,
    Measures,
    RevenueTags,
    measures_of,
)
from paytrack.domain.ledger import JournalEntry
from paytrack.domain.limits import MAX_BALANCE_MINOR
from paytrack.domain.periods import DateRange, local_day, month_end, month_start

DeltaRow = dict[str, Any]  # a revenue_deltas row without its id
Key = tuple[Any, ...]
Top = tuple[Mapping[str, int], int]  # a top list: weights of the measures it ranks by, size
FOLD_BATCH = 5000  # deltas per fold: each adds at most ~2 × 10^14, so a batch stays < 10^18
HELD_CELLS = 100_000  # day cells a rebuild adds up before writing them (~70 MB)
HELD_PERIOD_CELLS = 400_000  # month and year cells held at most (~280 MB)
ROWS_PER_UPSERT = 500  # ~21 values a row: well inside both drivers' parameter limits
# Rollups every delta is folded into (``coupons`` and ``cohorts`` take only some).
COMPLETE_ROLLUPS = ("totals", "sellers", "items", "methods")
NO_STATE: AnalyticsState = {"id": 1, "tz": None, "rebuild_required": False, "built_at": None}


class AnalyticsRepository:
    def __init__(self, conn: Connection, appender: Appender, tz: ZoneInfo) -> None:
        self.conn = conn
        self.appender = appender
        self.tz = tz  # the day a delta falls on (PAYTRACK_ANALYTICS_TZ)

    # -- appending ---------------------------------------------------------------------

    def append(self, tags: RevenueTags, at: datetime, measures: Measures) -> None:
        """Buffer a delta for what happened at ``at``, written with the unit of work's
        other rows."""
        self.appender.add(revenue_deltas, delta_row(tags, local_day(at, self.tz), measures))

    def append_entry(self, entry: JournalEntry, at: datetime) -> None:
        """An entry's delta (the ledger calls this as it posts the entry)."""
        assert entry.about is not None
        self.append(entry.about, at, measures_of(entry))

    # -- the rollups' state --------------------------------------------------------------

    def state(self) -> AnalyticsState:
        row = self.conn.execute(select(analytics_state)).first()
        return NO_STATE if row is None else record(row, AnalyticsState)

    def lock_state(self, *, exclusive: bool) -> AnalyticsState:
        """The state, locked until the transaction ends: shared by folds, exclusive for a
        rebuild, so a fold never adds to rollups a rebuild is rewriting."""
        self.conn.execute(_insert(self.conn, analytics_state).values(NO_STATE)
                          .on_conflict_do_nothing())
        row = self.conn.execute(select(analytics_state)
                                .with_for_update(read=not exclusive)).one()
        return record(row, AnalyticsState)

    def save_state(self, tz: str, built_at: datetime | None) -> None:
        values: dict[str, Any] = {"tz": tz, "rebuild_required": False}
        if built_at is not None:
            values["built_at"] = built_at
        self.conn.execute(analytics_state.update().where(analytics_state.c.id == 1)
                          .values(**values))

    # -- folding -------------------------------------------------------------------------

    def fold(self, limit: int = FOLD_BATCH) -> int:
        """Fold up to ``limit`` of the oldest deltas no other fold holds; how many."""
        assert limit <= FOLD_BATCH, "a batch's sums must stay well inside 64 bits"
        oldest = select(revenue_deltas.c.id).order_by(revenue_deltas.c.id).limit(limit)
        if is_postgres(self.conn):
            oldest = oldest.with_for_update(skip_locked=True)
        columns = [c for c in revenue_deltas.c if c.name != "id"]
        rows = [dict(r._mapping) for r in self.conn.execute(
            delete(revenue_deltas).where(revenue_deltas.c.id.in_(oldest.scalar_subquery()))
            .returning(*columns))]
        self.add_to_rollups(rows)
        return len(rows)

    def add_to_rollups(self, rows: Sequence[DeltaRow]) -> None:
        """Add delta rows (a fold's; at most ``FOLD_BATCH``) to the customers' first
        captures and to every rollup, in a fixed order of tables and keys."""
        for table, cells in self._cells(rows).items():
            _upsert(self.conn, table, cells)

    def refill(self, batches: Iterable[Sequence[DeltaRow]]) -> int:
        """Add every batch of a rebuild's deltas (at most ``FOLD_BATCH`` each) to the
        emptied rollups; how many deltas. Cells are added up in memory across batches:
        day cells are written whenever ``HELD_CELLS`` of them are held, month and year
        cells (far fewer) at the end, so each month's and year's row is written once, not
        once a batch (on PostgreSQL every update of a row leaves a dead version behind:
        a million payments' rebuild crawled, and the year rows it left were 30 times
        their size until vacuumed). A held cell that would pass ``MAX_BALANCE_MINOR`` is
        written first and starts again."""
        held: dict[Table, dict[Key, list[int]]] = {}
        days = periods = deltas = 0
        for rows in batches:
            deltas += len(rows)
            for table, cells in self._cells(rows).items():
                into = held.setdefault(table, {})
                by_day = "day" in table.c
                for key, cell in cells.items():
                    was = into.get(key)
                    if was is None:
                        into[key] = cell
                        days, periods = (days + 1, periods) if by_day else (days, periods + 1)
                        continue
                    total = [a + b for a, b in zip(was, cell, strict=True)]
                    if any(abs(v) > MAX_BALANCE_MINOR for v in total):
                        _upsert(self.conn, table, {key: was})
                        total = cell
                    into[key] = total
            if days >= HELD_CELLS:
                self._write({t: c for t, c in held.items() if "day" in t.c})
                held, days = {t: c for t, c in held.items() if "day" not in t.c}, 0
            if periods >= HELD_PERIOD_CELLS:  # years of many items: memory first
                self._write(held)
                held, days, periods = {}, 0, 0
        self._write(held)
        return deltas

    def _write(self, held: Mapping[Table, dict[Key, list[int]]]) -> None:
        for table in sorted(held, key=lambda t: t.name):
            _upsert(self.conn, table, held[table])

    def _cells(self, rows: Sequence[DeltaRow]) -> dict[Table, dict[Key, list[int]]]:
        """Each rollup's cells for ``rows``, tables in a fixed order, after noting the
        customers' first captures among them (a cohort is the first capture's day)."""
        if not rows:
            return {}
        cohorts = self._note_first_captures(rows)
        tables: dict[Table, dict[Key, list[int]]] = {}
        for (name, grain), table in sorted(rollups.items()):
            cells: dict[Key, list[int]] = {}
            for row in rows:
                key = _key(row, name, grain, cohorts)
                if key is None:
                    continue
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = [0] * len(MEASURES)
                for i, measure in enumerate(MEASURES):
                    cell[i] += row[measure]
            if cells:
                tables[table] = cells
        return tables

    def _note_first_captures(self, rows: Sequence[DeltaRow]) -> dict[tuple[str, str], date]:
        """Record each customer's earliest capture among ``rows``, then return the first
        capture of every customer in them that has one (its cohort)."""
        firsts: dict[tuple[str, str], date] = {}
        for row in rows:
            if row["captured"] > 0:
                key = (row["customer_id"], row["currency"])
                firsts[key] = min(firsts.get(key, row["day"]), row["day"])
        c = customer_firsts.c
        insert = _insert(self.conn, customer_firsts)
        earlier = insert.excluded.first_day < c.first_day
        upsert = insert.on_conflict_do_update(
            index_elements=[c.customer_id, c.currency],
            set_={"first_day": insert.excluded.first_day}, where=earlier)
        earliest = sorted(firsts.items())
        for start in range(0, len(earliest), ROWS_PER_UPSERT):  # rows as parameters
            self.conn.execute(upsert, [{"customer_id": k[0], "currency": k[1], "first_day": d}
                                       for k, d in earliest[start:start + ROWS_PER_UPSERT]])
        keys = {(row["customer_id"], row["currency"]) for row in rows}
        wanted = sorted(keys)
        known: dict[tuple[str, str], date] = {}
        for start in range(0, len(wanted), ROWS_PER_UPSERT):
            chunk = wanted[start:start + ROWS_PER_UPSERT]
            # By customer (the key's first column): SQLite scanned the whole table for a
            # row-value IN list; a customer's other currencies are dropped here.
            found = self.conn.execute(
                select(c.customer_id, c.currency, c.first_day)
                .where(c.customer_id.in_(sorted({k[0] for k in chunk}))))
            known.update({(r.customer_id, r.currency): r.first_day for r in found})
        return {key: day for key, day in known.items() if key in keys}

    def clear(self) -> None:
        """Empty every rollup, the first captures and the deltas (a rebuild refills them)."""
        for table in (revenue_deltas, customer_firsts, *rollups.values()):
            self.conn.execute(delete(table))

    # -- reading -------------------------------------------------------------------------

    def currencies(self) -> list[tuple[str, int]]:
        """Every currency with revenue, and its gross over all time (the year rows and
        the deltas not yet folded: a few rows per currency and year)."""
        years = rollups[("totals", "year")]
        parts = union_all(select(years.c.currency, years.c.gross),
                          select(revenue_deltas.c.currency, revenue_deltas.c.gross)).subquery()
        rows = self.conn.execute(select(parts.c.currency, *labeled_sum(
            self.conn, parts.c.gross, "gross")).group_by(parts.c.currency))
        return [(row.currency, read_sum(row._mapping, "gross")) for row in rows]

    def figures(self, rollup: str, currency: str, span: DateRange, *,
                group: Sequence[str] = (), where: Mapping[str, str] | None = None,
                by_period: bool = False, top: Top | None = None
                ) -> list[tuple[Key, Measures]]:
        """Σ every measure per ``group`` (columns of the rollup) over the range, filtered
        by ``where``: year rows of its whole years, month rows of the whole months outside
        them, day rows of the rest, and the deltas not yet folded, in one statement. With
        ``by_period``, per period as well (the key's last item: a day, or a month's first
        day; whole years read as months): exact per day only where the range is read by
        day (``figures_by_day``). With ``top`` (weights of the measures a group is ranked
        by, and how many), only the groups a top list shows, ranked."""
        assert rollup in COMPLETE_ROLLUPS or rollup == "coupons", "cohorts: by customer"
        where = dict(where or {})
        sources: list[tuple[Table, str, list[ColumnElement[bool]]]] = []
        pieces = span.pieces()
        if by_period:  # a year is read as its months (a trend's month buckets)
            pieces = [("month", first, last.replace(month=12)) if grain == "year"
                      else (grain, first, last) for grain, first, last in pieces]
        for grain in GRAINS:
            table = rollups[(rollup, grain)]
            spans = [_between(table.c[grain], first, last)
                     for piece_grain, first, last in pieces if piece_grain == grain]
            if spans:
                sources.append((table, grain, [or_(*spans)]))
        deltas = [_between(revenue_deltas.c.day, span.start, span.end)]
        if rollup == "coupons":
            deltas.append(revenue_deltas.c.coupon_id.is_not(None))
        sources.append((revenue_deltas, "day", deltas))
        if top is not None:
            return self._top(sources, currency, group, where, top)
        return self._sum([_part(table, period, currency, group, where, conditions)
                          for table, period, conditions in sources], group, by_period)

    def _top(self, sources: list[tuple[Table, str, list[ColumnElement[bool]]]],
             currency: str, group: Sequence[str], where: Mapping[str, str],
             top: Top) -> list[tuple[Key, Measures]]:
        """The groups a top list shows, ranked (largest first, ties by key): every group
        summed on the figure it ranks by alone, ranked here in exact integers, then the
        shown ones summed in full (a top list of thousands of groups: 4 times faster)."""
        weights, limit = top
        names = tuple(weights)
        union = union_all(*(_part(table, period, currency, group, where, conditions, names)
                            for table, period, conditions in sources)).subquery()
        keys = [union.c[name] for name in group]
        sums = [part for m in names for part in exact_sum_parts(self.conn, union.c[m])]
        n, width = len(keys), len(sums) // len(names)

        def rank(row: Any) -> tuple[int, Key]:
            return (-sum(w * exact_sum(row[n + i * width:n + (i + 1) * width])
                         for i, w in enumerate(weights.values())), tuple(row[:n]))

        ranked = [tuple(row[:n]) for row in sorted(
            self.conn.execute(select(*keys, *sums).group_by(*keys)), key=rank)]
        found: list[tuple[Key, Measures]] = []
        while ranked and len(found) < limit:  # more if a shown group added up to all 0
            shown, ranked = ranked[:limit - len(found)], ranked[limit - len(found):]
            full = dict(self._sum([
                _part(table, period, currency, group, where,
                      [*conditions, or_(*(and_(*(table.c[g] == v for g, v in
                                                 zip(group, key, strict=True)))
                                          for key in shown))])
                for table, period, conditions in sources], group, False))
            found += [(key, full[key]) for key in shown if full.get(key)]
        return found

    def figures_by_day(self, rollup: str, currency: str, span: DateRange, *,
                       where: Mapping[str, str] | None = None) -> list[tuple[Key, Measures]]:
        """Σ every measure per day of the range: day rows and deltas."""
        where = dict(where or {})
        day_table = rollups[(rollup, "day")]
        parts = [_part(day_table, "day", currency, (), where,
                       [_between(day_table.c.day, span.start, span.end)]),
                 _part(revenue_deltas, "day", currency, (), where,
                       [_between(revenue_deltas.c.day, span.start, span.end)])]
        return self._sum(parts, (), by_period=True)

    def cohort_figures(self, currency: str, span: DateRange, *,
                       by_day: bool) -> list[tuple[Key, Measures]]:
        """Σ every measure per (cohort day, period) over the range: the figures of
        customers by the local day of their first capture. ``by_day``: day rows for every
        day (exact per day); else month rows of whole months and day rows of edge days.
        A pending delta's cohort is its customer's first capture, folded or pending (none
        before it)."""
        cohorts: Sequence[str] = ("cohort_day",)
        parts = []
        months = None if by_day else span.whole_months()
        if months is not None:
            month_table = rollups[("cohorts", "month")]
            parts.append(_part(month_table, "month", currency, cohorts, {},
                               [_between(month_table.c.month, *months)]))
        day_table = rollups[("cohorts", "day")]
        edges = [span] if months is None else span.edge_days()
        if edges:
            parts.append(_part(day_table, "day", currency, cohorts, {},
                               [or_(*(_between(day_table.c.day, e.start, e.end)
                                      for e in edges))]))
        firsts = self._firsts(currency).subquery()
        d = revenue_deltas.c
        # As the fold keys them (``_key``): a delta dated before its customer's first
        # capture (a late confirmation's -1 for its cancel) is in no cohort.
        parts.append(select(firsts.c.first_day.label("cohort_day"), d.day.label("period"),
                            *(d[m] for m in MEASURES))
                     .join(firsts, and_(firsts.c.customer_id == d.customer_id,
                                        firsts.c.first_day <= d.day))
                     .where(d.currency == currency, _between(d.day, span.start, span.end)))
        return self._sum(parts, cohorts, by_period=True)

    def _pending_firsts(self, currency: str) -> Any:
        """Each customer's earliest capture among the deltas not yet folded."""
        d = revenue_deltas.c
        return (select(d.customer_id, func.min(d.day).label("first_day"))
                .where(d.currency == currency, d.captured > 0).group_by(d.customer_id))

    def _firsts(self, currency: str) -> Any:
        """The first capture of every customer with a pending delta: the earlier of its
        folded first capture and its pending ones."""
        c, d = customer_firsts.c, revenue_deltas.c
        pending_customers = select(d.customer_id).where(d.currency == currency)
        known = select(c.customer_id, c.first_day).where(
            c.currency == currency, c.customer_id.in_(pending_customers))
        both = union_all(known, self._pending_firsts(currency)).subquery()
        return (select(both.c.customer_id, func.min(both.c.first_day).label("first_day"))
                .group_by(both.c.customer_id))

    def new_customers(self, currency: str, span: DateRange) -> list[tuple[date, int]]:
        """Per local day of the range, the customers whose first capture in ``currency``
        fell on it (each customer counts once, ever: these add up over any range)."""
        c = customer_firsts.c
        known = select(c.customer_id, c.first_day).where(
            c.currency == currency, _between(c.first_day, span.start, span.end))
        pending = self._pending_firsts(currency).subquery()
        earlier = select(c.customer_id).where(
            c.customer_id == pending.c.customer_id, c.currency == currency,
            c.first_day <= pending.c.first_day).exists()
        both = union_all(known, select(pending.c.customer_id, pending.c.first_day)
                         .where(~earlier)).subquery()
        firsts = (select(both.c.customer_id, func.min(both.c.first_day).label("first_day"))
                  .group_by(both.c.customer_id).subquery())
        rows = self.conn.execute(
            select(firsts.c.first_day, func.count())
            .where(_between(firsts.c.first_day, span.start, span.end))
            .group_by(firsts.c.first_day))
        return [(r[0], int(r[1])) for r in rows]

    def cohort_sizes(self, currency: str, months: Sequence[date]) -> dict[date, int]:
        """Per month (its first day), the customers whose first capture fell in it."""
        if not months:
            return {}
        span = DateRange(min(months), month_end(max(months)))
        found: dict[date, int] = {}
        for day, count in self.new_customers(currency, span):
            found[month_start(day)] = found.get(month_start(day), 0) + count
        return found

    def _sum(self, parts: list[Any], group: Sequence[str],
             by_period: bool) -> list[tuple[Key, Measures]]:
        union = union_all(*parts).subquery()
        keys = [union.c[name] for name in group] + ([union.c.period] if by_period else [])
        sums = [part for m in MEASURES for part in exact_sum_parts(self.conn, union.c[m])]
        query = select(*keys, *sums)
        if keys:
            query = query.group_by(*keys)
        # By position: a top list reads thousands of groups, and looking up each sum's
        # part by name cost more than the query.
        n, width = len(keys), len(sums) // len(MEASURES)
        return [(tuple(row[:n]), Measures(*(exact_sum(row[i:i + width])
                                             for i in range(n, len(row), width))))
                for row in self.conn.execute(query)]

    def compare(self, tables: Sequence[Table], expected: Sequence[Select[Any]],
                group: Sequence[str] = ()) -> dict[str, dict[Any, Measures]]:
        """Per source and currency (with ``group``: per currency and those columns, a
        tuple), Σ every measure of each table (by its name), of the deltas not yet folded
        (``pending``) and of ``expected`` (rows labelled with their own source), in one
        statement: one snapshot, so nothing that commits meanwhile (a capture, a fold) can
        count on one side only."""
        parts = [select(literal(name, String).label("source"), t.c.currency,
                        *(t.c[g] for g in group), *(t.c[m] for m in MEASURES))
                 for name, t in [*((t.name, t) for t in tables), ("pending", revenue_deltas)]]
        union = union_all(*parts, *expected).subquery()
        keys = [union.c.currency, *(union.c[g] for g in group)]
        sums = [part for m in MEASURES for part in labeled_sum(self.conn, union.c[m], m)]
        found: dict[str, dict[Any, Measures]] = {}
        for r in self.conn.execute(select(union.c.source, *keys, *sums)
                                   .group_by(union.c.source, *keys)):
            key = tuple(r[1:len(keys) + 1]) if group else r.currency
            found.setdefault(r.source, {})[key] = Measures.of(
                {m: read_sum(r._mapping, m) for m in MEASURES})
        return found

    def by_period(self, table: Table) -> dict[tuple[str, date], Measures]:
        """Per currency and period (day, month or year), Σ every measure of a rollup table
        (or of the pending deltas, by day)."""
        period = next(table.c[grain] for grain in GRAINS if grain in table.c)
        sums = [part for m in MEASURES for part in labeled_sum(self.conn, table.c[m], m)]
        rows = self.conn.execute(select(table.c.currency, period.label("period"), *sums)
                                 .group_by(table.c.currency, period))
        return {(r.currency, r.period): Measures.of({m: read_sum(r._mapping, m)
                                                     for m in MEASURES}) for r in rows}

    def totals(self, table: Table) -> dict[str, Measures]:
        """Per currency, Σ every measure of a rollup table (or of the pending deltas)."""
        sums = [part for m in MEASURES for part in labeled_sum(self.conn, table.c[m], m)]
        rows = self.conn.execute(select(table.c.currency, *sums).group_by(table.c.currency))
        return {r.currency: Measures.of({m: read_sum(r._mapping, m) for m in MEASURES})
                for r in rows}


def delta_row(tags: RevenueTags, day: date, measures: Measures) -> DeltaRow:
    return {"day": day, **tags.dimensions(), **measures.as_dict()}


def _key(row: DeltaRow, name: str, grain: str,
         cohorts: Mapping[tuple[str, str], date]) -> Key | None:
    period = {"day": row["day"], "month": month_start(row["day"]),
              "year": row["day"].replace(month=1, day=1)}[grain]
    if name == "cohorts":
        # Before its first capture a customer is in no cohort, whenever the delta is
        # folded (a late confirmation's -1 for its cancel would otherwise count alone).
        first = cohorts.get((row["customer_id"], row["currency"]))
        if first is None or first > row["day"]:
            return None
        return (row["currency"], period, first)
    if name == "coupons" and row["coupon_id"] is None:
        return None
    return (row["currency"], period, *(row[d] for d in ROLLUP_DIMENSIONS[name]))


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql if is_postgres(conn) else sqlite).insert(table)


def _upsert(conn: Connection, table: Table, cells: dict[Key, list[int]]) -> None:
    """Add ``cells`` (keyed by the primary key but ``part``) to ``table``'s rows, keys in
    sorted order (every fold locks rows in the same order). A row a cell would take past
    the limit is left alone, and the cell goes to the key's next part. One statement per
    table, its rows sent as parameters: SQLAlchemy compiles it once and batches the rows
    into multi-row VALUES itself (a statement with the rows inlined took ~1 s to compile
    per 500 rows)."""
    names = [c.name for c in table.primary_key.columns if c.name != "part"]
    assert all(abs(v) <= MAX_BALANCE_MINOR for cell in cells.values() for v in cell), \
        "a batch adds at most FOLD_BATCH deltas of bounded amounts"
    if is_postgres(conn):
        return _upsert_postgres(conn, table, cells, names)
    insert = _insert(conn, table)
    added = {m: table.c[m] + insert.excluded[m] for m in MEASURES}
    fits = and_(*(added[m].between(-MAX_BALANCE_MINOR, MAX_BALANCE_MINOR) for m in MEASURES))
    upsert = (insert.on_conflict_do_update(index_elements=[*names, "part"], set_=added,
                                           where=fits)
              .returning(*(table.c[n] for n in names)))
    waiting = sorted(cells.items())
    part = 0
    while waiting:
        refused = []
        for start in range(0, len(waiting), ROWS_PER_UPSERT):
            chunk = waiting[start:start + ROWS_PER_UPSERT]
            done = {tuple(r) for r in conn.execute(upsert, [
                {**dict(zip(names, key, strict=True)), "part": part,
                 **dict(zip(MEASURES, cell, strict=True))} for key, cell in chunk])}
            refused += [(key, cell) for key, cell in chunk if key not in done]
        waiting, part = refused, part + 1


def _upsert_postgres(conn: Connection, table: Table, cells: dict[Key, list[int]],
                     names: list[str]) -> None:
    """``_upsert`` on PostgreSQL: each column's values sent as one array and the rows
    made by ``unnest`` (in order), so a statement is short whatever the rows: with
    multi-row VALUES, psycopg parsed every long statement anew (40% of a rebuild's time)."""
    columns = [*names, "part", *MEASURES]
    quote = conn.dialect.identifier_preparer.quote
    types = [table.c[c].type.compile(dialect=conn.dialect) for c in columns]
    listed = ", ".join(quote(c) for c in columns)
    arrays = ", ".join(f"CAST(:c{i} AS {t}[])" for i, t in enumerate(types))
    values = ", ".join(f"u.c{i}" for i in range(len(columns)))
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    added = ", ".join(f"{quote(m)} = t.{quote(m)} + excluded.{quote(m)}" for m in MEASURES)
    fits = " AND ".join(f"t.{quote(m)} + excluded.{quote(m)} BETWEEN {-MAX_BALANCE_MINOR} "
                        f"AND {MAX_BALANCE_MINOR}" for m in MEASURES)
    upsert = text(
        f"INSERT INTO {quote(table.name)} AS t ({listed}) "
        f"SELECT {values} FROM unnest({arrays}) WITH ORDINALITY AS u({aliases}, ord) "
        f"ORDER BY u.ord "
        f"ON CONFLICT ({', '.join(quote(c) for c in (*names, 'part'))}) DO UPDATE SET {added} "
        f"WHERE {fits} RETURNING {', '.join(f't.{quote(n)}' for n in names)}")
    waiting = sorted(cells.items())
    part = 0
    while waiting:
        refused = []
        for start in range(0, len(waiting), FOLD_BATCH):
            chunk = waiting[start:start + FOLD_BATCH]
            rows = [(*key, part, *cell) for key, cell in chunk]
            done = {tuple(r) for r in conn.execute(upsert, {
                f"c{i}": [row[i] for row in rows] for i in range(len(columns))})}
            refused += [(key, cell) for key, cell in chunk if key not in done]
        waiting, part = refused, part + 1


def _between(column: ColumnElement, start: date, end: date) -> ColumnElement[bool]:
    return column.between(start, end)


def _part(table: Table, period: str, currency: str, group: Sequence[str],
          where: Mapping[str, str], conditions: list[ColumnElement[bool]],
          measures: Sequence[str] = MEASURES) -> Any:
    """One source of ``figures``: its group columns, its period and its measures."""
    filters = [table.c.currency == currency, *conditions,
               *(table.c[name] == value for name, value in where.items())]
    return (select(*(table.c[name] for name in group), table.c[period].label("period"),
                   *(table.c[m] for m in measures))
            .where(*filters))
