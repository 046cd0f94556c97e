"""The layering of DESIGN.md holds: import-linter contracts, and no textual outside app.ui at runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.store import Store
from tests.conftest import ROOT
from tests.storefill import incoming


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


def test_the_engine_loads_oauth_libraries_only_for_an_oauth_mailbox():
    """MSAL and google-auth cost ~0.1 s at every start of the engine, the doctor or `replydesk
    reply`; they load when a Google or Microsoft mailbox first needs a token, not before."""
    code = ("import sys, app.engine, app.commands.reply, app.commands.doctor, app.auth.credentials; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'msal', 'google', 'google_auth_oauthlib'}))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


HEAVY = ("textual", "rich", "pydantic", "pymap", "aiosmtpd", "aioimaplib", "aiosmtplib", "msal", "google", "google_auth_oauthlib",
         "sqlite_utils", "numpy", "psycopg", "app.ui", "app.imap", "app.smtp", "app.engine", "app.demo", "app.mail.classify")
"""Libraries and layers a command that only reads the store or prints help never needs: the TUI,
the protocol and OAuth libraries, the demo's servers, the engine, the classifier, and (once the
config was validated by an earlier command) the config's validator."""


@pytest.mark.parametrize("argv", [["--help"], ["list", "--limit", "50"], ["list", "--json"], ["export"],
                                  ["export", "leads"], ["accounts", "list"]])
def test_a_quick_command_loads_only_what_it_needs(tmp_path, argv):
    """`replydesk list`, `--help`, `export` and `accounts list` start without the TUI, the demo's
    servers, the engine or the protocol and OAuth libraries (and they still do their work)."""
    db = tmp_path / "rd.db"
    store = Store(db)
    store.ensure_account("box", "box@sender.example")
    store.add_messages("box", [incoming(1, "<m1@x>", "Re: pricing", "ann@prospect.example")])
    store.close()
    config = tmp_path / "c.toml"
    config.write_text(f'[general]\ndatabase = "{db}"\n\n[[accounts]]\nid = "box"\nemail = "box@sender.example"\n'
                      'provider = "generic"\npassword_env = "NONE"\n[accounts.imap]\nhost = "127.0.0.1"\n'
                      '[accounts.smtp]\nhost = "127.0.0.1"\n')
    code = ("import sys, json\nfrom app.cli import main\ntry:\n    code = main(sys.argv[1:])\n"
            "except SystemExit as exc:\n    code = exc.code\n"
            f"heavy = {HEAVY!r}\n"
            "print('MODULES', json.dumps([code, sorted(m for m in sys.modules "
            "if any(m == h or m.startswith(h + '.') for h in heavy))]))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "list"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, env=env)
    assert first.returncode == 0, first.stderr
    proc = subprocess.run([sys.executable, "-c", code, "--config", str(config), *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    out, _, report = proc.stdout.rpartition("MODULES ")
    exit_code, loaded = json.loads(report)
    assert exit_code in (0, None), proc.stderr
    assert loaded == []
    if argv[0] == "list":
        assert "pricing" in out
    elif argv[0] == "--help":
        assert "list" in out and "export" in out
    elif argv[0] == "accounts":
        assert out.startswith("box ") and "password" in out


def test_the_inbox_attached_to_a_running_engine_does_not_load_the_engine():
    """`replydesk` next to a running `replydesk sync` only reads the store: the engine, the
    protocol libraries and the classifier are left out (they load when it runs the engine itself)."""
    code = ("import sys, json, app.commands.tui, app.ui\n"
            "heavy = ('app.engine', 'app.imap', 'app.smtp', 'aioimaplib', 'aiosmtplib', 'msal', 'google', "
            "'app.mail.classify', 'sqlite_utils', 'numpy', 'pydantic')\n"
            "print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy))))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
