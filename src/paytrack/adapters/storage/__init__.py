"""Storage: SQLAlchemy 2 Core tables, the unit of work, repositories and migrations.

Services see one name from here, ``uow.UnitOfWork``; entrypoints make a ``uow.Storage``
over an engine from ``db.make_engine``. Underneath, from the top down:

- ``uow``: ``Storage`` (what lives as long as the process) and ``UnitOfWork`` (one
  transaction, rolled back unless committed), which holds the repositories;
- repositories, one per kind of record: ``payments`` (payments and refunds), ``ledger``,
  ``parties`` (customers, sellers, items), ``history`` (status history and audit log),
  ``keys`` (API keys and idempotency keys);
- ``appender``: the inserts a unit of work holds back and writes in as few round trips
  as it can, built from ``row_buffer``, ``flush_postgres``, ``flush_sqlite`` and
  ``lazy_transaction``;
- ``db`` (engines), ``tables`` (the schema), ``errors`` (constraint violations as domain
  errors), ``sql`` (dialect helpers), ``migrate`` and ``migrations/``.
"""
