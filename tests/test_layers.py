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


def test_a_subcommand_loads_only_its_own_libraries(tmp_path):
    """`replydesk list` starts without the TUI, the demo's servers or the protocol libraries."""
    config = tmp_path / "c.toml"
    config.write_text(f'[general]\ndatabase = "{tmp_path / "rd.db"}"\n')
    code = ("import sys; from app.cli import main; main(['--config', sys.argv[1], 'list', '--json']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'pymap', 'aiosmtpd', 'aioimaplib', 'aiosmtplib', 'msal')))")
    proc = subprocess.run([sys.executable, "-c", code, str(config)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
