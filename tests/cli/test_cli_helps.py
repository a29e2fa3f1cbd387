"""A ``paytrack`` command that helps: a version, readable help at 80 columns, key lists a
script or a person can use, revocation that says what happened, and messages that say
what to do next."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from paytrack.domain.errors import Unauthenticated
from paytrack.entrypoints.cli import app
from paytrack.services.keys import authenticate

runner = CliRunner()
WIDTH = 80


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("PAYTRACK_DATABASE_URL", database_url)

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False,
                             env={"COLUMNS": str(WIDTH)})

    return run


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and re.fullmatch(r"paytrack \d+\.\d+\.\d+\S*\n",
                                                  result.output)


COMMANDS = [(), ("serve",), ("migrate",), ("worker",), ("demo",), ("keys",),
            ("keys", "create"), ("keys", "list"), ("keys", "revoke"), ("ledger",),
            ("ledger", "verify"), ("ledger", "rebuild"), ("payout-keys",),
            ("payout-keys", "rotate"), ("payout-keys", "new")]


def early_breaks(help_text: str) -> list[str]:
    """Lines broken before the width though the next word would have fit."""
    found, in_description = [], True
    lines = help_text.splitlines()
    for a, b in zip(lines, lines[1:], strict=False):
        if b and not b.startswith(" "):
            in_description = False  # "Options:", "Commands:" …
        if not a.strip() or not b.strip() or b.lstrip().startswith("-"):
            continue
        indent_a, indent_b = len(a) - len(a.lstrip()), len(b) - len(b.lstrip())
        continues = indent_b == indent_a if in_description else indent_b > 2
        if continues and len(a.rstrip()) + 1 + len(b.split()[0]) <= WIDTH:
            found.append(f"{a.rstrip()!r} / {b.strip()!r}")
    return found


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "paytrack")
def test_help_at_80_columns_is_plain_and_unbroken(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    assert all(len(line) <= WIDTH for line in result.output.splitlines())
    assert early_breaks(result.output) == []


def test_each_command_is_summed_up_in_one_sentence(cli):
    for group in ((), ("keys",), ("ledger",)):
        listing = cli(*group, "--help").output.split("Commands:")[1]
        for line in listing.strip("\n").splitlines():
            assert line.startswith("  ") and line.rstrip().endswith("."), line


# -- keys ---------------------------------------------------------------------------------

LONG_SELLER = "seller_with_a_rather_long_platform_id_0123456789"


def test_keys_list_shows_whole_ids_at_80_columns(cli):
    cli("keys", "create", "--yes", "--role", "seller", "--seller-id", LONG_SELLER,
        "--name", "reporting integration")
    keys = json.loads(cli("keys", "list", "--json").output)
    listed = cli("keys", "list").output
    assert keys[0]["id"] in listed and keys[0]["prefix"] in listed
    assert LONG_SELLER in listed and "…" not in listed


def test_keys_list_json(cli):
    admin = last_line(cli("keys", "create", "--role", "admin", "--name", "ops"))
    cli("keys", "create", "--yes", "--role", "customer", "--customer-id", "cust_1")
    result = cli("keys", "list", "--json")
    assert result.exit_code == 0
    keys = json.loads(result.output)
    assert [(k["role"], k["name"], k["customer_id"]) for k in keys] == [
        ("admin", "ops", None), ("customer", None, "cust_1")]
    assert keys[0]["prefix"] == admin.split("_")[1] and keys[0]["revoked_at"] is None
    assert keys[0]["id"].startswith("key_") and "T" in keys[0]["created_at"]
    assert admin not in result.output and "secret" not in result.output


@pytest.mark.parametrize("naming", ["key", "prefix", "id"])
def test_keys_revoke_takes_the_key_its_prefix_or_its_id(cli, storage, naming):
    token = last_line(cli("keys", "create", "--role", "admin"))
    key = json.loads(cli("keys", "list", "--json").output)[0]
    reference = {"key": token, "prefix": key["prefix"], "id": key["id"]}[naming]
    result = cli("keys", "revoke", reference)
    assert result.exit_code == 0 and f"revoked {key['id']}" in result.output
    assert token not in result.output
    with storage.unit_of_work() as uow, pytest.raises(Unauthenticated):
        authenticate(uow, token)


def test_revoking_a_revoked_key_says_so_and_fails(cli):
    token = last_line(cli("keys", "create", "--role", "admin"))
    assert cli("keys", "revoke", token).exit_code == 0
    again = cli("keys", "revoke", token)
    assert again.exit_code != 0 and "already revoked" in again.output
    assert token not in again.output
    unknown = cli("keys", "revoke", "ptk_nope_nope")
    assert unknown.exit_code != 0 and "does not exist" in unknown.output
    assert "ptk_nope_nope" not in unknown.output  # a whole key is never echoed


@pytest.mark.parametrize(("args", "advice"), [
    (("--role", "admin", "--seller-id", "s1"), "drop --seller-id"),
    (("--role", "admin", "--customer-id", "c1"), "drop --customer-id"),
    (("--role", "seller", "--customer-id", "c1"), "use --seller-id"),
    (("--role", "customer", "--seller-id", "s1"), "use --customer-id"),
    (("--role", "seller",), "add --seller-id"),
])
def test_a_key_bound_the_wrong_way_gets_advice_and_is_not_created(cli, args, advice):
    result = cli("keys", "create", *args)
    assert result.exit_code == 2 and advice in " ".join(result.output.split())
    assert json.loads(cli("keys", "list", "--json").output) == []


# -- serve and demo -------------------------------------------------------------------------

@pytest.fixture
def served(monkeypatch):
    """Replace the server itself: what ``serve`` would start it with."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setenv("PAYTRACK_UPKEEP", "true")  # restored after the test
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(
        {"app": app, **kw, "upkeep_env": __import__("os").environ["PAYTRACK_UPKEEP"]}))
    return calls


def test_serve_on_a_database_without_an_admin_key_says_how_to_make_one(cli, served):
    hint = "paytrack keys create --role admin"
    assert hint in cli("serve").output
    cli("keys", "create", "--role", "admin")
    assert hint not in cli("serve").output
    assert len(served) == 2


def test_serve_runs_the_upkeep_unless_told_not_to(cli, served):
    assert cli("serve").exit_code == 0
    assert cli("serve", "--no-upkeep").exit_code == 0
    assert [c["upkeep_env"] for c in served] == ["true", "false"]
    assert "serve" in cli("worker", "--help").output  # the worker says when it is needed


def test_demo_run_twice_leaves_one_demo_key(cli, storage):
    first = last_line(cli("demo", "--payments", "10"))
    again = cli("demo", "--payments", "10")
    second = last_line(again)
    assert "revoked the previous demo admin key" in again.output
    keys = json.loads(cli("keys", "list", "--json").output)
    live = [k for k in keys if k["revoked_at"] is None]
    assert len(keys) == 2 and [k["name"] for k in live] == ["demo admin"]
    with storage.unit_of_work() as uow:
        assert authenticate(uow, second)[0].role == "admin"
        with pytest.raises(Unauthenticated):
            authenticate(uow, first)


def test_demo_serve_on_a_taken_port_says_so_before_loading_anything(cli, storage):
    import socket

    from paytrack.services.payments import list_payments
    from tests.integration.conftest import ADMIN

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("demo", "--serve", "--port", str(port), "--payments", "10")
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.output and "--port" in result.output
    with storage.unit_of_work(readonly=True) as uow:
        assert list_payments(uow, ADMIN, limit=1) == []
