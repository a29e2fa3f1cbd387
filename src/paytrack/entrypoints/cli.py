"""The ``paytrack`` command."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.progress import track
from rich.table import Table

import paytrack
from paytrack.config import Settings
from paytrack.domain.actors import SYSTEM
from paytrack.domain.errors import NotFound, PaytrackError, ValidationFailed
from paytrack.entrypoints.bootstrap import open_storage

if TYPE_CHECKING:
    from paytrack.adapters.storage.uow import UnitOfWork
    from paytrack.domain.parties import PartyKind

# Plain help (rich_markup_mode=None): paragraphs are reflowed to the terminal's width, and
# flags are not labelled "<bool>" as Typer's rich panels label them.
app = typer.Typer(help="paytrack: payment tracking and a revenue ledger for marketplaces.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True,
                       rich_markup_mode=None)
ledger_app = typer.Typer(help="Prove the ledger.", no_args_is_help=True,
                         rich_markup_mode=None)
payout_keys_app = typer.Typer(help="Manage the keys that encrypt sellers' payout accounts.",
                              no_args_is_help=True, rich_markup_mode=None)
app.add_typer(keys_app, name="keys")
app.add_typer(ledger_app, name="ledger")
gateways_app = typer.Typer(help="Configure the payment gateways (credentials are stored "
                                "encrypted and never printed).", no_args_is_help=True,
                           rich_markup_mode=None)
app.add_typer(payout_keys_app, name="payout-keys")
app.add_typer(gateways_app, name="gateways")
reconcile_app = typer.Typer(help="Reconcile the gateways' settlement reports.",
                            no_args_is_help=True, rich_markup_mode=None)
app.add_typer(reconcile_app, name="reconcile")
analytics_app = typer.Typer(help="Keep the revenue analytics.", no_args_is_help=True,
                            rich_markup_mode=None)
app.add_typer(analytics_app, name="analytics")
users_app = typer.Typer(help="Manage who signs in to the dashboard with a password.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(users_app, name="users")
console = Console(soft_wrap=True)  # messages hold commands to copy: never wrapped mid-way
err = Console(stderr=True, soft_wrap=True)

Host = Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on")]
Port = Annotated[int, typer.Option(metavar="PORT", help="Port to listen on")]
DEMO_KEY_NAME = "demo admin"


class KeyRole(StrEnum):
    admin = "admin"
    seller = "seller"
    customer = "customer"


def _fail(exc: PaytrackError) -> None:
    err.print(f"[red]error:[/red] {exc.detail}", highlight=False)
    raise typer.Exit(2)


def _usage(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _show_version(value: bool) -> None:
    if value:
        print(f"paytrack {paytrack.__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help="Show the version and exit.")] = False) -> None:
    """paytrack: payment tracking and a revenue ledger for marketplaces."""


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema.

    The database is PAYTRACK_DATABASE_URL, by default the SQLite file paytrack.db.
    """
    settings = Settings()
    open_storage(settings)
    console.print(f"database is up to date: {_safe_url(settings.database_url)}")


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000,
          workers: Annotated[int, typer.Option(metavar="N", help="Server processes")] = 1,
          upkeep: Annotated[bool, typer.Option(
              "--upkeep/--no-upkeep", envvar="PAYTRACK_UPKEEP",
              help="Fold balance deltas into balances and purge expired idempotency keys "
                   "in the background. Turn it off only where `paytrack worker` runs "
                   "beside the server.")] = True) -> None:
    """Serve the API, its docs at /docs and the dashboard at /dashboard.

    Migrates the database first. Unless --no-upkeep, each server process also does what
    `paytrack worker` does, every few seconds.
    """
    import uvicorn

    from paytrack.services.keys import list_keys

    settings = Settings()
    storage = open_storage(settings)
    with storage.unit_of_work(readonly=True) as uow:
        has_admin = any(k["role"] == "admin" and k["revoked_at"] is None
                        for k in list_keys(uow, SYSTEM))
    console.print(f"paytrack on http://{host}:{port}  (docs: http://{host}:{port}/docs, "
                  f"dashboard: http://{host}:{port}/dashboard, "
                  f"database: {_safe_url(settings.database_url)})", highlight=False)
    if not has_admin:
        console.print("no admin API key in this database yet: create one with "
                      "`paytrack keys create --role admin`", highlight=False)
    if not upkeep:
        console.print("upkeep is off: run `paytrack worker` beside the server, or balance "
                      "deltas pile up", highlight=False)
    os.environ["PAYTRACK_UPKEEP"] = "true" if upkeep else "false"  # for the server's app
    # Hosted pages and the simulator's webhooks point here unless told otherwise.
    os.environ.setdefault("PAYTRACK_PUBLIC_URL", f"http://{host}:{port}")
    uvicorn.run("paytrack.entrypoints.asgi:app", host=host, port=port, workers=workers,
                log_level="info")


class UserRole(StrEnum):
    admin = "admin"
    seller = "seller"


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(metavar="NAME", help="What they sign in with")],
    role: Annotated[UserRole, typer.Option(help="Everything (admin), or one seller's part")],
    seller_id: Annotated[str | None, typer.Option(
        metavar="ID", help="The seller a seller user is bound to")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input's first line "
                                 "instead of asking for it twice")] = False,
) -> None:
    """Create a dashboard user (the password is stored as an argon2id hash)."""
    from paytrack.services.dashboard_access import create_user

    if role is UserRole.admin and seller_id:
        _usage("an admin sees everything: drop --seller-id")
    if role is UserRole.seller and not seller_id:
        _usage("a seller user is bound to one seller: add --seller-id ID")
    password = _password(password_stdin)
    storage = open_storage()
    try:
        with storage.unit_of_work() as uow:
            user = create_user(uow, SYSTEM, username, password, str(role), seller_id=seller_id)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    console.print(f"created {user['role']} user {user['username']} ({user['id']}); sign in "
                  "at /dashboard", highlight=False)


@users_app.command("list")
def users_list() -> None:
    """List the dashboard's users (never their passwords)."""
    from paytrack.services.dashboard_access import list_users

    with open_storage().unit_of_work(readonly=True) as uow:
        users = list_users(uow, SYSTEM)
    table = Table("username", "role", "seller", "created", "disabled")
    for user in users:
        table.add_row(user["username"], user["role"], user["seller_id"] or "",
                      f"{user['created_at']:%Y-%m-%d %H:%M}",
                      f"{user['disabled_at']:%Y-%m-%d %H:%M}" if user["disabled_at"] else "")
    console.print(table)


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Option(metavar="NAME", help="Whose password")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input's first line")] = False,
) -> None:
    """Give a dashboard user a new password (its open sessions stay open)."""
    from paytrack.services.dashboard_access import set_password

    password = _password(password_stdin)
    try:
        with open_storage().unit_of_work() as uow:
            set_password(uow, SYSTEM, username, password)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    console.print(f"new password set for {username}", highlight=False)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Option(metavar="NAME", help="Who may no longer sign in")],
) -> None:
    """Stop a dashboard user signing in; its open sessions end now."""
    from paytrack.services.dashboard_access import disable_user

    try:
        with open_storage().unit_of_work() as uow:
            disable_user(uow, SYSTEM, username)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    console.print(f"{username} is disabled", highlight=False)


@keys_app.command("create")
def keys_create(
    role: Annotated[KeyRole, typer.Option(help="What the key may do: everything (admin), "
                                               "or one seller's or customer's part")],
    seller_id: Annotated[str | None, typer.Option(
        metavar="ID", help="The seller a seller key is bound to")] = None,
    customer_id: Annotated[str | None, typer.Option(
        metavar="ID", help="The customer a customer key is bound to")] = None,
    name: Annotated[str | None, typer.Option(metavar="TEXT", help="A label for people")]
    = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Create the seller or customer "
                                      "if paytrack has not seen it yet")] = False,
) -> None:
    """Create an API key.

    The key is printed once, alone on the last line.
    """
    from paytrack.services.keys import create_key

    _check_binding(role, seller_id=seller_id, customer_id=customer_id)
    parties: dict[KeyRole, tuple[PartyKind, str | None]] = {
        KeyRole.seller: ("seller", seller_id), KeyRole.customer: ("customer", customer_id)}
    party = parties.get(role)
    storage = open_storage()
    try:
        with storage.unit_of_work() as uow:
            created = party is not None and party[1] is not None and _known_or_created(
                uow, party[0], party[1], create=yes)
            key, token = create_key(uow, role, SYSTEM, seller_id=seller_id,
                                    customer_id=customer_id, name=name)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    if created:
        console.print(f"new {role} {seller_id or customer_id} created", highlight=False)
    console.print(f"created {key['role']} key {key['id']} (prefix {key['prefix']}); "
                  "store it now, it is not shown again:", highlight=False)
    print(token)


def _check_binding(role: KeyRole, *, seller_id: str | None, customer_id: str | None) -> None:
    """Say which options a role takes before the service refuses the combination."""
    if role is KeyRole.admin and (seller_id or customer_id):
        option, value = ("--seller-id", seller_id) if seller_id else ("--customer-id",
                                                                      customer_id)
        bound = "seller" if seller_id else "customer"
        _usage(f"an admin key sees everything and is bound to no one: drop {option}, or use "
               f"--role {bound} {option} {value} for a key that sees only that {bound}")
    if role is KeyRole.seller and customer_id:
        _usage("a seller key is bound to a seller: use --seller-id, not --customer-id")
    if role is KeyRole.customer and seller_id:
        _usage("a customer key is bound to a customer: use --customer-id, not --seller-id")
    if role is KeyRole.seller and not seller_id:
        _usage("a seller key is bound to one seller: add --seller-id ID")
    if role is KeyRole.customer and not customer_id:
        _usage("a customer key is bound to one customer: add --customer-id ID")


def _known_or_created(uow: UnitOfWork, kind: PartyKind, party_id: str, *,
                      create: bool) -> bool:
    """Whether the seller or customer a key is bound to had to be created (``--yes``); a
    key bound to a party paytrack has never seen is most likely a mistyped id."""
    from paytrack.entrypoints.api.schemas import ID_EXPECTED, ID_PATTERN
    from paytrack.services.parties import get_party, upsert_party

    if not re.fullmatch(ID_PATTERN, party_id):
        raise ValidationFailed(f"{kind} id {party_id!r}: expected {ID_EXPECTED}, e.g. "
                               f"{kind}_42")
    try:
        get_party(uow, kind, party_id, SYSTEM)
        return False
    except NotFound:
        if not create:
            raise NotFound(
                f"paytrack has never seen {kind} {party_id!r}: no payment or "
                f"PUT /v1/{kind}s/{party_id} has named it. Check the id, or add --yes to "
                f"create {kind} {party_id} with this key") from None
    upsert_party(uow, kind, party_id, SYSTEM)
    return True


@keys_app.command("list")
def keys_list(as_json: Annotated[bool, typer.Option(
        "--json", help="Print a JSON array, for scripts")] = False) -> None:
    """List API keys: prefixes and ids, never secrets."""
    from paytrack.services.keys import list_keys

    storage = open_storage()
    with storage.unit_of_work(readonly=True) as uow:
        keys = list_keys(uow, SYSTEM)
    if as_json:
        print(json.dumps(keys, default=_json_value, indent=2))
        return
    table = Table("id", "prefix", "role", "bound to", "name", "created", "revoked",
                  box=None, pad_edge=False, header_style="bold")
    for column in table.columns:
        column.no_wrap = True  # ids are copied from here: never cut or folded
    for k in keys:
        table.add_row(k["id"], k["prefix"], k["role"], k["seller_id"] or k["customer_id"] or "",
                      k["name"] or "", f"{k['created_at']:%Y-%m-%d %H:%M}",
                      f"{k['revoked_at']:%Y-%m-%d %H:%M}" if k["revoked_at"] else "")
    _print_unsqueezed(table)


def _json_value(value: Any) -> str:
    return value.isoformat()  # datetimes are all json.dumps cannot write here


def _print_unsqueezed(table: Table) -> None:
    """Print a table as wide as its rows (as ``kubectl get`` does), not cut to the terminal."""
    natural = Measurement.get(console, console.options.update(width=1_000_000), table).maximum
    Console(width=max(console.width, natural), highlight=False).print(table)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(
        metavar="KEY", help="The key itself, its prefix or its id")]) -> None:
    """Revoke a key: it is refused from the next request on."""
    from paytrack.services.keys import revoke_key_by_reference

    storage = open_storage()
    try:
        with storage.unit_of_work() as uow:
            revoked = revoke_key_by_reference(uow, key, SYSTEM)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    console.print(f"revoked {revoked['id']} (prefix {revoked['prefix']})", highlight=False)


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Recompute every balance from postings; exit 1 on any difference."""
    from paytrack.services.ledger import verify_ledger

    storage = open_storage()
    with storage.unit_of_work(readonly=True) as uow:
        report = verify_ledger(uow, SYSTEM)
    table = Table("currency", "debits", "credits", "balanced")
    for c in report["trial_balance"]["currencies"]:
        table.add_row(c["currency"], str(c["debits"]), str(c["credits"]),
                      "yes" if c["debits"] == c["credits"] else "[red]NO[/red]")
    console.print(table)
    for d in report["differences"]:
        console.print(f"[red]difference[/red] {d['code']} {d['currency']}: stored "
                      f"{d['stored']}, postings say {d['expected']}")
    for e in report["unbalanced_entries"]:
        console.print(f"[red]unbalanced[/red] entry {e['entry_id']} {e['currency']}: "
                      f"off by {e['sum']}")
    for h in report["held_differences"]:
        console.print(f"[red]held[/red] seller {h['seller_id']} {h['currency']}: pending "
                      f"{h['pending_balance']}, its earnings hold {h['held_by_earnings']}")
    for r in report["revenue_differences"]:
        on = "" if r["period"] is None else f" on {r['period']}"
        if "group" in r:
            on += " for " + " ".join(f"{k}={v}" for k, v in r["group"].items())
        console.print(f"[red]analytics[/red] {r['rollup']} {r['currency']}{on} "
                      f"{r['measure']}: {r['stored']}, postings say {r['expected']}")
    if not report["revenue_checked"]:
        console.print("analytics not checked: the rollups await their first build "
                      "(`paytrack analytics rebuild`, or the background job)")
    if not report["ok"]:
        console.print("[red]ledger verify failed[/red]")
        raise typer.Exit(1)
    console.print("ledger verified: every balance matches its postings"
                  + (", and every analytics figure too" if report["revenue_checked"] else ""))


@ledger_app.command("rebuild")
def ledger_rebuild() -> None:
    """Rewrite running balances from postings.

    The postings are the truth; each corrected balance is printed.
    """
    from paytrack.services.ledger import rebuild_balances

    storage = open_storage()
    with storage.unit_of_work() as uow:
        corrections = rebuild_balances(uow, SYSTEM)
        uow.commit()
    for c in corrections:
        console.print(f"corrected {c['code']} {c['currency']}: {c['stored']} -> {c['expected']}")
    console.print(f"{len(corrections)} balance(s) corrected")


@analytics_app.command("rebuild")
def analytics_rebuild() -> None:
    """Rebuild the analytics rollups from the journal entries, payments and disputes, in
    PAYTRACK_ANALYTICS_TZ.

    The background job does this itself when the time zone changes; on PostgreSQL nothing
    posts while it runs.
    """
    from paytrack.services.analytics import rebuild_analytics

    storage = open_storage()
    rebuilt = storage.run(lambda uow: rebuild_analytics(uow, SYSTEM))
    console.print(f"analytics rebuilt in {rebuilt['tz']} from {rebuilt['deltas']} deltas",
                  highlight=False)


@payout_keys_app.command("rotate")
def payout_keys_rotate() -> None:
    """Re-encrypt every stored payout account (and gateway configuration and event endpoint
    secret) with the newest payout key.

    Put a new key first in PAYTRACK_PAYOUT_KEYS (comma-separated, newest first), keep the
    old ones after it, run this, then drop the old keys. One transaction: all accounts or
    none.
    """
    from paytrack.adapters.secrets import KeyMissing
    from paytrack.services.event_endpoints import rotate_endpoint_keys
    from paytrack.services.gateways import rotate_gateway_keys
    from paytrack.services.payouts import rotate_payout_keys

    storage = open_storage()
    try:
        with storage.unit_of_work() as uow:
            done = rotate_payout_keys(uow, SYSTEM)
            endpoints = rotate_endpoint_keys(uow, SYSTEM)
            configs = rotate_gateway_keys(uow, SYSTEM)
            uow.commit()
    except KeyMissing:
        _usage("a payout account is encrypted with a key PAYTRACK_PAYOUT_KEYS no longer "
               "lists: put the old key back after the new one, then rotate again; nothing "
               "was changed")
    except ValueError as exc:  # a configured key that is not a Fernet key
        _usage(str(exc))
    console.print(f"re-encrypted {done} payout account(s), {configs} gateway "
                  f"configuration(s) and {endpoints} event endpoint secret(s) with the "
                  "newest key; keys after the first in "
                  "PAYTRACK_PAYOUT_KEYS may now be removed", highlight=False)


@payout_keys_app.command("new")
def payout_keys_new() -> None:
    """Print a new payout key, alone on its line, to put first in PAYTRACK_PAYOUT_KEYS."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


class GatewayName(StrEnum):
    simulator = "simulator"
    stripe = "stripe"
    razorpay = "razorpay"
    paypal = "paypal"


class GatewayMode(StrEnum):
    test = "test"
    live = "live"


@gateways_app.command("list")
def gateways_list() -> None:
    """Each configured gateway and mode: which credentials are set, never their values."""
    from paytrack.services.gateways import list_gateways

    storage = open_storage()
    with storage.unit_of_work() as uow:
        shown = list_gateways(uow, SYSTEM)
        uow.commit()
    table = Table("gateway", "mode", "active", "credentials", "webhook url", box=None,
                  pad_edge=False, header_style="bold")
    for g in shown:
        table.add_row(g["gateway"], g["mode"], "yes" if g["active"] else "",
                      ", ".join(f"{k} {v}" for k, v in g["hints"].items()) or "-",
                      g["webhook_url"])
    _print_unsqueezed(table)


@gateways_app.command("set")
def gateways_set(
    gateway: Annotated[GatewayName, typer.Argument(help="The gateway")],
    fields: Annotated[list[str], typer.Argument(
        metavar="NAME[=VALUE]...",
        help="Credentials to set: stripe secret_key webhook_secret; razorpay key_id "
             "key_secret webhook_secret; paypal client_id client_secret webhook_id "
             "verification. A NAME without =VALUE is asked for without echo (read from "
             "stdin when it is not a terminal), so secrets stay out of shell history.")],
    mode: Annotated[GatewayMode, typer.Option(help="test or live")] = GatewayMode.test,
    inactive: Annotated[bool, typer.Option(
        "--inactive", help="Keep the gateway's other mode for new checkouts")] = False,
) -> None:
    """Set a gateway's credentials for a mode; fields not named keep their stored values."""
    import sys

    from paytrack.services.gateways import configure_gateway

    values: dict[str, str | None] = {}
    for field in fields:
        name, sep, value = field.partition("=")
        if not sep:
            value = (typer.prompt(name, hide_input=True) if sys.stdin.isatty()
                     else sys.stdin.readline().strip())
        values[name.strip()] = value
    storage = open_storage()
    try:
        with storage.unit_of_work() as uow:
            shown = configure_gateway(uow, SYSTEM, gateway.value, mode.value,
                                      credentials=values, activate=not inactive)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    console.print(f"{shown['gateway']} {shown['mode']}: {', '.join(shown['configured'])} set"
                  f"{' (active)' if shown['active'] else ''}; point its webhooks at "
                  f"{shown['webhook_url']}", highlight=False)


@gateways_app.command("remove")
def gateways_remove(
    gateway: Annotated[GatewayName, typer.Argument(help="The gateway")],
    mode: Annotated[GatewayMode, typer.Option(help="test or live")] = GatewayMode.test,
) -> None:
    """Forget a gateway's credentials for a mode."""
    from paytrack.services.gateways import remove_gateway

    storage = open_storage()
    try:
        with storage.unit_of_work() as uow:
            remove_gateway(uow, SYSTEM, gateway.value, mode.value)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    console.print(f"{gateway.value} {mode.value}: removed", highlight=False)


class ReportGatewayName(StrEnum):
    stripe = "stripe"
    razorpay = "razorpay"
    paypal = "paypal"


@reconcile_app.command("import")
def reconcile_import(
        file: Annotated[str, typer.Argument(metavar="FILE",
                                            help="The settlement report, CSV in UTF-8")],
        gateway: Annotated[ReportGatewayName, typer.Option(
            help="Whose report it is")]) -> None:
    """Import a gateway's settlement report and print what it found; importing the same
    file again changes nothing."""
    from paytrack.adapters.reports.common import MAX_REPORT_BYTES
    from paytrack.services.reconciliation import import_report

    try:
        with open(file, "rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        _usage(f"cannot read {file}: {exc.strerror}")
    storage = open_storage()
    try:
        imported = storage.run(lambda uow: import_report(
            uow, gateway.value, data, SYSTEM, filename=os.path.basename(file)))
    except PaytrackError as exc:
        _fail(exc)
    report = imported.report
    if not imported.created:
        console.print(f"this file was imported before, as {report['id']}: nothing changed",
                      highlight=False)
    table = Table("class", "lines")
    for name, count in report["counts"].items():
        table.add_row(name, str(count))
    console.print(table)
    totals = Table("currency", "report", "paytrack", "fee posted")
    for t in report["totals"]:
        totals.add_row(t["currency"], str(t["report_amount"]), str(t["paytrack_amount"]),
                       str(t["fee_posted"]))
    console.print(totals)
    console.print(f"import {report['id']}: {report['line_count']} lines, "
                  f"{report['exceptions']} exceptions", highlight=False)


@app.command()
def worker(interval: Annotated[float, typer.Option(metavar="SECONDS",
                                                   help="Seconds between rounds")] = 5.0,
           once: Annotated[bool, typer.Option("--once", help="Run one round and exit")]
           = False) -> None:
    """Release sellers' earnings past their hold, fold balance deltas and revenue deltas
    (rebuilding the analytics rollups when PAYTRACK_ANALYTICS_TZ changed), purge expired
    idempotency keys, send events to the platform's endpoints, send approved refunds and
    payouts to their gateways, cancel checkouts that expired unpaid and deliver the
    simulator's webhooks to PAYTRACK_PUBLIC_URL (set it to where `paytrack serve` listens).

    `paytrack serve` does this itself unless started with --no-upkeep; run the worker
    when it is. Several workers and servers may run it at once.
    """
    from paytrack.entrypoints.deliverer import Deliverer
    from paytrack.entrypoints.upkeep import run_once

    settings = Settings()
    storage = open_storage(settings)
    deliverer = Deliverer(settings.delivery_rules)
    try:
        while True:
            done = run_once(storage, deliverer=deliverer)
            if any(done) or once:
                console.print(f"released {done.released} seller earnings, folded "
                              f"{done.folded} balance deltas, purged {done.purged} "
                              f"idempotency keys, dispatched {done.dispatched} events, "
                              f"delivered {done.delivered} ({done.delivery_failures} "
                              f"deliveries failed), sent {done.sent} refunds and payouts "
                              f"to gateways, expired {done.expired} checkouts, delivered "
                              f"{done.simulated} simulator webhooks, folded "
                              f"{done.revenue_folded} revenue deltas")
            if once:
                return
            time.sleep(interval)
    finally:
        deliverer.close()


@app.command()
def demo(
    payments: Annotated[int, typer.Option(metavar="N", help="How many payments to create")]
    = 4000,
    serve_after: Annotated[bool, typer.Option("--serve",
                                              help="Start the server afterwards")] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Load a realistic marketplace and print an admin key.

    A year of payments in several currencies with refunds, coupons, released earnings,
    payouts in every state, disputes and sellers in debt, loaded once. Each run prints a
    new demo admin key and revokes the one the previous run printed.
    """
    from paytrack.entrypoints.demo import load_demo
    from paytrack.services.keys import create_key, list_keys, revoke_key
    from paytrack.services.payments import list_payments

    if serve_after:
        _port_is_free(host, port)  # before loading anything or printing a key
        # the demo's checkouts link to the address it is about to serve on
        os.environ.setdefault("PAYTRACK_PUBLIC_URL", f"http://{host}:{port}")
    settings = Settings()
    storage = open_storage(settings)
    with storage.unit_of_work(readonly=True) as uow:
        has_data = bool(list_payments(uow, SYSTEM, limit=1))
    if has_data:
        console.print("the database already has payments; not loading the demo again")
    else:
        summary = load_demo(storage, payments=payments, progress=lambda it, n: track(
            it, total=n, description="loading demo payments", console=console))
        console.print(f"loaded {summary.payments} payments, {summary.refunds} refunds, "
                      f"{summary.sellers} sellers, {summary.customers} customers")
        console.print(f"payouts: {_counts(summary.payouts, PAYOUT_ORDER)}; disputes: "
                      f"{_counts(summary.disputes, DISPUTE_ORDER)}; "
                      f"{summary.released} earnings released", highlight=False)
        console.print(f"orders: {_counts(summary.orders, ORDER_ORDER)}; subscriptions: "
                      f"{_counts(summary.subscriptions, SUBSCRIPTION_ORDER)}",
                      highlight=False)
        if summary.in_debt:
            console.print(f"sellers in debt: {', '.join(summary.in_debt)} (see GET "
                          f"/v1/sellers/{summary.in_debt[0]}/balance)", highlight=False)
    with storage.unit_of_work() as uow:  # one demo key at a time: replace the last one
        previous = [k for k in list_keys(uow, SYSTEM)
                    if k["name"] == DEMO_KEY_NAME and k["revoked_at"] is None]
        for key in previous:
            revoke_key(uow, key["id"], SYSTEM)
        _, token = create_key(uow, "admin", SYSTEM, name=DEMO_KEY_NAME)
        uow.commit()
    for key in previous:
        console.print(f"revoked the previous demo admin key (prefix {key['prefix']})",
                      highlight=False)
    console.print(f"\nAPI docs: http://{host}:{port}/docs  (Authorize with the admin key)")
    console.print(f"dashboard: http://{host}:{port}/dashboard  (sign in with the admin key)")
    console.print(f"try: curl -H 'Authorization: Bearer {token}' "
                  f"'http://{host}:{port}/v1/payments?limit=3'", highlight=False,
                  soft_wrap=True)
    console.print("admin key:")
    print(token, flush=True)
    if serve_after:
        serve(host=host, port=port, workers=1, upkeep=True)


# -- exports and statements --------------------------------------------------------------

export_app = typer.Typer(help="Export payments, refunds, payouts, disputes or ledger postings "
                              "as CSV (to stdout, or --output FILE), with a progress bar "
                              "on stderr.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(export_app, name="export")

Output = Annotated[str | None, typer.Option("--output", metavar="FILE",
                                            help="Write to FILE instead of stdout")]
Status = Annotated[str | None, typer.Option(metavar="STATUS", help="Only this status")]
SellerFilter = Annotated[str | None, typer.Option(metavar="ID", help="Only this seller's")]
PaymentFilter = Annotated[str | None, typer.Option(metavar="ID",
                                                   help="Only this payment's (a pay_ id)")]
CurrencyFilter = Annotated[str | None, typer.Option(metavar="CODE",
                                                    help="Only this currency (USD)")]
Since = Annotated[str | None, typer.Option(
    metavar="WHEN", help="Created at or after (ISO 8601; UTC without an offset)")]
Before = Annotated[str | None, typer.Option(
    metavar="WHEN", help="Created before (ISO 8601; UTC without an offset)")]
_PRINTABLE = re.compile(r"^[\x21-\x7e]{1,200}$")


def _when(value: str | None, name: str) -> Any:
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        _usage(f"{name} {value!r} is not an ISO 8601 date or date-time")
    except OverflowError:
        _usage(f"{name} {value!r} falls outside years 1 to 9999 in UTC")


def _run_export(what: str, output: str | None, /, **filters: Any) -> None:
    """Stream ``what`` as CSV to ``output`` (or stdout) with a row counter on stderr."""
    import sys

    from paytrack.services.exports import start_export

    for name, value in filters.items():
        if isinstance(value, str) and not _PRINTABLE.match(value):
            _usage(f"--{name.replace('_', '-')} takes 1 to 200 printable ASCII characters")
    storage = open_storage()
    try:
        export = start_export(storage, what, SYSTEM, **filters)  # type: ignore[arg-type]
    except PaytrackError as exc:
        _fail(exc)
    if output is None:
        rows = _write_export(export, sys.stdout, what)
    else:
        try:
            target = open(output, "w", newline="", encoding="utf-8")  # noqa: SIM115 (with below)
        except OSError as exc:
            _usage(f"cannot write {output}: {exc.strerror}")
        try:
            with target:
                rows = _write_export(export, target, what)
        except BaseException:
            os.unlink(output)  # a half export must not pass for a whole one
            err.print(f"[red]error:[/red] the export failed; {output} removed",
                      highlight=False)
            raise
    err.print(f"exported {rows} {what} rows" + (f" to {output}" if output else ""),
              highlight=False)


def _write_export(export: Any, target: Any, what: str) -> int:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"),
               TextColumn("{task.completed} rows"), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task(f"exporting {what}", total=None)
        for chunk in export.csv_chunks(lambda n: progress.advance(task, n)):
            target.write(chunk)
        return int(progress.tasks[0].completed)


@export_app.command("payments")
def export_payments(output: Output = None, status: Status = None,
                    seller_id: SellerFilter = None,
                    customer_id: Annotated[str | None, typer.Option(
                        metavar="ID", help="Only this customer's")] = None,
                    item_id: Annotated[str | None, typer.Option(
                        metavar="ID", help="Only this item's")] = None,
                    currency: CurrencyFilter = None,
                    method: Annotated[str | None, typer.Option(
                        metavar="METHOD", help="Only this payment method")] = None,
                    gateway: Annotated[str | None, typer.Option(
                        metavar="GATEWAY", help="Only this gateway's")] = None,
                    kind: Annotated[str | None, typer.Option(
                        metavar="KIND", help="Only this kind (one_time, renewal…)")] = None,
                    created_gte: Since = None, created_lt: Before = None,
                    needs_review: Annotated[bool | None, typer.Option(
                        "--needs-review/--no-needs-review",
                        help="Only payments confirmed after a cancel or a failure, or "
                             "only the others")] = None,
                    reconciled: Annotated[bool | None, typer.Option(
                        "--reconciled/--no-reconciled",
                        help="Only payments marked reconciled, or only the others")] = None,
                    gateway_payment_id: Annotated[str | None, typer.Option(
                        metavar="ID", help="The gateway's id of the payment or checkout")]
                    = None) -> None:
    """Payments as CSV, newest first, with the filters of GET /v1/payments."""
    _run_export("payments", output, status=status, seller_id=seller_id,
                customer_id=customer_id, item_id=item_id, currency=currency, method=method,
                gateway=gateway, kind=kind,
                created_gte=_when(created_gte, "--created-gte"),
                created_lt=_when(created_lt, "--created-lt"), needs_review=needs_review,
                reconciled=reconciled, gateway_payment_id=gateway_payment_id)


@export_app.command("refunds")
def export_refunds(output: Output = None, status: Status = None,
                   payment_id: PaymentFilter = None) -> None:
    """Refunds as CSV, newest first, with the filters of GET /v1/refunds."""
    _run_export("refunds", output, status=status, payment_id=payment_id)


@export_app.command("payouts")
def export_payouts(output: Output = None, status: Status = None,
                   seller_id: SellerFilter = None, currency: CurrencyFilter = None) -> None:
    """Payouts as CSV, newest first, with the filters of GET /v1/payouts."""
    _run_export("payouts", output, status=status, seller_id=seller_id, currency=currency)


@export_app.command("disputes")
def export_disputes(output: Output = None, status: Status = None,
                    payment_id: PaymentFilter = None, seller_id: SellerFilter = None) -> None:
    """Disputes as CSV, newest first, with the filters of GET /v1/disputes."""
    _run_export("disputes", output, status=status, payment_id=payment_id,
                seller_id=seller_id)


@export_app.command("ledger")
def export_ledger(output: Output = None, payment_id: PaymentFilter = None) -> None:
    """Ledger postings as CSV, one row per posting, newest entry first."""
    _run_export("ledger", output, payment_id=payment_id)


class StatementFormat(StrEnum):
    json = "json"
    csv = "csv"
    pdf = "pdf"


@app.command()
def statement(seller: Annotated[str, typer.Argument(metavar="SELLER", help="The seller's id")],
              currency: Annotated[str, typer.Option(metavar="CODE", help="The currency")],
              start: Annotated[str, typer.Option(
                  "--from", metavar="WHEN",
                  help="The period's start, included (ISO 8601; UTC without an offset)")],
              end: Annotated[str, typer.Option(
                  "--to", metavar="WHEN",
                  help="The period's end, excluded (ISO 8601; UTC without an offset)")],
              format: Annotated[StatementFormat, typer.Option(
                  help="json, csv or pdf")] = StatementFormat.json,
              output: Output = None) -> None:
    """A seller's statement for a period: the opening balance, every ledger entry on its
    accounts with the running balance, and the closing balance."""
    import sys

    from paytrack.adapters.pdf.statement import render_statement
    from paytrack.services.exports import cell
    from paytrack.services.statements import seller_statement, statement_csv

    if not _PRINTABLE.match(seller):
        _usage("SELLER takes 1 to 200 printable ASCII characters")
    storage = open_storage()
    try:
        with storage.unit_of_work(readonly=True) as uow:
            found = seller_statement(uow, seller, SYSTEM, currency=currency,
                                     start=_when(start, "--from"), end=_when(end, "--to"))
    except PaytrackError as exc:
        _fail(exc)
    if format is StatementFormat.pdf:
        data = render_statement(found)
    elif format is StatementFormat.csv:
        data = statement_csv(found).encode()
    else:
        data = (json.dumps(found, indent=2, default=cell) + "\n").encode()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        with open(output, "wb") as target:
            target.write(data)
        err.print(f"wrote the statement to {output}", highlight=False)


ORDER_ORDER = ("confirmed", "pending", "cancelled", "partially_refunded", "refunded")
SUBSCRIPTION_ORDER = ("active", "pending_payment", "past_due", "canceled", "expired",
                      "incomplete_expired")
PAYOUT_ORDER = ("paid", "failed", "canceled", "approved", "requested")
DISPUTE_ORDER = ("won", "lost", "under_review", "open")


def _counts(counts: dict[str, int], order: tuple[str, ...]) -> str:
    """``{"paid": 90, "failed": 4}`` as "90 paid, 4 failed", in ``order``."""
    shown = [f"{counts[k]} {k.replace('_', ' ')}" for k in order if counts.get(k)]
    return ", ".join(shown) or "none"


def _port_is_free(host: str, port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            _usage(f"cannot serve on {host}:{port} ({exc.strerror}): is paytrack already "
                   f"running there? Pick another with --port")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
