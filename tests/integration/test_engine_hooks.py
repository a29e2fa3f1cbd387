"""paytrack watches the statements on the engines it makes, and on no other engine."""

import pytest
from sqlalchemy import create_engine, text

from paytrack.adapters.storage.db import is_paytrack_engine, watch_statements
from paytrack.adapters.storage.uow import Storage


def test_statements_on_a_paytrack_engine_go_past_its_watcher(engine):
    seen = []
    with engine.connect() as conn:
        watch_statements(conn, seen.append)
        conn.execute(text("SELECT 1"))
    assert [str(statement) for statement in seen] == ["SELECT 1"]


def test_an_unrelated_engine_in_the_same_process_gets_no_paytrack_hook(engine):
    assert is_paytrack_engine(engine)
    other = create_engine("sqlite://")
    try:
        assert not is_paytrack_engine(other)
        assert len(other.dispatch.before_execute) == 0  # no listener of anyone's
        seen = []
        with other.connect() as conn:
            watch_statements(conn, seen.append)
            conn.execute(text("SELECT 1"))
        assert seen == []
    finally:
        other.dispose()


def test_storage_refuses_an_engine_paytrack_did_not_make():
    # Its units of work would neither flush before reads nor begin before writes.
    other = create_engine("sqlite://")
    try:
        with pytest.raises(AssertionError, match="make_engine"):
            Storage(other)
    finally:
        other.dispose()
