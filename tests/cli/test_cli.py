"""The ``paytrack`` command, run as a user would, against the test database."""

import re

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from paytrack.adapters.storage.tables import accounts
from paytrack.entrypoints.cli import app

runner = CliRunner()


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("PAYTRACK_DATABASE_URL", database_url)

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def test_migrate(cli):
    result = cli("migrate")
    assert result.exit_code == 0 and "up to date" in result.output


def test_keys_create_prints_the_key_alone_on_the_last_line(cli):
    result = cli("keys", "create", "--role", "seller", "--seller-id", "inst_1", "--yes")
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("ptk_") and " " not in token
    listed = cli("keys", "list")
    assert token.split("_")[1] in listed.output and "inst_1" in listed.output
    assert token not in listed.output


def test_keys_create_refuses_a_seller_key_without_a_seller(cli):
    result = cli("keys", "create", "--role", "seller")
    assert result.exit_code == 2


@pytest.mark.parametrize(("role", "option"), [("seller", "--seller-id"),
                                              ("customer", "--customer-id")])
def test_keys_create_for_a_party_paytrack_has_never_seen_says_so(cli, storage, role, option):
    refused = cli("keys", "create", "--role", role, option, "nobody_1")
    assert refused.exit_code != 0
    assert "nobody_1" in refused.output and "--yes" in refused.output
    assert "ptk_" not in refused.output
    assert "nobody_1" not in cli("keys", "list").output
    created = cli("keys", "create", "--role", role, option, "nobody_1", "--yes")
    assert created.exit_code == 0, created.output
    assert f"new {role} nobody_1 created" in created.output
    with storage.unit_of_work(readonly=True) as uow:
        assert uow.parties.get(role, "nobody_1") is not None


def test_keys_create_for_a_known_seller_needs_no_confirmation(cli, storage):
    from paytrack.services.parties import upsert_party
    from tests.integration.conftest import ADMIN

    with storage.unit_of_work() as uow:
        upsert_party(uow, "seller", "known_1", ADMIN, name="Grace")
        uow.commit()
    result = cli("keys", "create", "--role", "seller", "--seller-id", "known_1")
    assert result.exit_code == 0, result.output
    assert "new seller" not in result.output


def test_keys_revoke(cli, storage):
    token = cli("keys", "create", "--role", "admin").output.strip().splitlines()[-1]
    prefix = token.split("_")[1]
    assert cli("keys", "revoke", prefix).exit_code == 0
    from paytrack.domain.errors import Unauthenticated
    from paytrack.services.keys import authenticate

    with storage.unit_of_work() as uow, pytest.raises(Unauthenticated):
        authenticate(uow, token)
    assert cli("keys", "revoke", "nope").exit_code == 2


def test_demo_loads_a_ledger_that_verifies_and_prints_an_admin_key(cli, storage):
    result = cli("demo", "--payments", "120")
    assert result.exit_code == 0, result.output
    assert "loaded 120 payments" in result.output and "/docs" in result.output
    assert re.search(r"payouts: \d+ paid, .*; disputes: \d+ won, .*earnings released",
                     result.output)
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("ptk_")
    verify = cli("ledger", "verify")
    assert verify.exit_code == 0 and "verified" in verify.output
    with storage.unit_of_work(readonly=True) as uow:
        currencies = {r["currency"] for r in uow.ledger.trial_balance()}
    assert len(currencies) >= 3
    again = cli("demo", "--payments", "120")
    assert "already has payments" in again.output


def test_ledger_verify_fails_on_a_corrupted_balance_and_rebuild_repairs_it(cli, storage):
    cli("demo", "--payments", "30")
    with storage.engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.code == "platform:revenue")
                     .values(balance=accounts.c.balance + 7))
    failed = cli("ledger", "verify")
    assert failed.exit_code == 1 and "platform:revenue" in failed.output
    repaired = cli("ledger", "rebuild")
    assert repaired.exit_code == 0 and "platform:revenue" in repaired.output
    assert cli("ledger", "verify").exit_code == 0


def test_worker_once_folds_balance_deltas(cli):
    cli("demo", "--payments", "20")
    result = cli("worker", "--once")
    assert result.exit_code == 0 and "folded" in result.output
    assert cli("ledger", "verify").exit_code == 0


def test_payout_keys_rotate_reencrypts_with_the_newest_key(cli, storage, monkeypatch):
    from cryptography.fernet import Fernet

    from paytrack.adapters.secrets import PayoutKeyring
    from paytrack.adapters.storage.tables import payout_accounts
    from paytrack.adapters.storage.uow import Storage
    from paytrack.services import parties
    from paytrack.services.payouts import set_payout_account
    from tests.integration.conftest import ADMIN, committed

    def new_key() -> str:
        result = cli("payout-keys", "new")
        assert result.exit_code == 0
        return re.findall(r"[A-Za-z0-9_-]{43}=", result.output)[-1]

    old, new = new_key(), new_key()
    assert Fernet(old) and old != new
    with_old = Storage(storage.engine, payout_keys=PayoutKeyring.of(old))
    committed(with_old, parties.upsert_party, "seller", "s1", ADMIN)
    committed(with_old, set_payout_account, "s1", ADMIN, method="paypal",
              details={"email": "ada@example.com"})
    monkeypatch.setenv("PAYTRACK_PAYOUT_KEYS", new)  # the old key dropped too early
    refused = cli("payout-keys", "rotate")
    assert refused.exit_code == 2 and "put the old key back" in refused.output
    monkeypatch.setenv("PAYTRACK_PAYOUT_KEYS", f"{new},{old}")
    result = cli("payout-keys", "rotate")
    assert result.exit_code == 0 and "re-encrypted 1 payout account" in result.output
    with storage.unit_of_work(readonly=True) as uow:
        token = uow.conn.execute(select(payout_accounts.c.details_encrypted)).scalar_one()
    assert PayoutKeyring.of(new).decrypt(token) == {"email": "ada@example.com"}


def test_analytics_rebuild_repairs_a_tampered_rollup_that_ledger_verify_finds(cli, storage):
    from paytrack.adapters.storage.tables import rollups

    cli("demo", "--payments", "30")
    rebuilt = cli("analytics", "rebuild")
    assert rebuilt.exit_code == 0
    assert re.search(r"analytics rebuilt in UTC from \d+ deltas", rebuilt.output)
    totals = rollups[("totals", "month")]
    with storage.engine.begin() as conn:
        conn.execute(update(totals).values(gross=totals.c.gross + 7))
    failed = cli("ledger", "verify")
    assert failed.exit_code == 1
    assert "revenue_totals_month" in failed.output and "gross" in failed.output
    assert cli("analytics", "rebuild").exit_code == 0
    verified = cli("ledger", "verify")
    assert verified.exit_code == 0 and "every analytics figure too" in verified.output
