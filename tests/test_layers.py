"""The layering of DESIGN.md holds: import-linter contracts, and no textual outside app.ui at runtime."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_import_linter_contracts_hold():
    proc = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                           "lint_imports_command()"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" not in proc.stdout.lower().replace("0 broken", "")


def test_engine_and_cli_list_do_not_load_textual():
    code = ("import sys, app.config, app.store, app.mail, app.commands.list; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
