"""``paytrack gateways``: credentials set from the command line (or asked for), stored
encrypted, listed by masked tails only."""

from sqlalchemy import select
from typer.testing import CliRunner

from paytrack.adapters.storage.tables import gateway_configs
from paytrack.entrypoints.cli import app
from tests.cli.test_cli import cli  # noqa: F401 - the fixture

SECRET_KEY = "sk_test_51Qw3rtyUiop4242"
WEBHOOK_SECRET = "whsec_Zx9cV8bN7mM6lK5jH4gF"


def test_gateways_set_stores_encrypted_and_lists_masked(cli, storage):  # noqa: F811
    result = cli("gateways", "set", "stripe", f"secret_key={SECRET_KEY}",
                 f"webhook_secret={WEBHOOK_SECRET}")
    assert result.exit_code == 0, result.output
    assert "/v1/webhooks/stripe" in result.output and "(active)" in result.output
    with storage.engine.connect() as conn:
        stored = conn.execute(select(gateway_configs.c.credentials_encrypted).where(
            gateway_configs.c.gateway == "stripe")).scalar_one()
    assert SECRET_KEY not in stored and WEBHOOK_SECRET not in stored
    listed = cli("gateways", "list")
    assert listed.exit_code == 0
    assert "stripe" in listed.output and "…4242" in listed.output
    assert SECRET_KEY not in listed.output and WEBHOOK_SECRET not in listed.output
    assert "simulator" in listed.output  # built in


def test_a_credential_without_a_value_is_read_without_echo(database_url, monkeypatch):
    monkeypatch.setenv("PAYTRACK_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["gateways", "set", "razorpay", "key_id=rzp_test_1",
                                      "key_secret", "webhook_secret", "--mode", "live"],
                                input="s3cr3t-key-secret\nwh-secret-1234\n")
    assert result.exit_code == 0, result.output
    assert "s3cr3t" not in result.output and "razorpay live" in result.output


def test_gateways_set_refuses_a_missing_credential_and_remove_forgets(cli):  # noqa: F811
    refused = cli("gateways", "set", "razorpay", "key_id=rzp_test_1")
    assert refused.exit_code == 2 and "key_secret" in refused.output
    assert cli("gateways", "set", "stripe", "secret_key=sk_test_x1234567890",
               "webhook_secret=whsec_abcdefghijkl").exit_code == 0
    assert cli("gateways", "remove", "stripe").exit_code == 0
    again = cli("gateways", "remove", "stripe")
    assert again.exit_code == 2 and "no test configuration" in again.output
