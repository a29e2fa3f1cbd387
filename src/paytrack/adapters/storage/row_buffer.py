"""Rows a unit of work has added but not yet written, and the conditions for writing them.

Status events, audit records, journal entries, postings, balance deltas, new payments and
refunds are only ever inserted, so a unit of work can hold them back and write them all at
once (see ``appender.py``). ``take`` hands them over table by table in foreign-key order
(parents first), the same order every time, so the statements built from them are too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from paytrack.adapters.storage.tables import metadata

Row = dict[str, Any]
Batches = list[tuple[Table, list[Row]]]  # one per table, parents before children

_ORDER = {table: i for i, table in enumerate(metadata.sorted_tables)}


class RowBuffer:
    def __init__(self) -> None:
        self._rows: dict[Table, list[Row]] = {}
        self._guards: list[Row] = []

    def __bool__(self) -> bool:
        """Whether any row waits to be written."""
        return bool(self._rows)

    def add(self, table: Table, row: Row) -> None:
        rows = self._rows.setdefault(table, [])
        assert not rows or rows[0].keys() == row.keys(), f"{table.name} rows differ in columns"
        rows.append(row)

    def guard(self, condition: Row) -> None:
        """Write none of the rows unless ``condition`` still holds when they are written
        (a cached read that must still be true; see ``flush_postgres._GUARD``)."""
        self._guards.append(condition)

    @property
    def guarded(self) -> bool:
        return bool(self._guards)

    def take(self) -> tuple[Batches, list[Row]]:
        """Everything waiting, and its guards; the buffer is empty afterwards."""
        rows, self._rows = self._rows, {}
        guards, self._guards = self._guards, []
        return sorted(rows.items(), key=lambda batch: _ORDER[batch[0]]), guards
