"""Local stand-ins for what cannot run here: the OS keyring and the OAuth providers' endpoints.

``file_keyring``: a fixture selecting a file-based keyring (keyrings.alt, test-only) in a temp dir.

``OAuthServer``: a loopback HTTPS server speaking the OAuth wire protocol of both providers —
Microsoft's OpenID discovery, device authorization (RFC 8628) and token endpoints, and Google's
authorization (a 302 back to the client's redirect_uri) and token endpoints. The tokens it hands
out go to the suite's ``SECRETS`` registry so the final leak check looks for them.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from tests.conftest import SECRETS
from tests.servers.https import LoopbackHttps


def make_file_keyring(directory: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(directory / "keyring_pass.cfg")
    return backend


@pytest.fixture
def file_keyring(tmp_path):
    previous = keyring.get_keyring()
    backend = make_file_keyring(tmp_path)
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OAuthServer:
    tenant = "contoso-tenant"

    def __init__(self, directory: Path) -> None:
        self.server = LoopbackHttps(directory, _Handler, self)
        self.ca_file, self.base = self.server.ca_file, self.server.base
        self.authority = f"{self.base}/{self.tenant}"
        self.google_auth_uri = f"{self.base}/google/auth"
        self.google_token_uri = f"{self.base}/google/token"
        self.username = "someone@example.com"
        """Who signs in (Microsoft id_token's preferred_username)."""
        self.access_token: str | None = None
        """When set, every grant issues this access token (a Dovecot user's password)."""
        self.expires_in = 3600
        self.pending_polls = 1
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.refresh_tokens: set[str] = set()
        self.rotate = False
        """Microsoft's way: a refresh token works once; each grant hands out the next one."""
        self.codes: dict[str, dict[str, str]] = {}
        self.device_codes: dict[str, int] = {}

    def stop(self) -> None:
        self.server.stop()

    def revoke_all(self) -> None:
        self.refresh_tokens.clear()

    def grants(self, grant_type: str) -> list[dict[str, str]]:
        return [form for _, form in self.requests if form.get("grant_type") == grant_type]

    # -- what the endpoints hand out -------------------------------------------------------

    def _secret(self, prefix: str) -> str:
        value = f"{prefix}-{secrets.token_hex(12)}"
        SECRETS.add(value)
        return value

    def token_response(self, client_id: str, scope: str, microsoft: bool) -> dict[str, object]:
        refresh = self._secret("rt")
        self.refresh_tokens.add(refresh)
        access = self.access_token or self._secret("at")
        SECRETS.add(access)
        body: dict[str, object] = {"token_type": "Bearer", "access_token": access, "refresh_token": refresh,
                                   "expires_in": self.expires_in, "scope": scope}
        if microsoft:
            now = int(time.time())
            claims = {"iss": f"{self.authority}/v2.0", "aud": client_id, "iat": now, "nbf": now,
                      "exp": now + 3600, "sub": "sub-1", "oid": "oid-1", "tid": self.tenant,
                      "preferred_username": self.username, "name": "Test User"}
            body["id_token"] = ".".join([_b64url(b'{"alg":"none","typ":"JWT"}'),
                                         _b64url(json.dumps(claims).encode()), ""])
            body["client_info"] = _b64url(json.dumps({"uid": "oid-1", "utid": self.tenant}).encode())
        return body


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    @property
    def fake(self) -> OAuthServer:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        return

    def _json(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        fake = self.fake
        if url.path == f"/{fake.tenant}/v2.0/.well-known/openid-configuration":
            base = f"{fake.authority}/oauth2/v2.0"
            return self._json(200, {
                "issuer": f"{fake.authority}/v2.0", "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token", "device_authorization_endpoint": f"{base}/devicecode",
                "response_types_supported": ["code"], "scopes_supported": ["openid", "offline_access"]})
        if url.path == "/google/auth":
            # the user approves at once: redirect the browser back to the client with a code
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            fake.requests.append((url.path, query))
            code = fake._secret("code")
            fake.codes[code] = query
            location = f"{query['redirect_uri']}?{urlencode({'state': query['state'], 'code': code})}"
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        path = urlsplit(self.path).path
        fake = self.fake
        fake.requests.append((path, form))
        if path.endswith("/devicecode"):
            device_code = fake._secret("dc")
            fake.device_codes[device_code] = fake.pending_polls
            return self._json(200, {
                "device_code": device_code, "user_code": "ABCD-EFGH", "verification_uri": f"{fake.base}/device",
                "expires_in": 900, "interval": 1,
                "message": f"To sign in, open {fake.base}/device and enter the code ABCD-EFGH."})
        if path.endswith("/token"):
            return self._token(form, microsoft=not path.startswith("/google/"))
        self._json(404, {"error": "not_found"})

    def _token(self, form: dict[str, str], microsoft: bool) -> None:
        fake = self.fake
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        scope = form.get("scope", "https://mail.google.com/")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            left = fake.device_codes.get(form.get("device_code", ""))
            if left is None:
                return self._json(400, {"error": "expired_token"})
            if left > 0:
                fake.device_codes[form["device_code"]] = left - 1
                return self._json(400, {"error": "authorization_pending",
                                        "error_description": "The user has not yet signed in."})
            del fake.device_codes[form["device_code"]]
            return self._json(200, fake.token_response(client_id, scope, microsoft))
        if grant == "authorization_code":
            issued = fake.codes.pop(form.get("code", ""), None)
            if issued is None or issued.get("redirect_uri") != form.get("redirect_uri"):
                return self._json(400, {"error": "invalid_grant", "error_description": "Bad code."})
            return self._json(200, fake.token_response(client_id, issued.get("scope", scope), microsoft))
        if grant == "refresh_token":
            if form.get("refresh_token") not in fake.refresh_tokens:
                return self._json(400, {"error": "invalid_grant",
                                        "error_description": "AADSTS700082: The refresh token has expired due "
                                                             "to inactivity." if microsoft else
                                                             "Token has been expired or revoked."})
            if fake.rotate:
                fake.refresh_tokens.discard(form["refresh_token"])
            return self._json(200, fake.token_response(client_id, scope, microsoft))
        self._json(400, {"error": "unsupported_grant_type"})


@pytest.fixture
def oauth_server(tmp_path_factory, monkeypatch):
    server = OAuthServer(tmp_path_factory.mktemp("oauth"))
    # requests (MSAL, google-auth) trusts the fake's certificate for this test only
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
    yield server
    server.stop()
