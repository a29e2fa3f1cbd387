"""The commands run here keep their payout key next to the test's files: on PostgreSQL
paytrack would otherwise make one in the current folder (the demo sets payout accounts)."""

import pytest


@pytest.fixture(autouse=True)
def _payout_key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYTRACK_PAYOUT_KEY_FILE", str(tmp_path / "paytrack-payout.key"))
