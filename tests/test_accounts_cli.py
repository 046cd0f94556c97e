"""`replydesk accounts`: add, import (hundreds of rows, all or nothing), list with health, remove."""

from __future__ import annotations

import asyncio
import io
import tomllib

import keyring
import keyring.backends.fail
import pytest

from app.auth.secrets import get_secret
from app.cli import main
from app.config import load_config
from app.store import Store
from tests.conftest import SECRETS
from tests.oauth_fakes import file_keyring  # noqa: F401  (fixture)
from tests.storefill import account_in

USER_CONFIG = """# my replydesk config — keep this comment
[general]
database = "{db}"

# the first mailbox, by hand
[[accounts]]
id = "first"
email = "first@acme.io"
provider = "google"   # app password in the keyring

[keymap]
# interested = "I"
"""


def run(argv, monkeypatch, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(USER_CONFIG.format(db=tmp_path / "replydesk.db"))
    return path


def test_add_appends_the_account_and_keeps_the_password_in_the_keyring(cfg, file_keyring, monkeypatch, capsys):
    SECRETS.add("s3cret-added-pw")
    code = run(["accounts", "add", "--config", str(cfg), "--email", "ana@outreach.io", "--provider", "generic",
                "--name", "Ana Reyes", "--id", "ana", "--imap-host", "mail.outreach.io",
                "--smtp-host", "mail.outreach.io", "--smtp-port", "465", "--smtp-security", "tls",
                "--password-stdin"], monkeypatch, stdin="s3cret-added-pw\n")
    assert code == 0, capsys.readouterr().err
    text = cfg.read_text()
    assert text.startswith(USER_CONFIG.format(db=cfg.parent / "replydesk.db"))  # comments and layout kept
    assert "s3cret-added-pw" not in text
    config = load_config(cfg)
    ana = config.account("ana")
    assert (ana.name, ana.imap.port, ana.smtp.port, ana.smtp.security) == ("Ana Reyes", 993, 465, "tls")
    assert asyncio.run(get_secret(ana)) == "s3cret-added-pw"
    assert "replydesk doctor ana" in capsys.readouterr().out

    # the same account again: refused, nothing changed
    code = run(["accounts", "add", "--config", str(cfg), "--email", "ana@outreach.io", "--provider", "google",
                "--id", "ana", "--password-stdin"], monkeypatch, stdin="other\n")
    assert code == 2
    assert "duplicate account id 'ana'" in capsys.readouterr().err
    assert cfg.read_text() == text
    assert asyncio.run(get_secret(ana)) == "s3cret-added-pw"


def test_add_creates_a_missing_config(tmp_path, file_keyring, monkeypatch, capsys):
    path = tmp_path / "new" / "config.toml"
    code = run(["accounts", "add", "--config", str(path), "--email", "bo@acme.io", "--provider", "google",
                "--name", "", "--password-env", "BO_PW"], monkeypatch)
    assert code == 0, capsys.readouterr().err
    assert load_config(path).account("bo@acme.io").password_env == "BO_PW"


HEADER = ("Email,From Name,IMAP Host,IMAP Port,IMAP Username,IMAP Password,SMTP Host,SMTP Port,"
          "SMTP Username,SMTP Password,Daily Limit\n")


def csv_rows(n):
    rows = []
    for i in range(n):
        smtp_pw = f"imap-pw-{i:03d}-x" if i % 10 else f"smtp-pw-{i:03d}-y"  # every tenth differs
        rows.append(f"sdr{i}@send{i % 7}.io,SDR {i},mail.send{i % 7}.io,993,sdr{i}@send{i % 7}.io,"
                    f"imap-pw-{i:03d}-x,mail.send{i % 7}.io,587,sdr{i}@send{i % 7}.io,{smtp_pw},40\n")
        SECRETS.update({f"imap-pw-{i:03d}-x", smtp_pw})
    return rows


def test_import_200_accounts_from_a_platform_export(cfg, tmp_path, file_keyring, monkeypatch, capsys):
    csv_path = tmp_path / "mailboxes.csv"
    csv_path.write_text(HEADER + "".join(csv_rows(200)))
    before = cfg.read_text()
    assert run(["accounts", "import", "--config", str(cfg), str(csv_path)], monkeypatch) == 0
    out, err = capsys.readouterr()
    assert "imported 200 accounts" in out
    assert "ignoring columns: Daily Limit" in err
    text = cfg.read_text()
    assert text.startswith(before)
    assert "pw-" not in text  # no password went into the config
    config = load_config(cfg)
    assert len(config.accounts) == 201
    acc = config.account("sdr10@send3.io")
    assert (acc.imap.host, acc.imap.security, acc.smtp.port, acc.smtp.security) == \
        ("mail.send3.io", "tls", 587, "starttls")
    assert acc.name == "SDR 10"
    assert asyncio.run(get_secret(acc, "imap")) == "imap-pw-010-x"
    assert asyncio.run(get_secret(acc, "smtp")) == "smtp-pw-010-y"
    assert asyncio.run(get_secret(config.account("sdr11@send4.io"), "smtp")) == "imap-pw-011-x"
    assert keyring.get_password("replydesk", "sdr11@send4.io:smtp") is None  # same password: one entry


def test_import_with_bad_rows_reports_each_line_and_imports_nothing(cfg, tmp_path, file_keyring, monkeypatch,
                                                                    capsys):
    rows = csv_rows(6)
    rows[1] = rows[1].replace(",SDR 1,", ',"SDR 1\nsecond line of a quoted name",')  # a row over two lines
    rows[2] = rows[2].replace(",993,", ",99x3,")           # line 5 (after the two-line row)
    rows[4] = "," + rows[4].split(",", 1)[1]               # line 7: no email
    rows.append(rows[0])                                   # line 9: duplicate of line 2
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(HEADER + "".join(rows))
    before = cfg.read_text()
    assert run(["accounts", "import", "--config", str(cfg), str(csv_path)], monkeypatch) == 1
    err = capsys.readouterr().err.splitlines()
    assert f"{csv_path}:5: imap_port: expected a port number 1-65535, got '99x3'" in err
    assert f"{csv_path}:7: email: missing" in err
    assert f"{csv_path}:9: duplicate sdr0@send0.io (first on line 2)" in err
    assert any("nothing imported" in line for line in err)
    assert cfg.read_text() == before
    assert keyring.get_password("replydesk", "sdr3@send3.io") is None


def test_import_without_a_keyring_says_what_to_do_and_imports_nothing(cfg, tmp_path, monkeypatch, capsys):
    csv_path = tmp_path / "mailboxes.csv"
    csv_path.write_text(HEADER + "".join(csv_rows(3)))
    before = cfg.read_text()
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        assert run(["accounts", "import", "--config", str(cfg), str(csv_path)], monkeypatch) == 1
    finally:
        keyring.set_keyring(previous)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "no keyring backend is available" in err and "password_command" in err
    assert "keyrings.cryptfile" in err and "nothing imported" in err
    assert cfg.read_text() == before


def test_list_shows_health_and_remove_takes_out_one_block(cfg, tmp_path, file_keyring, monkeypatch, capsys):
    csv_path = tmp_path / "two.csv"
    csv_path.write_text(HEADER + "".join(csv_rows(3)))
    assert run(["accounts", "import", "--config", str(cfg), str(csv_path)], monkeypatch) == 0
    config = load_config(cfg)
    store = Store(config.database)
    store.ensure_account("sdr1@send1.io", "sdr1@send1.io")
    account_in(store, "sdr1@send1.io", "auth_failed", error="IMAP login failed: [AUTHENTICATIONFAILED]",
                            hint="check the username and password")
    store.close()
    capsys.readouterr()
    assert run(["accounts", "list", "--config", str(cfg)], monkeypatch) == 0
    listed = capsys.readouterr()
    lines = listed.out.splitlines()
    assert len(lines) == 4
    # the test keyring is keyrings.alt's plaintext file: the user is told
    assert "keeps passwords unencrypted on disk" in listed.err and "PlaintextKeyring" in listed.err
    bad = next(line for line in lines if line.startswith("sdr1@send1.io"))
    assert "auth_failed" in bad and "AUTHENTICATIONFAILED" in bad and "check the username" in bad
    assert "new" in next(line for line in lines if line.startswith("sdr0@"))

    assert run(["accounts", "remove", "--config", str(cfg), "sdr1@send1.io"], monkeypatch) == 0
    text = cfg.read_text()
    assert "sdr1@send1.io" not in text and "sdr0@send0.io" in text and "sdr2@send2.io" in text
    assert "# my replydesk config — keep this comment" in text and "# interested" in text
    data = tomllib.loads(text)
    assert [a["email"] for a in data["accounts"]] == ["first@acme.io", "sdr0@send0.io", "sdr2@send2.io"]
    assert keyring.get_password("replydesk", "sdr1@send1.io") is None
    assert keyring.get_password("replydesk", "sdr0@send0.io") == "imap-pw-000-x"
    store = Store(config.database)
    assert store.account_row("sdr1@send1.io") is None
    store.close()
    assert run(["accounts", "remove", "--config", str(cfg), "nobody"], monkeypatch) == 2
    assert "no account 'nobody'" in capsys.readouterr().err


def test_password_stores_a_new_secret(cfg, file_keyring, monkeypatch, capsys):
    SECRETS.add("new-app-password")
    assert run(["accounts", "password", "--config", str(cfg), "first", "--password-stdin"], monkeypatch,
               stdin="new-app-password\n") == 0
    assert asyncio.run(get_secret(load_config(cfg).account("first"))) == "new-app-password"
    assert "new-app-password" not in cfg.read_text()


def test_import_a_smartlead_style_export(cfg, tmp_path, file_keyring, monkeypatch, capsys):
    SECRETS.update({"smtp-pass-one", "imap-pass-one"})
    csv_path = tmp_path / "smartlead.csv"
    csv_path.write_text(
        "from_name,from_email,user_name,password,smtp_host,smtp_port,imap_host,imap_port,"
        "max_email_per_day,imap_user_name,imap_password\n"
        "Jo Doe,jo@sl.io,jo@sl.io,smtp-pass-one,smtp.sl.io,465,imap.sl.io,993,50,jo-imap,imap-pass-one\n")
    assert run(["accounts", "import", "--config", str(cfg), str(csv_path)], monkeypatch) == 0
    assert "ignoring columns: max_email_per_day" in capsys.readouterr().err
    acc = load_config(cfg).account("jo@sl.io")
    assert (acc.name, acc.imap.username, acc.smtp.username, acc.smtp.security) == \
        ("Jo Doe", "jo-imap", "jo@sl.io", "tls")
    assert asyncio.run(get_secret(acc, "imap")) == "imap-pass-one"
    assert asyncio.run(get_secret(acc, "smtp")) == "smtp-pass-one"
