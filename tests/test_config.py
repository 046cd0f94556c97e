"""Config: presets fill the gaps, and a wrong config is one line naming file, key and expectation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import config_cache
from app.config import PRESETS, load_config, parse_config
from app.errors import ConfigError
from tests.conftest import ROOT


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env)


def test_example_config_is_valid_and_shows_three_providers():
    cfg = load_config(ROOT / "config.example.toml")
    providers = {a.provider for a in cfg.accounts}
    assert {"google", "microsoft", "generic"} <= providers
    google = cfg.account("ana")
    assert (google.imap.host, google.imap.port, google.imap.security) == ("imap.gmail.com", 993, "tls")
    assert google.folders["sent"] == "[Gmail]/Sent Mail" and google.smtp_saves_sent
    ms = cfg.account("ben@acme-mail.com")
    assert (ms.smtp.host, ms.smtp.port, ms.smtp.security) == ("smtp.office365.com", 587, "starttls")
    assert ms.folders["junk"] == "Junk Email"
    assert set(cfg.templates) == {"calendar", "pricing"}


def test_security_without_port_picks_the_standard_port():
    cfg = parse_config({"accounts": [{"email": "a@x.io", "provider": "generic",
                                      "imap": {"host": "h", "security": "starttls"},
                                      "smtp": {"host": "h", "security": "tls"}}]})
    acc = cfg.accounts[0]
    assert (acc.imap.port, acc.smtp.port) == (143, 465)
    assert acc.imap.username == "a@x.io" and acc.id == "a@x.io"


_MAILBOX = {"email": "a@x.io", "provider": "generic", "imap": {"host": "h"}, "smtp": {"host": "h"}}
_ENV = {**_MAILBOX, "password_env": "A_PW"}
_PG = "postgresql://sdr@db.example/replydesk"


@pytest.mark.parametrize("raw, reads", [
    ({"accounts": [_ENV]}, False),
    ({"accounts": [{**_MAILBOX, "password_command": "pass show mail/a"}]}, False),
    ({"accounts": [_ENV, {**_MAILBOX, "email": "b@x.io", "enabled": False}]}, True),  # its password is kept there
    ({"accounts": [{**_MAILBOX, "auth": "oauth2", "password_env": "A_TOKEN"}]}, False),
    ({"accounts": [{**_MAILBOX, "auth": "oauth2"}]}, True),  # the tokens
    ({"accounts": [_ENV], "sequencers": [{"type": "instantly", "key_env": "I_KEY"}]}, False),
    ({"accounts": [_ENV], "sequencers": [{"type": "smartlead"}]}, True),
    ({"accounts": [_ENV], "webhooks": [{"url": "https://hooks.example/r", "secret_command": "pass show hook"}]}, False),
    ({"accounts": [_ENV], "webhooks": [{"url": "https://hooks.example/r"}]}, True),
    ({"general": {"database": _PG}, "accounts": [_ENV]}, True),
    ({"general": {"database": _PG, "database_password_command": "pass show db"}, "accounts": [_ENV]}, False),
])
def test_the_keyring_is_looked_at_only_when_a_secret_can_come_from_it(raw, reads):
    """Which keyring is in use (for the warning about one that keeps secrets unencrypted) is found
    by importing its backends: the engine, the doctor and ``accounts list`` ask only when a
    secret the config names can be in it."""
    assert parse_config(raw).reads_keyring is reads


@pytest.mark.parametrize("toml, expected", [
    ('[general]\nidle_refresh_minutes = "soon"\n', "general.idle_refresh_minutes: expected a valid number"),
    ('[general]\nidle_refesh_minutes = 5\n', "general.idle_refesh_minutes: unknown key"),
    ('[[accounts]]\nemail = "a@x.io"\n', "accounts[0].imap.host: required for provider 'generic'"),
    ('[[accounts]]\nemail = "a@x.io"\nprovider = "gmail"\n', "accounts[0].provider: expected 'google'"),
    ('[[accounts]]\nemail = "a@x.io"\nprovider = "google"\n[accounts.imap]\nport = 99999\n',
     "accounts[0].imap.port: expected"),
    ('[[accounts]]\nemail = "a@x.io"\nprovider = "google"\n[accounts.imap]\nsecurity = "ssl"\n',
     "accounts[0].imap.security: expected 'tls' or 'starttls'"),
    ('[[accounts]]\nprovider = "google"\n', "accounts[0].email: required key is missing"),
    ('[[accounts]]\nemail = "a@x.io"\nprovider = "google"\n[[accounts]]\nemail = "a@x.io"\nprovider = "google"\n',
     "duplicate account id 'a@x.io'"),
    ("[general\n", "invalid TOML"),
    ('[general]\ndatabase = "postgresql://sdr:hunter2@db.example/replydesk"\n',
     "general.database: the URL holds a password"),
    ('[general]\ndatabase = "postgresql:/sdr@db.example/replydesk"\n',
     "general.database: 'postgresql:/sdr@db.example/replydesk' is neither a file nor a postgresql://"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, toml: str, expected: str):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)
    proc = run_cli("--config", str(path), "list", "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in proc.stderr


def test_missing_explicit_config_is_an_error(tmp_path: Path):
    proc = run_cli("--config", str(tmp_path / "nope.toml"), "list")
    assert proc.returncode == 2 and "config file not found" in proc.stderr


def test_config_from_environment_variable(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text('[general]\ndatabase = "rd.db"\n')
    import os

    from app.store import Store
    from tests.storefill import incoming
    store = Store(tmp_path / "rd.db")  # the database that config names, with one reply in it
    store.add_messages("a", [incoming(1, "<r1@p>", "Re: pricing", "bob@p.example", received_at=100.0)])
    store.close()
    env = dict(os.environ, REPLYDESK_CONFIG=str(path))
    proc = run_cli("list", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["from"] for line in proc.stdout.splitlines()] == ["bob@p.example"]


def test_example_config_lists_as_json_with_exit_zero(tmp_path: Path):
    import os
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path))  # keep the default database out of $HOME
    proc = run_cli("--config", str(ROOT / "config.example.toml"), "list", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_setting_a_general_key_keeps_the_rest_of_the_file(tmp_path):
    from app.config_file import set_general

    path = tmp_path / "c.toml"
    path.write_text('# accounts of the agency\n[[accounts]]\nemail = "a@x.example"\nprovider = "google"\n')
    set_general(path, "theme", "replydesk-light")
    assert path.read_text().startswith('[general]\ntheme = "replydesk-light"\n\n# accounts of the agency\n')
    assert load_config(path).general.theme == "replydesk-light"
    set_general(path, "theme", "replydesk-contrast")  # the line is replaced, not added twice
    assert path.read_text().count("theme =") == 1
    assert load_config(path).general.theme == "replydesk-contrast"
    assert load_config(path).accounts[0].email == "a@x.example"


def test_a_general_key_the_edit_cannot_place_safely_leaves_the_file_alone(tmp_path):
    from app.config_file import set_general

    path = tmp_path / "c.toml"
    odd = 'general.theme = "replydesk-dark"\n'  # dotted keys: a layout the line edit does not read
    path.write_text(odd)
    with pytest.raises(ConfigError, match="set it by hand"):
        set_general(path, "theme", "replydesk-light")
    assert path.read_text() == odd


def test_a_template_with_an_unknown_placeholder_is_one_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[templates]\nhello = "Hi {firstname},"\n')
    proc = run_cli("--config", str(cfg), "list")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"replydesk: {cfg}: templates.hello: unknown placeholder {{firstname}} (known: first_name, name, "
        "email, company, subject, referral, my_name, my_first_name, my_email)"]


def test_provider_facts_in_the_presets():
    data = {"accounts": [
        {"email": "g@acme.io", "provider": "google"},
        {"email": "m@acme.io", "provider": "microsoft", "auth": "oauth2"},
        {"email": "x@acme.io", "provider": "generic", "imap": {"host": "h"}, "smtp": {"host": "h"}},
        {"email": "y@acme.io", "provider": "google", "max_connections": 4},
    ]}
    google, microsoft, generic, lower = parse_config(data).accounts
    assert (google.max_connections, microsoft.max_connections, generic.max_connections) == (15, 20, 10)
    assert lower.max_connections == 4
    assert google.smtp_saves_sent and microsoft.smtp_saves_sent  # no APPEND to Sent after sending
    assert google.folders["archive"] == "[Gmail]/All Mail"  # the archive: never synced as a folder
    assert not PRESETS["microsoft"].password_imap
    with pytest.raises(ConfigError, match="idle_refresh_minutes"):
        parse_config({"general": {"idle_refresh_minutes": 29}})  # Gmail ends IDLE at 29 minutes


def test_a_config_read_before_is_not_validated_again_but_every_change_is(tmp_path: Path, monkeypatch):
    """The validated config is kept between commands; whatever changes in the file is seen (a new
    value, a mistake), and a kept config is only ever the one validated from the same bytes."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "config.toml"
    path.write_text('[general]\ndatabase = "a.db"\nidle_refresh_minutes = 5\n')
    assert load_config(path).general.idle_refresh_minutes == 5
    assert list((tmp_path / "cache").rglob("*.pickle"))
    cached = load_config(path)
    assert cached.general.idle_refresh_minutes == 5 and cached.database == tmp_path / "a.db"

    path.write_text('[general]\ndatabase = "a.db"\nidle_refresh_minutes = 7\n')
    assert load_config(path).general.idle_refresh_minutes == 7
    path.write_text('[general]\ndatabase = "a.db"\nidle_refresh_minutes = "soon"\n')
    with pytest.raises(ConfigError, match="idle_refresh_minutes"):
        load_config(path)
    with pytest.raises(ConfigError, match="idle_refresh_minutes"):
        load_config(path)
    path.write_text('[general]\ndatabase = "a.db"\nidle_refresh_minutes = 7\n')
    assert load_config(path).general.idle_refresh_minutes == 7


def test_the_config_cache_keeps_the_configs_used_last_and_no_more(tmp_path: Path, monkeypatch):
    # each temporary config (a demo's, a script's) leaves an entry: past the cap, those used
    # longest ago go, and the ones in use are still read from the cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    paths = []
    for i in range(config_cache.KEEP + 5):
        path = tmp_path / f"config-{i}.toml"
        path.write_text(f'[general]\nidle_refresh_minutes = {5 + i % 20}\n')
        load_config(path)
        entry = config_cache._entry(path)
        used = time.time() - 1000 + i  # in the order they were used
        os.utime(entry, (used, used))
        paths.append(path)
    entries = set((tmp_path / "cache").rglob("*.pickle"))
    assert len(entries) == config_cache.KEEP
    assert entries == {config_cache._entry(p) for p in paths[-config_cache.KEEP:]}
    last = paths[-1]
    assert config_cache.read(last, last.read_bytes()) is not None


def test_a_config_cache_entry_written_by_someone_else_is_ignored(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "config.toml"
    path.write_text('[general]\nidle_refresh_minutes = 5\n')
    load_config(path)
    (entry,) = (tmp_path / "cache").rglob("*.pickle")
    entry.chmod(0o666)
    entry.write_bytes(b"not a pickle")
    assert load_config(path).general.idle_refresh_minutes == 5
