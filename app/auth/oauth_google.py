"""Google OAuth: the installed-app loopback flow, a paste-the-redirect-URL fallback, and refresh.

Google's device flow does not allow the Gmail scope and the out-of-band flow is gone, so the
browser is sent to ``http://localhost:PORT/``. On the machine running replydesk a one-shot local
server catches it; over SSH either forward the port (``ssh -L PORT:localhost:PORT``) or paste the
URL the browser ended on (it shows "unable to connect") back into replydesk, which checks its
``state`` before exchanging the code.

The refresh token (and the current access token) live in the keyring (``<email>:oauth-google``).
Every call here blocks: call from a thread, never on the event loop.
"""

from __future__ import annotations

import datetime
import http.server
import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
import requests
from google_auth_oauthlib.flow import InstalledAppFlow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from app.auth.keyring_store import keyring_get, keyring_key, keyring_set
from app.auth.oauth_grant import account_lock, reauth_needed
from app.config import Account
from app.errors import NetworkError, ReauthNeeded, SecretError

SCOPES = ["https://mail.google.com/"]
AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"
KIND = "oauth-google"

TESTING_TOKEN_DAYS = 7
"""Refresh tokens of an OAuth app left in "Testing" status in Google Cloud die after 7 days."""

_creds: dict[str, google.oauth2.credentials.Credentials] = {}
_authorized_at: dict[str, float] = {}


def _client(account: Account) -> tuple[str, str]:
    oauth = account.oauth
    if not oauth.client_id or not oauth.client_secret:
        raise SecretError(f"{account.id}: Google OAuth needs [accounts.oauth] client_id and client_secret",
                          "create a Desktop-app OAuth client in Google Cloud and copy both")
    return oauth.client_id, oauth.client_secret


def _save(account: Account, creds: google.oauth2.credentials.Credentials) -> None:
    blob = {"refresh_token": creds.refresh_token, "token": creds.token,
            "expiry": creds.expiry.isoformat() if creds.expiry else None,
            "authorized_at": _authorized_at.get(account.email)}
    keyring_set(keyring_key(account.email, KIND), json.dumps(blob))


def _load(account: Account) -> google.oauth2.credentials.Credentials:
    client_id, client_secret = _client(account)
    raw = keyring_get(keyring_key(account.email, KIND))
    blob = json.loads(raw) if raw else {}
    if not blob.get("refresh_token"):
        raise reauth_needed(account, "no Google authorization stored")
    expiry = datetime.datetime.fromisoformat(blob["expiry"]) if blob.get("expiry") else None
    if blob.get("authorized_at"):
        _authorized_at[account.email] = float(blob["authorized_at"])
    return google.oauth2.credentials.Credentials(
        token=blob.get("token"), refresh_token=blob["refresh_token"], expiry=expiry,
        token_uri=account.oauth.token_uri or TOKEN_URI, client_id=client_id,
        client_secret=client_secret, scopes=SCOPES)


def access_token(account: Account, *, force_refresh: bool = False) -> str:
    """A valid access token, refreshed when expired or within google-auth's refresh margin."""
    with account_lock(account.email):
        creds = _creds.get(account.email) or _load(account)
        if force_refresh or not creds.valid:
            try:
                creds.refresh(google.auth.transport.requests.Request())
            except google.auth.exceptions.RefreshError as exc:
                forget(account)
                text = str(exc.args[0] if exc.args else exc)
                if "invalid_grant" in text or "invalid_client" in text or "unauthorized_client" in text:
                    raise _refused(account, text) from None
                raise NetworkError(f"{account.id}: token refresh failed: {text.splitlines()[0]}") from None
            except google.auth.exceptions.TransportError as exc:
                raise NetworkError(f"{account.id}: cannot reach Google's token endpoint: "
                                   f"{type(exc).__name__}") from None
            _save(account, creds)
        _creds[account.email] = creds
        return str(creds.token)


def _flow(account: Account, port: int) -> InstalledAppFlow:
    client_id, client_secret = _client(account)
    config = {"installed": {
        "client_id": client_id, "client_secret": client_secret,
        "auth_uri": account.oauth.auth_uri or AUTH_URI, "token_uri": account.oauth.token_uri or TOKEN_URI,
        "redirect_uris": ["http://localhost"]}}
    flow = InstalledAppFlow.from_client_config(config, scopes=SCOPES)
    flow.redirect_uri = f"http://localhost:{port}/"
    return flow


def _auth_params(account: Account) -> dict[str, str]:
    # offline + consent: Google returns a refresh token on every authorization, not just the first
    return {"access_type": "offline", "prompt": "consent", "login_hint": account.email}


class _RedirectServer(http.server.HTTPServer):
    redirect_url: str | None = None
    """Where the browser was sent back to, once it came."""


class _RedirectHandler(http.server.BaseHTTPRequestHandler):
    server: _RedirectServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        query = parse_qs(urlsplit(self.path).query)
        done = "code" in query or "error" in query
        if done:
            self.server.redirect_url = f"http://localhost:{self.server.server_port}{self.path}"
        self.send_response(200 if done else 404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"replydesk received the authorization. You can close this tab.\n" if done else b"")

    def log_message(self, format: str, *args: object) -> None:
        # the request line carries the authorization code: never log it
        return


def authorize_loopback(account: Account, show: Callable[[str], None], timeout: float = 600) -> None:
    """Catch the browser's redirect on ``oauth.redirect_port`` of this machine."""
    port = account.oauth.redirect_port
    flow = _flow(account, port)
    url, state = flow.authorization_url(**_auth_params(account))
    try:
        server = _RedirectServer(("127.0.0.1", port), _RedirectHandler)
    except OSError as exc:
        raise SecretError(f"{account.id}: cannot listen on localhost:{port}: {exc.strerror}",
                          "free the port, set [accounts.oauth] redirect_port, or use --paste") from None
    server.timeout = 1.0
    show(f"Open this URL in a browser on this machine and allow access for {account.email}:\n\n  {url}\n\n"
         f"(over SSH: forward the port with  ssh -L {port}:localhost:{port}  or use --paste)")
    deadline = time.monotonic() + timeout
    try:
        while server.redirect_url is None:
            if time.monotonic() > deadline:
                raise SecretError(f"{account.id}: no authorization arrived on localhost:{port} "
                                  f"within {timeout:.0f} s")
            server.handle_request()
    finally:
        server.server_close()
    _exchange(account, flow, state, server.redirect_url)


def authorize_paste(account: Account, show: Callable[[str], None], ask: Callable[[str], str]) -> None:
    """For SSH sessions: the user pastes the ``http://localhost:PORT/?state=…&code=…`` URL."""
    flow = _flow(account, account.oauth.redirect_port)
    url, state = flow.authorization_url(**_auth_params(account))
    show(f"Open this URL in any browser and allow access for {account.email}:\n\n  {url}\n\n"
         "The browser then fails to open a localhost page; copy the whole address from its address bar.")
    _exchange(account, flow, state, ask("Paste the localhost URL here: "))


def _exchange(account: Account, flow: InstalledAppFlow, state: str, redirect_url: str) -> None:
    """Check the redirect's ``state`` and trade its code for tokens."""
    query = parse_qs(urlsplit(redirect_url.strip()).query)
    if "error" in query:
        raise SecretError(f"{account.id}: Google returned {query['error'][0]}")
    if query.get("state") != [state]:
        raise SecretError(f"{account.id}: the redirect URL is not from this authorization (state differs)",
                          "paste the address the browser reached after this run's URL")
    if not query.get("code"):
        raise SecretError(f"{account.id}: the redirect URL has no code= parameter")
    try:
        flow.fetch_token(code=query["code"][0])
    except OAuth2Error as exc:
        raise SecretError(f"{account.id}: Google refused the code: {exc.error}") from None
    except requests.RequestException as exc:
        raise NetworkError(f"{account.id}: cannot reach Google's token endpoint: {type(exc).__name__}") \
            from None
    _finish(account, flow)


def _refused(account: Account, text: str) -> ReauthNeeded:
    err = reauth_needed(account, f"Google refused the refresh token ({text.split(':')[0]})")
    authorized = _authorized_at.get(account.email)
    if authorized is not None and time.time() - authorized >= (TESTING_TOKEN_DAYS - 0.5) * 86400:
        days = (time.time() - authorized) / 86400
        err.hint = (f"authorized {days:.0f} days ago: an OAuth app in \"Testing\" status gets refresh tokens "
                    f"that expire after {TESTING_TOKEN_DAYS} days; publish it (OAuth consent screen > "
                    f"Publish app) and then {err.hint}")
    return err


def _finish(account: Account, flow: InstalledAppFlow) -> None:
    creds = flow.credentials
    if not creds.refresh_token:
        raise SecretError(f"{account.id}: Google returned no refresh token",
                          "remove replydesk's access at myaccount.google.com/permissions and authorize again")
    forget(account)
    _authorized_at[account.email] = time.time()
    _save(account, creds)


def forget(account: Account) -> None:
    _creds.pop(account.email, None)
