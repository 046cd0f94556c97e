"""OAuth end to end: device-code and Google flows against local endpoints speaking the OAuth
protocol, refresh before connecting, revocation, and XOAUTH2 logins to Dovecot and the SMTP fixture."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import replace

import aiosmtplib
import keyring
import pytest
import requests

from app.auth import oauth, oauth_google, oauth_microsoft
from app.auth.credentials import credentials, invalidate
from app.auth.keyring_store import keyring_key
from app.config import parse_config
from app.errors import ReauthNeeded, SecretError
from app.imap.connection import ImapConnection
from tests.oauth_fakes import file_keyring, oauth_server  # noqa: F401  (fixtures)


def oauth_account(provider, email, server, dovecot=None, smtp_port=None, **oauth_extra):
    acc = {"id": email.split("@")[0], "email": email, "provider": provider, "auth": "oauth2",
           "oauth": {"client_id": "client-123", **oauth_extra}}
    if provider == "microsoft":
        acc["oauth"]["authority"] = server.authority
    else:
        acc["oauth"].update(client_secret="desktop-client-secret", auth_uri=server.google_auth_uri,
                            token_uri=server.google_token_uri)
    if dovecot is not None:
        acc["imap"] = {"host": dovecot.host, "port": dovecot.imaps_port, "security": "tls",
                       "ca_file": str(dovecot.ca_file)}
        acc["smtp"] = {"host": dovecot.host, "port": smtp_port, "security": "starttls",
                       "ca_file": str(dovecot.ca_file)}
    return parse_config({"accounts": [acc]}).accounts[0]


def never_asked(prompt: str) -> str:
    raise AssertionError("the flow should not prompt")


async def imap_login(account) -> str:
    """Log in as the engine does (AUTHENTICATE XOAUTH2 with the account's token), SELECT INBOX:
    ``"OK"``, or ``"NO"`` when the server refused the token (a hang or timeout raises instead)."""
    conn = ImapConnection(account)
    try:
        await conn.open()
        await conn.select("INBOX")
        result = "OK"
    except ReauthNeeded:
        result = "NO"
    finally:
        await conn.close()
    return result


async def test_microsoft_device_flow_then_xoauth2_on_imap_and_smtp(dovecot, smtp_server, users, oauth_server,
                                                                   file_keyring, monkeypatch):
    user = users(1, prefix="ms")[0]
    oauth_server.username = user.email
    oauth_server.access_token = user.password  # Dovecot checks the bearer token as the password
    acc = oauth_account("microsoft", user.email, oauth_server, dovecot, smtp_server.port)

    shown: list[str] = []
    await asyncio.to_thread(oauth.authorize, acc, shown.append, never_asked)
    assert "ABCD-EFGH" in shown[0]
    device_request = next(form for path, form in oauth_server.requests if path.endswith("/devicecode"))
    scopes = device_request["scope"].split()
    assert "https://outlook.office.com/IMAP.AccessAsUser.All" in scopes
    assert "https://outlook.office.com/SMTP.Send" in scopes
    assert "offline_access" in scopes  # added by MSAL, not by us
    assert len(oauth_server.grants("urn:ietf:params:oauth:grant-type:device_code")) == 2  # one pending poll
    assert keyring.get_password("replydesk", keyring_key(user.email, "oauth-microsoft"))

    creds = await credentials(acc, "imap")
    assert (creds.username, creds.mechanism, creds.secret) == (user.email, "xoauth2", user.password)
    assert await imap_login(acc) == "OK"
    # a refused token ends in a prompt NO, not a hang until the timeout
    monkeypatch.setenv(user.env, "not-the-token")
    assert await imap_login(replace(acc, password_env=user.env)) == "NO"

    smtp_creds = await credentials(acc, "smtp")
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_file))
    client = aiosmtplib.SMTP(hostname=dovecot.host, port=smtp_server.port, start_tls=True, tls_context=ctx)
    await client.connect()
    response = await client.auth_xoauth2(smtp_creds.username, smtp_creds.secret)
    assert response.code == 235
    await client.quit()


async def test_microsoft_token_is_refreshed_before_connecting_and_revocation_needs_reauth(
        oauth_server, file_keyring):
    oauth_server.username = "refresh-ms@example.com"
    oauth_server.expires_in = 60  # inside MSAL's five-minute margin: every connect refreshes
    acc = oauth_account("microsoft", "refresh-ms@example.com", oauth_server)
    await asyncio.to_thread(oauth.authorize, acc, print, never_asked)
    first = (await credentials(acc)).secret
    second = (await credentials(acc)).secret
    assert first != second
    assert len(oauth_server.grants("refresh_token")) == 2  # the device flow's token was short-lived too

    oauth_server.expires_in = 3600
    third = (await credentials(acc)).secret
    assert (await credentials(acc)).secret == third  # still fresh: no new request
    refreshes = len(oauth_server.grants("refresh_token"))
    await invalidate(acc)  # the server refused it: ask the token endpoint again
    assert (await credentials(acc)).secret != third
    assert len(oauth_server.grants("refresh_token")) == refreshes + 1

    oauth_server.revoke_all()
    await invalidate(acc)
    with pytest.raises(ReauthNeeded) as err:
        await credentials(acc)
    assert "invalid_grant" in str(err.value)
    assert "replydesk accounts auth refresh-ms" in str(err.value)


def browser_visit(url: str, ca_file) -> str:
    """What a browser does: follow the authorization URL to the redirect it is sent to."""
    response = requests.get(url, verify=str(ca_file), allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return response.headers["Location"]


async def test_google_paste_flow_checks_state_then_refreshes_and_detects_revocation(oauth_server, file_keyring):
    acc = oauth_account("google", "paste-g@example.com", oauth_server)
    shown: list[str] = []

    def paste(prompt: str) -> str:
        url = shown[-1].split("\n\n  ")[1].split("\n")[0]
        redirect = browser_visit(url, oauth_server.ca_file)
        assert redirect.startswith(f"http://localhost:{acc.oauth.redirect_port}/?")
        return redirect

    await asyncio.to_thread(oauth.authorize, acc, shown.append, paste, paste=True)
    auth_request = next(form for path, form in oauth_server.requests if path == "/google/auth")
    assert auth_request["scope"] == "https://mail.google.com/"
    assert auth_request["access_type"] == "offline"
    exchange = oauth_server.grants("authorization_code")[0]
    assert exchange["code_verifier"]  # PKCE

    token = (await credentials(acc, "smtp")).secret
    assert (await credentials(acc, "imap")).secret == token  # valid: no refresh
    assert not oauth_server.grants("refresh_token")
    oauth_server.expires_in = 60
    await invalidate(acc)
    refreshed = (await credentials(acc)).secret
    assert refreshed != token and len(oauth_server.grants("refresh_token")) == 1
    assert (await credentials(acc)).secret != refreshed  # expires within google-auth's margin: refreshed

    oauth_server.revoke_all()
    await invalidate(acc)
    with pytest.raises(ReauthNeeded, match="replydesk accounts auth paste-g"):
        await credentials(acc)


async def test_google_paste_flow_rejects_a_url_from_another_authorization(oauth_server, file_keyring):
    acc = oauth_account("google", "state-g@example.com", oauth_server)
    shown: list[str] = []

    def paste(prompt: str) -> str:
        url = shown[-1].split("\n\n  ")[1].split("\n")[0]
        return browser_visit(url, oauth_server.ca_file).replace("state=", "state=forged")

    with pytest.raises(SecretError, match="state differs"):
        await asyncio.to_thread(oauth.authorize, acc, shown.append, paste, paste=True)
    assert not oauth_server.grants("authorization_code")


async def test_google_loopback_flow_catches_the_browser_redirect(oauth_server, file_keyring):
    from tests.servers.ports import free_port

    acc = oauth_account("google", "loop-g@example.com", oauth_server, redirect_port=free_port())

    def show(text: str) -> None:
        url = text.split("\n\n  ")[1].split("\n")[0]

        def browser() -> None:
            redirect = browser_visit(url, oauth_server.ca_file)
            for _ in range(50):
                try:
                    requests.get(redirect, timeout=5)
                    return
                except requests.ConnectionError:
                    time.sleep(0.1)
        import threading
        threading.Thread(target=browser, daemon=True).start()

    await asyncio.to_thread(oauth.authorize, acc, show, never_asked, paste=False)
    assert (await credentials(acc)).mechanism == "xoauth2"
    assert keyring.get_password("replydesk", keyring_key(acc.email, "oauth-google"))


def stored_refresh_token(email: str) -> str:
    blob = json.loads(keyring.get_password("replydesk", keyring_key(email, "oauth-microsoft")))
    [entry] = blob["RefreshToken"].values()
    return entry["secret"]


async def test_microsoft_rotated_refresh_tokens_are_saved_each_time(oauth_server, file_keyring):
    """Microsoft hands out a new refresh token with every refresh, and (here, strictly) the old
    one stops working: each must reach the keyring before the next start, or the mailbox needs a
    new authorization (AADSTS700082 once the last saved one expires)."""
    oauth_server.username = "rotate-ms@example.com"
    oauth_server.expires_in = 60  # every connect refreshes
    oauth_server.rotate = True
    acc = oauth_account("microsoft", "rotate-ms@example.com", oauth_server)
    await asyncio.to_thread(oauth.authorize, acc, print, never_asked)
    seen = {stored_refresh_token(acc.email)}
    for _ in range(3):
        oauth_microsoft.forget(acc)  # a restart: the next refresh starts from the keyring
        assert (await credentials(acc)).secret
        saved = stored_refresh_token(acc.email)
        assert saved in oauth_server.refresh_tokens and saved not in seen
        seen.add(saved)
    assert len(oauth_server.refresh_tokens) == 1  # only the newest one still works, and it is the saved one

    oauth_server.revoke_all()
    oauth_microsoft.forget(acc)
    with pytest.raises(ReauthNeeded) as err:
        await credentials(acc)
    assert "AADSTS700082" in str(err.value)
    assert err.value.hint.startswith("the mailbox was not connected for 90 days")


async def test_google_token_refused_after_a_week_names_the_testing_status(oauth_server, file_keyring):
    acc = oauth_account("google", "testing-g@example.com", oauth_server)
    shown: list[str] = []

    def paste(prompt: str) -> str:
        return browser_visit(shown[-1].split("\n\n  ")[1].split("\n")[0], oauth_server.ca_file)

    await asyncio.to_thread(oauth.authorize, acc, shown.append, paste, paste=True)
    oauth_server.revoke_all()
    await invalidate(acc)
    with pytest.raises(ReauthNeeded) as fresh:
        await credentials(acc)
    assert "Testing" not in (fresh.value.hint or "")  # refused the same day: not the 7-day rule

    # eight days later (the authorization's time, as stored beside the token, moved back)
    key = keyring_key(acc.email, "oauth-google")
    blob = json.loads(keyring.get_password("replydesk", key))
    blob["authorized_at"] -= 8 * 86400
    keyring.set_password("replydesk", key, json.dumps(blob))
    oauth_google.forget(acc)
    with pytest.raises(ReauthNeeded) as week:
        await credentials(acc)
    assert "an OAuth app in \"Testing\" status gets refresh tokens that expire after 7 days" in week.value.hint
    assert "replydesk accounts auth testing-g" in week.value.hint
