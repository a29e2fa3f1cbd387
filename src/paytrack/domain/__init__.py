"""Pure business rules: money, ledger, state machines, errors. No framework imports."""
