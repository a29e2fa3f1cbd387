"""paytrack: payment tracking and a revenue ledger for marketplaces."""

__version__ = "0.1.0"
