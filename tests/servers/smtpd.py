"""A real SMTP submission server (aiosmtpd) on loopback for tests.

STARTTLS on ``port`` and implicit TLS on ``tls_port``; AUTH PLAIN, LOGIN and XOAUTH2 only
after TLS, checked against the Dovecot users (an XOAUTH2 bearer token is checked as the
password). Every accepted message is delivered over LMTP into Dovecot, so a reply lands in
the recipient's INBOX. Faults can be injected: ``fail_next(451, "try later")``.
"""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.servers.ports import free_port


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp, session, envelope) -> str:
        fault = self.server._take_fault()
        if fault is not None:
            return fault
        if self.server.on_data is not None:
            self.server.on_data()  # a test's moment between the client's DATA and the server's answer
        raw = envelope.original_content or envelope.content
        with self.server.lock:
            self.server.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(raw)))
        if self.server.deliver is not None:
            for rcpt in envelope.rcpt_tos:
                if self.server.is_local(rcpt):
                    self.server.deliver(rcpt, bytes(raw), envelope.mail_from)
        return "250 2.0.0 Message accepted for delivery"

    async def auth_XOAUTH2(self, smtp: SMTP, args: list[str]) -> AuthResult:
        if len(args) < 2:
            blob = await smtp.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False)
        else:
            blob = base64.b64decode(args[1])
        parts = dict(p.split("=", 1) for p in blob.decode().split("\x01") if "=" in p)
        user = parts.get("user", "")
        token = parts.get("auth", "").removeprefix("Bearer ")
        if self.server.check_password(user, token):
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        error = base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
        await smtp.challenge_auth(error.decode(), encode_to_b64=False)
        # handled=False: aiosmtpd sends ``message`` only then; otherwise the client waits forever
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")


class SmtpServer:
    host = "127.0.0.1"

    def __init__(self, cert: Path, key: Path, check_password: Callable[[str, str], bool],
                 deliver: Callable[[str, bytes, str], None] | None = None,
                 is_local: Callable[[str], bool] = lambda rcpt: True) -> None:
        self.cert, self.key = cert, key
        self.check_password = check_password
        self.deliver = deliver
        self.is_local = is_local
        self.port = free_port()
        self.tls_port = free_port()
        self.accepted: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()
        self._faults: list[str] = []
        self.on_data: Callable[[], None] | None = None
        """Called (on the server's thread) when a message's DATA has come, before it is accepted."""
        self._controllers: list[Controller] = []

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def _authenticator(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = self.check_password(auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        handler = _Handler(self)
        common = dict(hostname=self.host, server_hostname="localhost", authenticator=self._authenticator,
                      auth_required=True)
        starttls = Controller(handler, port=self.port, tls_context=self._ssl_context(),
                              require_starttls=True, auth_require_tls=True, **common)
        # aiosmtpd does not see implicit TLS as TLS; the whole connection is encrypted here
        implicit = Controller(handler, port=self.tls_port, ssl_context=self._ssl_context(),
                              auth_require_tls=False, **common)
        for c in (starttls, implicit):
            c.start()
        self._controllers = [starttls, implicit]

    def stop(self) -> None:
        for c in self._controllers:
            c.stop()
        self._controllers = []

    @property
    def running(self) -> bool:
        return bool(self._controllers)

    def fail_next(self, code: int, text: str, times: int = 1) -> None:
        """Answer the next ``times`` DATA commands with ``code text`` instead of accepting."""
        with self.lock:
            self._faults.extend([f"{code} {text}"] * times)

    def _take_fault(self) -> str | None:
        with self.lock:
            return self._faults.pop(0) if self._faults else None

    def accepted_for(self, rcpt: str) -> list[bytes]:
        with self.lock:
            return [raw for _, rcpts, raw in self.accepted if rcpt in rcpts]
