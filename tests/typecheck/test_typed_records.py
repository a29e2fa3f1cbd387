"""A misspelt key of a payment, a refund or any other record is found by the type checker,
before anything runs (issue 8, item 11).

mypy checks ``misspelt_keys.py``, whose functions read records from real services and
repositories with misspelt keys, and must report exactly the errors marked there. Without
typed records those functions would return ``dict[str, Any]`` and mypy would report none.
With a warm cache (``.ci/run`` runs mypy first) this takes well under a second; cold, a few.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).with_name("misspelt_keys.py")
MARK = re.compile(r"#\s*E:\s*(?P<message>.+)$")


def _marked() -> dict[int, str]:
    lines = CASES.read_text().splitlines()
    return {n: m["message"].strip() for n, line in enumerate(lines, 1)
            if (m := MARK.search(line))}


def _mypy_errors() -> dict[int, str]:
    path = CASES.relative_to(ROOT).as_posix()
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml",
         "--no-error-summary", "--hide-error-context", path],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    error = re.compile(rf"^{re.escape(path)}:(\d+): error: (.*)$")
    found = {int(m[1]): m[2] for line in result.stdout.splitlines()
             if (m := error.match(line))}
    assert result.returncode == 1, result.stdout + result.stderr
    return found


def test_mypy_refuses_every_misspelt_record_key_and_nothing_else() -> None:
    marked, found = _marked(), _mypy_errors()
    assert len(marked) >= 7
    assert sorted(found) == sorted(marked), found
    for line, message in marked.items():
        assert message in found[line], (line, found[line])
