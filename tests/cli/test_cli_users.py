"""``paytrack users``: dashboard users made, listed, given a password and disabled."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from paytrack.entrypoints.cli import app
from paytrack.services import dashboard_access

runner = CliRunner()


@pytest.fixture
def users(database_url, monkeypatch):
    monkeypatch.setenv("PAYTRACK_DATABASE_URL", database_url)
    return lambda *args, input=None: runner.invoke(app, ["users", *args], input=input,
                                                   catch_exceptions=False)


def test_a_user_is_created_listed_and_signs_in_with_its_password(users, storage):
    made = users("create", "--username", "ana", "--role", "admin", "--password-stdin",
                 input="a long enough password\n")
    assert made.exit_code == 0 and "created admin user ana" in made.output
    assert "a long enough password" not in made.output
    listed = users("list")
    assert "ana" in listed.output and "admin" in listed.output
    with storage.unit_of_work() as uow:
        session, _ = dashboard_access.sign_in_with_password(uow, "ana",
                                                            "a long enough password")
    assert session["role"] == "admin"


def test_the_password_is_asked_twice_without_echo(users):
    made = users("create", "--username", "bob", "--role", "seller", "--seller-id", "s1",
                 input="another password!\nanother password!\n")
    assert made.exit_code == 0, made.output
    assert "another password!" not in made.output


@pytest.mark.parametrize(("args", "said"), [
    (["--role", "seller"], "--seller-id"),
    (["--role", "admin", "--seller-id", "s1"], "drop --seller-id"),
])
def test_a_role_and_binding_that_do_not_fit_are_refused(users, args, said):
    made = users("create", "--username", "x", *args, "--password-stdin", input="long password1\n")
    assert made.exit_code != 0 and said in made.output


def test_a_short_password_and_a_taken_username_are_refused(users):
    short = users("create", "--username", "ana", "--role", "admin", "--password-stdin",
                  input="short\n")
    assert short.exit_code != 0 and "10 to 200 characters" in short.output
    users("create", "--username", "ana", "--role", "admin", "--password-stdin",
          input="a long enough password\n")
    taken = users("create", "--username", "ANA", "--role", "admin", "--password-stdin",
                  input="a long enough password\n")
    assert taken.exit_code != 0 and "taken" in taken.output


def test_set_password_and_disable(users, storage):
    users("create", "--username", "ana", "--role", "admin", "--password-stdin",
          input="a long enough password\n")
    assert users("set-password", "--username", "ana", "--password-stdin",
                 input="a brand new password\n").exit_code == 0
    with storage.unit_of_work() as uow:
        dashboard_access.sign_in_with_password(uow, "ana", "a brand new password")
    assert users("disable", "--username", "ana").exit_code == 0
    with storage.unit_of_work() as uow, pytest.raises(Exception, match="wrong username"):
        dashboard_access.sign_in_with_password(uow, "ana", "a brand new password")
    assert users("disable", "--username", "nobody").exit_code != 0
