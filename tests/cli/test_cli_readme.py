"""The README's command table shows every command with every option it takes."""

import re
from pathlib import Path
from typing import Any

import typer.main

from paytrack.entrypoints.cli import app

README = Path(__file__).parents[2] / "README.md"


def commands(group: Any, prefix: str = "paytrack") -> dict[str, Any]:
    """Every command under ``group`` by its full name (Typer's own click, so duck-typed)."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found |= commands(command, f"{prefix} {name}")
        else:
            found[f"{prefix} {name}"] = command
    return found


def test_every_command_and_option_is_in_the_readme():
    spans = re.findall(r"`(paytrack [^`]+)`", README.read_text())
    listed = commands(typer.main.get_command(app))
    assert {"paytrack demo", "paytrack keys create", "paytrack ledger verify"} <= set(listed)
    for name, command in listed.items():
        shown = [s for s in spans if s == name or s.startswith(f"{name} ")]
        assert shown, f"`{name}` is not in the README's command table"
        options = {opt for p in command.params if p.param_type_name == "option"
                   for opt in p.opts if opt.startswith("--") and opt != "--help"}
        missing = {o for o in options if not any(re.search(rf"{o}\b", s) for s in shown)}
        assert not missing, f"`{name}` in the README lacks {sorted(missing)}"
