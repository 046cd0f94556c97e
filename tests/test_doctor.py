"""`replydesk doctor` against the real Dovecot and SMTP fixtures: each usual misconfiguration
gives its own failing line with the hint for its cause, and a non-zero exit."""

from __future__ import annotations

import json
import time

import keyring
import pytest
import requests

from app.auth import oauth, oauth_google
from app.auth.keyring_store import keyring_key
from app.cli import main
from app.config import load_config
from app.doctor.push import verdict
from tests.conftest import new_users
from tests.oauth_fakes import file_keyring, oauth_server  # noqa: F401  (fixtures)
from tests.servers.ports import free_port


def known_to_dovecot(dovecot, users):
    """Dovecot re-reads its passwd-file at most once a second: wait until it knows the new users."""
    for user in users:
        for _ in range(30):
            if "auth succeeded" in dovecot.doveadm("auth", "test", user.email, user.password, check=False):
                break
            time.sleep(0.1)
    return users


def account_toml(user, dovecot, smtp_port, *, account_id, provider="generic", imap_port=None,
                 imap_security="tls", smtp_security="starttls", ca=True, password_env=None):
    ca_line = f'ca_file = "{dovecot.ca_file}"' if ca else ""
    return f"""
[[accounts]]
id = "{account_id}"
email = "{user.email}"
provider = "{provider}"
password_env = "{password_env or user.env}"
  [accounts.imap]
  host = "{dovecot.host}"
  port = {imap_port or dovecot.imaps_port}
  security = "{imap_security}"
  {ca_line}
  [accounts.smtp]
  host = "{dovecot.host}"
  port = {smtp_port}
  security = "{smtp_security}"
  {ca_line}
"""


def write(tmp_path, *blocks):
    path = tmp_path / "config.toml"
    path.write_text(f'[general]\ndatabase = "{tmp_path / "replydesk.db"}"\n' + "".join(blocks))
    return path


def doctor(capsys, path, *extra):
    code = main(["doctor", "--config", str(path), *extra])
    out, err = capsys.readouterr()
    lines = {}
    for line in out.splitlines():
        account, side, check, status, detail = line.split(None, 4)
        lines[(account, side, check)] = (status, detail)
    return code, lines, err


def test_a_healthy_account_passes_every_check(dovecot, smtp_server, users, tmp_path, capsys):
    user = known_to_dovecot(dovecot, users(1))[0]
    path = write(tmp_path, account_toml(user, dovecot, smtp_server.port, account_id="ok"))
    code, lines, err = doctor(capsys, path)
    assert code == 0, lines
    checks = [(side, check) for (_, side, check) in lines]
    assert checks.count(("imap", "login")) == 1 and ("smtp", "auth") in checks
    assert all(status == "OK" for status, _ in lines.values()), lines
    assert "TLSv1." in lines[("ok", "imap", "tls")][1]
    assert lines[("ok", "smtp", "tls")][1].startswith("STARTTLS, TLSv1.")
    assert "AUTH=" in lines[("ok", "imap", "capabilities")][1]
    assert "IDLE" in lines[("ok", "imap", "extensions")][1]
    assert "SPECIAL-USE" in lines[("ok", "imap", "extensions")][1]
    assert "Sent folder 'Sent' (special-use)" in lines[("ok", "imap", "folders")][1]
    assert lines[("ok", "imap", "push")][1].startswith("new mail pushed ")
    assert "replydesk-doctor" not in dovecot.doveadm("mailbox", "list", "-u", user.email)  # removed again
    assert dovecot.mailbox_uids(user.email) == []  # the test message never reached the inbox
    assert "PLAIN" in lines[("ok", "smtp", "capabilities")][1]
    assert "1 ok, 0 failing" in err
    assert user.password not in str(lines)


def test_each_misconfiguration_gives_its_hint(dovecot, smtp_server, users, tmp_path, capsys, monkeypatch):
    good, wrong_pw, google, microsoft, tls_mode, selfsigned, nothing = known_to_dovecot(dovecot, users(7))
    monkeypatch.setenv("DOCTOR_WRONG_PW", "not-the-password")
    closed_port = free_port()
    path = write(
        tmp_path,
        account_toml(good, dovecot, smtp_server.port, account_id="good"),
        account_toml(wrong_pw, dovecot, smtp_server.port, account_id="wrongpw", password_env="DOCTOR_WRONG_PW"),
        account_toml(google, dovecot, smtp_server.port, account_id="gmail", provider="google",
                     password_env="DOCTOR_WRONG_PW"),
        account_toml(microsoft, dovecot, smtp_server.port, account_id="m365", provider="microsoft",
                     password_env="DOCTOR_WRONG_PW"),
        # implicit TLS configured against the STARTTLS ports, on both sides
        account_toml(tls_mode, dovecot, smtp_server.port, account_id="tlsmode", imap_port=dovecot.imap_port,
                     smtp_security="tls"),
        account_toml(selfsigned, dovecot, smtp_server.port, account_id="selfsigned", ca=False),
        account_toml(nothing, dovecot, closed_port, account_id="nothing", imap_port=closed_port),
    )
    code, lines, err = doctor(capsys, path)
    assert code == 1
    assert "1 ok, 6 failing" in err

    status, detail = lines[("wrongpw", "imap", "login")]
    assert status == "FAIL" and "AUTHENTICATIONFAILED" in detail
    assert "(hint: check the username and password" in detail
    status, detail = lines[("wrongpw", "smtp", "auth")]
    assert status == "FAIL" and detail.startswith("SMTP login failed: 535")

    status, detail = lines[("gmail", "imap", "login")]
    assert status == "FAIL" and "app password" in detail and 'auth = "oauth2"' in detail

    status, detail = lines[("m365", "smtp", "auth")]
    assert status == "FAIL" and "basic auth disabled" in detail and "SMTP AUTH" in detail
    assert "by default in existing ones from the end of December 2026" in detail
    status, detail = lines[("m365", "imap", "login")]  # not even tried: Microsoft 365 takes no IMAP password
    assert status == "FAIL" and detail.startswith("Microsoft 365 takes no password for IMAP")
    assert 'set auth = "oauth2" and run replydesk accounts auth m365' in detail

    status, detail = lines[("tlsmode", "imap", "tls")]
    assert status == "FAIL" and f"port {dovecot.imap_port} speaks plaintext first" in detail
    assert '(hint: set imap.security = "starttls" for this port, or use port 993' in detail
    status, detail = lines[("tlsmode", "smtp", "tls")]
    assert status == "FAIL" and '(hint: set smtp.security = "starttls"' in detail
    assert ("tlsmode", "imap", "login") not in lines  # a failed step ends that side

    status, detail = lines[("selfsigned", "imap", "tls")]
    assert status == "FAIL"
    assert "certificate verify failed: self-signed certificate (hint: set ca_file for a self-signed server)" \
        in detail
    assert lines[("selfsigned", "smtp", "tls")][0] == "FAIL"

    for side in ("imap", "smtp"):
        status, detail = lines[("nothing", side, "tcp")]
        assert status == "FAIL" and f"connection refused by 127.0.0.1:{closed_port}" in detail
        assert f"(hint: nothing listens on port {closed_port}" in detail

    assert all(status == "OK" for (acc, _, _), (status, _) in lines.items() if acc == "good")


def test_starttls_configured_against_the_implicit_tls_port(dovecot, smtp_server, users, tmp_path, capsys):
    user = known_to_dovecot(dovecot, users(1))[0]
    path = write(tmp_path, account_toml(user, dovecot, smtp_server.tls_port, account_id="reverse",
                                        imap_port=dovecot.imaps_port, imap_security="starttls"))
    code, lines, _ = doctor(capsys, path, "reverse")
    assert code == 1
    for side in ("imap", "smtp"):
        status, detail = lines[("reverse", side, "tls")]
        assert status == "FAIL" and "expects implicit TLS, not STARTTLS" in detail
        assert f'(hint: set {side}.security = "tls"' in detail


def test_doctor_names_a_missing_secret_and_an_unknown_account(dovecot, smtp_server, users, tmp_path, capsys):
    user = known_to_dovecot(dovecot, users(1))[0]
    path = write(tmp_path, account_toml(user, dovecot, smtp_server.port, account_id="nosecret",
                                        password_env="REPLYDESK_TEST_UNSET_VARIABLE"))
    code, lines, _ = doctor(capsys, path)
    assert code == 1
    status, detail = lines[("nosecret", "imap", "login")]
    assert status == "FAIL" and "REPLYDESK_TEST_UNSET_VARIABLE is not set" in detail
    assert main(["doctor", "--config", str(path), "nobody"]) == 2
    assert "no account 'nobody'" in capsys.readouterr().err


def test_xoauth2_login_is_checked_with_a_real_token(dovecot, smtp_server, users, tmp_path, capsys, monkeypatch):
    """An OAuth account whose token comes from password_env: doctor logs in with XOAUTH2 on both sides."""
    user = known_to_dovecot(dovecot, users(1))[0]
    block = account_toml(user, dovecot, smtp_server.port, account_id="oauth", provider="microsoft")
    block = block.replace('provider = "microsoft"', 'provider = "microsoft"\nauth = "oauth2"')
    path = write(tmp_path, block)
    code, lines, _ = doctor(capsys, path)
    assert code == 0, lines
    assert "(XOAUTH2)" in lines[("oauth", "imap", "login")][1]
    assert "(XOAUTH2)" in lines[("oauth", "smtp", "auth")][1]

    monkeypatch.setenv(user.env, "revoked-token")
    code, lines, _ = doctor(capsys, path)
    assert code == 1
    status, detail = lines[("oauth", "imap", "login")]
    assert status == "FAIL" and "replydesk accounts auth oauth" in detail


async def test_a_server_offering_only_old_tls_is_refused_with_its_reason(dovecot, users, tmp_path):
    """A legacy server (TLS 1.1 at most): the doctor names the TLS version as the cause."""
    import asyncio
    import ssl

    from app.config import parse_config
    from app.doctor import diagnose

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(dovecot.ca_file, dovecot.root / "key.pem")
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with pytest.warns(DeprecationWarning):
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")

    async def greet(reader, writer):
        writer.write(b"* OK legacy IMAP\r\n")
        await writer.drain()
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    account = parse_config({"accounts": [{
        "id": "legacy", "email": "legacy@example.com", "provider": "generic", "password_env": "UNUSED",
        "imap": {"host": "127.0.0.1", "port": port, "security": "tls", "ca_file": str(dovecot.ca_file)},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "tls", "ca_file": str(dovecot.ca_file)}}]}
    ).accounts[0]
    async with server:
        results = await diagnose([account], timeout=5)
    tls = next(r for r in results if r.side == "imap" and r.check == "tls")
    assert tls.status == "FAIL" and "the server offers only TLSv1.1" in tls.detail
    assert tls.hint == "replydesk requires TLS 1.2 or newer: the server must be upgraded"


def test_the_providers_own_words_select_the_hint():
    from app.config import parse_config
    from app.doctor.hints import login_hint

    acc = parse_config({"accounts": [{"id": "a", "email": "a@b.c", "provider": "google"}]}).accounts[0]
    gmail_imap = "[ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page"
    assert login_hint(acc, "imap", gmail_imap).startswith("IMAP is not enabled for this mailbox")
    gmail_app_pw = "534-5.7.9 Application-specific password required."
    assert "app password" in login_hint(acc, "smtp", gmail_app_pw)
    m365 = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
    assert login_hint(acc, "smtp", m365).startswith("SMTP AUTH is disabled")
    assert login_hint(acc, "imap", "[AUTHENTICATIONFAILED] Authentication failed.") is None


def test_a_ca_file_that_cannot_be_read_is_a_tls_failure_with_its_hint(dovecot, smtp_server, users, tmp_path,
                                                                       capsys):
    user = users(1)[0]
    block = account_toml(user, dovecot, smtp_server.port, account_id="badca").replace(
        str(dovecot.ca_file), str(tmp_path / "missing-ca.pem"))
    code, lines, _ = doctor(capsys, write(tmp_path, block))
    assert code == 1
    for side in ("imap", "smtp"):
        status, detail = lines[("badca", side, "tls")]
        assert status == "FAIL" and "cannot load ca_file" in detail and "(hint: point ca_file at a PEM" in detail


def test_doctor_finds_the_folders_the_engine_finds_below_an_inbox_prefix(inbox_prefix_dovecot, tmp_path, capsys):
    """No special-use, every folder below INBOX.: the doctor finds Sent where the engine does."""
    server = inbox_prefix_dovecot
    user = known_to_dovecot(server, new_users(server, 1))[0]
    server.doveadm("mailbox", "create", "-u", user.email, "INBOX.replydesk-doctor-cutoff")  # an earlier run's
    path = write(tmp_path, account_toml(user, server, 1, account_id="courier"))
    _, lines, _ = doctor(capsys, path)
    status, detail = lines[("courier", "imap", "folders")]
    assert status == "OK", detail
    assert detail.startswith("Sent folder 'INBOX.Sent' (by name)")
    assert "junk='INBOX.Junk'" in detail and "trash='INBOX.Trash'" in detail
    status, detail = lines[("courier", "imap", "push")]  # its scratch folder went below INBOX.
    assert status == "OK" and detail.startswith("new mail pushed "), detail
    assert "replydesk-doctor" not in server.doveadm("mailbox", "list", "-u", user.email)


def test_push_verdicts():
    """Every server here pushes, so the verdicts for one that does not are checked on their own."""
    detail, status, hint = verdict(appended=True, pushed=False, delay=10.0, wait=10.0)
    assert status == "WARN"
    assert detail == ("IDLE is offered, but no change was pushed within 10 s of a test APPEND to a scratch "
                      "folder (created and removed again)")
    assert hint is not None and "poll_interval_seconds" in hint and "idled" in hint
    assert verdict(appended=True, pushed=True, delay=0.25, wait=10.0)[:2] == \
        ("new mail pushed 0.2 s after a test APPEND (scratch folder created and removed)", "OK")
    assert verdict(appended=False, pushed=False, delay=10.0, wait=10.0)[1] == "WARN"


def test_a_google_token_refused_a_week_after_authorizing_names_the_testing_status(
        dovecot, smtp_server, users, tmp_path, capsys, oauth_server, file_keyring):
    user = known_to_dovecot(dovecot, users(1))[0]
    block = account_toml(user, dovecot, smtp_server.port, account_id="gtest", provider="google")
    block = block.replace(f'password_env = "{user.env}"\n', 'auth = "oauth2"\n') + f"""
  [accounts.oauth]
  client_id = "client-123"
  client_secret = "desktop-client-secret"
  auth_uri = "{oauth_server.google_auth_uri}"
  token_uri = "{oauth_server.google_token_uri}"
"""
    path = write(tmp_path, block)
    account = load_config(path).account("gtest")
    shown: list[str] = []

    def paste(prompt: str) -> str:
        url = shown[-1].split("\n\n  ")[1].split("\n")[0]
        return requests.get(url, verify=str(oauth_server.ca_file), allow_redirects=False,
                            timeout=10).headers["Location"]

    oauth.authorize(account, shown.append, paste, paste=True)
    key = keyring_key(account.email, "oauth-google")
    blob = json.loads(keyring.get_password("replydesk", key))
    blob["authorized_at"] -= 8 * 86400  # authorized eight days ago
    blob["expiry"] = None  # and its access token has expired since
    blob["token"] = None
    keyring.set_password("replydesk", key, json.dumps(blob))
    oauth_google.forget(account)
    oauth_server.revoke_all()  # what Google does to a Testing app's refresh token after 7 days

    code, lines, _ = doctor(capsys, path)
    assert code == 1
    status, detail = lines[("gtest", "imap", "login")]
    assert status == "FAIL" and "Google refused the refresh token (invalid_grant)" in detail
    assert 'an OAuth app in "Testing" status gets refresh tokens that expire after 7 days' in detail
    assert "replydesk accounts auth gtest" in detail
