"""The simulator's typed records name exactly their tables' columns (as
``test_records_match_tables`` checks for paytrack's own)."""

from __future__ import annotations

import pytest
from sqlalchemy import Table

from paytrack.adapters.gateways.simulator_store import (
    SimulatorCheckout,
    SimulatorRequest,
    SimulatorWebhook,
)
from paytrack.adapters.storage import tables


def keys(record: type) -> set[str]:
    return set(record.__required_keys__ | record.__optional_keys__)


@pytest.mark.parametrize(("table", "record"), [
    (tables.simulator_checkouts, SimulatorCheckout),
    (tables.simulator_requests, SimulatorRequest),
    (tables.simulator_webhooks, SimulatorWebhook),
], ids=lambda v: getattr(v, "name", None) or getattr(v, "__name__", None))
def test_each_simulator_record_has_a_field_for_each_column_of_its_table(table: Table,
                                                                         record: type) -> None:
    assert keys(record) == set(table.c.keys())
