"""``paytrack export`` and ``paytrack statement``, run as a user would."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.uow import Storage
from paytrack.entrypoints.cli import app
from paytrack.services.refunds import refund_payment
from tests.integration.conftest import ADMIN, committed, new_payment

runner = CliRunner()


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("PAYTRACK_DATABASE_URL", database_url)
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def made(database_url):
    engine = make_engine(database_url)
    storage = Storage(engine)
    first = new_payment(storage, subtotal=12500)
    second = new_payment(storage, subtotal=5000, seller_id="seller_2")
    committed(storage, refund_payment, first["id"], ADMIN, reason="partial", amount=2500)
    engine.dispose()
    return {"first": first, "second": second}


def test_export_writes_csv_to_stdout_and_reports_on_stderr(cli, made):
    result = cli("export", "payments", "--seller-id", "seller_1")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == [made["first"]["id"]]
    assert "exported 1 payments rows" in result.stderr


def test_export_writes_a_file_with_every_kind(cli, made, tmp_path):
    for kind, count in (("payments", 2), ("refunds", 1), ("payouts", 0), ("disputes", 0)):
        target = tmp_path / f"{kind}.csv"
        result = cli("export", kind, "--output", str(target))
        assert result.exit_code == 0, result.output
        assert len(list(csv.DictReader(target.open(newline="")))) == count, kind
    target = tmp_path / "ledger.csv"
    assert cli("export", "ledger", "--payment-id", made["first"]["id"], "--output",
               str(target)).exit_code == 0
    kinds = {r["kind"] for r in csv.DictReader(target.open(newline=""))}
    assert kinds == {"payment.captured", "refund.succeeded"}


def test_export_refuses_bad_filters_with_a_message(cli, made):
    result = cli("export", "payments", "--status", "paid")
    assert result.exit_code == 2 and "status" in result.stderr
    result = cli("export", "payments", "--created-gte", "yesterday")
    assert result.exit_code == 2 and "ISO 8601" in result.stderr
    result = cli("export", "refunds", "--payment-id", "pay_\x01")
    assert result.exit_code == 2 and "printable" in result.stderr


def test_statement_in_each_format(cli, made, tmp_path):
    period = ("--currency", "USD", "--from", "2000-01-01", "--to", "2100-01-01")
    result = cli("statement", "seller_1", *period)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["closing_balance"] == 10000 - 2000
    assert [line["kind"] for line in body["lines"]] == ["earning", "refund"]
    target = tmp_path / "s.csv"
    assert cli("statement", "seller_1", *period, "--format", "csv", "--output",
               str(target)).exit_code == 0
    rows = list(csv.DictReader(target.open(newline="")))
    assert rows[-1]["kind"] == "closing_balance" and rows[-1]["balance"] == "8000"
    target = tmp_path / "s.pdf"
    assert cli("statement", "seller_1", *period, "--format", "pdf", "--output",
               str(target)).exit_code == 0
    assert target.read_bytes().startswith(b"%PDF")
    missing = cli("statement", "nobody", *period)
    assert missing.exit_code == 2 and "not found" in missing.stderr


@pytest.mark.parametrize("args", [
    ("export", "payments", "--created-gte", "0001-01-01T00:00:00+01:00"),
    ("export", "payments", "--created-lt", "9999-12-31T23:59:59-05:00"),
    ("statement", "seller_1", "--currency", "USD", "--from", "0001-01-01T00:00:00+01:00",
     "--to", "2100-01-01"),
    ("statement", "seller_1", "--currency", "USD", "--from", "2000-01-01",
     "--to", "9999-12-31T23:59:59-05:00"),
])
def test_an_instant_outside_the_years_1_to_9999_is_a_usage_error(cli, made, args):
    result = cli(*args)
    assert result.exit_code == 2 and "outside years 1 to 9999" in result.stderr


def test_export_payments_takes_the_reconciled_filter(cli, made):
    result = cli("export", "payments", "--no-reconciled")
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 2
    result = cli("export", "payments", "--reconciled")
    assert list(csv.DictReader(io.StringIO(result.stdout))) == []


def test_an_export_that_fails_midway_leaves_no_file_and_fails(cli, made, tmp_path,
                                                               monkeypatch):
    from sqlalchemy.exc import OperationalError

    from paytrack.services.exports import Export

    def broken(self, on_rows=None):
        yield ",".join(self.columns) + "\r\n"
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Export, "csv_chunks", broken)
    target = tmp_path / "payments.csv"
    result = runner.invoke(app, ["export", "payments", "--output", str(target)])
    assert result.exit_code != 0 and isinstance(result.exception, OperationalError)
    assert "the export failed" in result.stderr and "exported" not in result.stderr
    assert not target.exists()


def test_an_output_that_cannot_be_written_is_a_usage_error(cli, made, tmp_path):
    result = cli("export", "payments", "--output", str(tmp_path / "no" / "such.csv"))
    assert result.exit_code == 2 and "cannot write" in result.stderr
