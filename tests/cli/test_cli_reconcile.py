"""``paytrack reconcile import``: a settlement report from the command line, its report
printed; a bad file is a clear error, not a traceback."""

from tests.cli.test_cli import cli  # noqa: F401 - the fixture
from tests.integration.reconciliation_support import FIXTURES


def test_reconcile_import_prints_the_report_once(cli):  # noqa: F811
    path = str(FIXTURES / "razorpay.csv")
    result = cli("reconcile", "import", path, "--gateway", "razorpay")
    assert result.exit_code == 0, result.output
    assert "missing_in_paytrack" in result.output and "INR" in result.output
    assert "26 lines" in result.output
    again = cli("reconcile", "import", path, "--gateway", "razorpay")
    assert again.exit_code == 0 and "imported before" in again.output


def test_reconcile_import_refuses_a_bad_file_clearly(cli, tmp_path):  # noqa: F811
    bad = tmp_path / "report.csv"
    bad.write_bytes(b"id,Type\n\xff\xfe")
    result = cli("reconcile", "import", str(bad), "--gateway", "stripe")
    assert result.exit_code == 2 and "not UTF-8" in result.output
    missing = cli("reconcile", "import", str(tmp_path / "none.csv"), "--gateway", "stripe")
    assert missing.exit_code == 2 and "cannot read" in missing.output
    wrong = cli("reconcile", "import", str(bad), "--gateway", "adyen")
    assert wrong.exit_code == 2
