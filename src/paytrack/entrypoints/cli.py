"""The ``paytrack`` command."""

from __future__ import annotations

import re
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from paytrack.config import Settings
from paytrack.domain.actors import SYSTEM
from paytrack.domain.errors import NotFound, PaytrackError, ValidationFailed
from paytrack.entrypoints.bootstrap import open_storage

app = typer.Typer(help="paytrack: payment tracking and a revenue ledger for marketplaces.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
ledger_app = typer.Typer(help="Prove the ledger.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(ledger_app, name="ledger")
console = Console()
err = Console(stderr=True)

Host = Annotated[str, typer.Option(help="Interface to listen on")]
Port = Annotated[int, typer.Option(help="Port to listen on")]


def _fail(exc: PaytrackError) -> None:
    err.print(f"[red]error:[/red] {exc.detail}")
    raise typer.Exit(2)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (PAYTRACK_DATABASE_URL, default a SQLite file)."""
    settings = Settings()
    open_storage(settings)
    console.print(f"database is up to date: {_safe_url(settings.database_url)}")


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000,
          workers: Annotated[int, typer.Option(help="Server processes")] = 1) -> None:
    """Serve the API (and its docs at /docs), migrating the database first."""
    import uvicorn

    settings = Settings()
    open_storage(settings)
    console.print(f"paytrack on http://{host}:{port}  (docs: http://{host}:{port}/docs, "
                  f"database: {_safe_url(settings.database_url)})")
    uvicorn.run("paytrack.entrypoints.asgi:app", host=host, port=port, workers=workers,
                log_level="info")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, seller or customer")],
    seller_id: Annotated[str | None, typer.Option(help="The seller a seller key is bound to")]
    = None,
    customer_id: Annotated[str | None, typer.Option(help="The customer a customer key is "
                                                         "bound to")] = None,
    name: Annotated[str | None, typer.Option(help="A label for people")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Create the seller or customer "
                                      "if paytrack has not seen it yet")] = False,
) -> None:
    """Create an API key. The key is printed once, alone on the last line."""
    from paytrack.services.keys import create_key

    party = {"seller": ("seller", seller_id), "customer": ("customer", customer_id)}.get(role)
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


def _known_or_created(uow, kind: str, party_id: str, *, create: bool) -> bool:
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
def keys_list() -> None:
    """List API keys (prefixes only; secrets are never stored)."""
    from paytrack.services.keys import list_keys

    storage = open_storage()
    with storage.unit_of_work(readonly=True) as uow:
        keys = list_keys(uow, SYSTEM)
    table = Table("id", "prefix", "role", "bound to", "name", "created", "revoked")
    # Prefixes are copied to find or revoke a key: never wrapped; a narrow terminal folds
    # the id over lines rather than cut it.
    table.columns[0].overflow = "fold"
    table.columns[1].no_wrap = True
    for k in keys:
        table.add_row(k["id"], k["prefix"], k["role"], k["seller_id"] or k["customer_id"] or "",
                      k["name"] or "", f"{k['created_at']:%Y-%m-%d %H:%M}",
                      f"{k['revoked_at']:%Y-%m-%d %H:%M}" if k["revoked_at"] else "")
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id or prefix")]) -> None:
    """Revoke a key: it is refused from the next request on."""
    from paytrack.services.keys import revoke_key

    storage = open_storage()
    try:
        with storage.unit_of_work() as uow:
            key = revoke_key(uow, key_id, SYSTEM)
            uow.commit()
    except PaytrackError as exc:
        _fail(exc)
    console.print(f"revoked {key['id']} (prefix {key['prefix']})")


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
    if not report["ok"]:
        console.print("[red]ledger verify failed[/red]")
        raise typer.Exit(1)
    console.print("ledger verified: every balance matches its postings")


@ledger_app.command("rebuild")
def ledger_rebuild() -> None:
    """Rewrite running balances from postings (the postings are the truth)."""
    from paytrack.services.ledger import rebuild_balances

    storage = open_storage()
    with storage.unit_of_work() as uow:
        corrections = rebuild_balances(uow, SYSTEM)
        uow.commit()
    for c in corrections:
        console.print(f"corrected {c['code']} {c['currency']}: {c['stored']} -> {c['expected']}")
    console.print(f"{len(corrections)} balance(s) corrected")


@app.command()
def worker(interval: Annotated[float, typer.Option(help="Seconds between rounds")] = 5.0,
           once: Annotated[bool, typer.Option(help="Run one round and exit")] = False) -> None:
    """Background upkeep: fold balance deltas, purge expired idempotency keys."""
    from paytrack.services.idempotency import purge_expired
    from paytrack.services.ledger import fold_balances

    storage = open_storage()
    while True:
        with storage.unit_of_work() as uow:
            folded = fold_balances(uow)
            purged = purge_expired(uow)
            uow.commit()
        if folded or purged or once:
            console.print(f"folded {folded} balance deltas, purged {purged} idempotency keys")
        if once:
            return
        time.sleep(interval)


@app.command()
def demo(
    payments: Annotated[int, typer.Option(help="How many payments to create")] = 4000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve",
                                              help="Start the server afterwards")] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Load a realistic marketplace (a year of payments, refunds, several currencies), create
    an admin key, and print where to look."""
    from paytrack.entrypoints.demo import load_demo
    from paytrack.services.keys import create_key
    from paytrack.services.payments import list_payments

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
    with storage.unit_of_work() as uow:
        _, token = create_key(uow, "admin", SYSTEM, name="demo admin")
        uow.commit()
    console.print(f"\nAPI docs: http://{host}:{port}/docs  (Authorize with the admin key)")
    console.print(f"try: curl -H 'Authorization: Bearer {token}' "
                  f"http://{host}:{port}/v1/payments?limit=3", highlight=False, soft_wrap=True)
    console.print("admin key:")
    print(token, flush=True)
    if serve_after:
        serve(host=host, port=port, workers=1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
