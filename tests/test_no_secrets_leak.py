"""No password or token appears in any database, log file or config replydesk writes.

This test runs a scenario of its own (CSV import, accounts add, a doctor run with a refused
password) and scans what it wrote. The whole suite's files are scanned again when the session
ends, by the ``no_secret_on_disk`` fixture in conftest.py, whatever order the tests ran in
(and in each parallel worker).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from app.cli import main
from tests.conftest import SECRETS, leaks_under, scanned_files
from tests.oauth_fakes import file_keyring  # noqa: F401  (fixture)


def own_scenario(tmp_path: Path, dovecot, smtp_server, users, monkeypatch) -> Path:
    user = users(1, prefix="leak")[0]
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndatabase = "{tmp_path / "replydesk.db"}"\n')
    csv_path = tmp_path / "export.csv"
    rows = ["email,imap_host,imap_port,imap_password,smtp_host,smtp_port,smtp_password"]
    for i in range(2):
        imap_pw, smtp_pw = f"leak-imap-{i}-{os.getpid()}", f"leak-smtp-{i}-{os.getpid()}"
        SECRETS.update({imap_pw, smtp_pw})
        rows.append(f"leak{i}@example.org,{dovecot.host},{dovecot.imaps_port},{imap_pw},{dovecot.host},"
                    f"{smtp_server.port},{smtp_pw}")
    csv_path.write_text("\n".join(rows) + "\n")
    assert main(["accounts", "import", "--config", str(config), str(csv_path)]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(user.password + "\n"))
    assert main(["accounts", "add", "--config", str(config), "--email", user.email, "--provider", "generic",
                 "--name", "Leak", "--imap-host", dovecot.host, "--imap-port", str(dovecot.imaps_port),
                 "--smtp-host", dovecot.host, "--smtp-port", str(smtp_server.port),
                 "--ca-file", str(dovecot.ca_file), "--password-stdin"]) == 0
    # the imported accounts log in with passwords Dovecot does not know: doctor reports, never echoes them
    assert main(["doctor", "--config", str(config), "--timeout", "5"]) == 1
    assert main(["accounts", "list", "--config", str(config)]) == 0
    return config


def test_no_password_or_token_in_databases_logs_or_configs(tmp_path, dovecot, smtp_server,
                                                           users, file_keyring, monkeypatch, capsys):
    own_config = own_scenario(tmp_path, dovecot, smtp_server, users, monkeypatch)
    out, err = capsys.readouterr()
    secrets = {s for s in SECRETS if len(s) >= 8}
    assert not [s for s in secrets if s in out or s in err], "a secret was printed by the CLI"

    files = scanned_files(tmp_path)
    assert own_config in files and any(f.suffix == ".db" for f in files)
    leaks = leaks_under(tmp_path, secrets)
    assert not leaks, "secrets found on disk:\n" + "\n".join(leaks)
