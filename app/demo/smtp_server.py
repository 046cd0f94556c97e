"""The demo's SMTP submission server (aiosmtpd) on loopback.

Like a provider's submission port: STARTTLS required, AUTH only after TLS and checked against
the demo's mailboxes, a sender may only send as itself, and recipients with no mailbox in the
demo are refused with ``550 5.1.1`` at RCPT time. Accepted messages go to ``on_message``,
which delivers them into the recipients' mailboxes.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

OnMessage = Callable[[str, list[str], bytes], Awaitable[None]]


class _Handler:
    def __init__(self, is_mailbox: Callable[[str], bool], on_message: OnMessage) -> None:
        self.is_mailbox = is_mailbox
        self.on_message = on_message

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        if address.lower() != login.lower():
            return f"553 5.7.1 <{address}>: Sender address rejected: not owned by user {login}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if not self.is_mailbox(address):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        assert isinstance(raw, bytes)
        await self.on_message(envelope.mail_from or "", list(envelope.rcpt_tos), raw)
        return "250 2.0.0 Ok: queued"


class DemoSmtpServer:
    def __init__(self, cert: Path, key: Path, check_password: Callable[[str, str], bool],
                 is_mailbox: Callable[[str], bool], on_message: OnMessage, host: str = "127.0.0.1") -> None:
        self.cert, self.key, self.host = cert, key, host
        self.check_password = check_password
        self.handler = _Handler(is_mailbox, on_message)
        self.port = 0

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: object) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = self.check_password(auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    async def start(self, stack: AsyncExitStack) -> int:
        """Listen on a free loopback port (returned); stops when ``stack`` closes."""
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(self.cert, self.key)
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(self.handler, hostname="localhost", tls_context=tls, require_starttls=True,
                        auth_required=True, auth_require_tls=True, authenticator=self._authenticate,
                        loop=loop)

        server = await loop.create_server(protocol, host=self.host, port=0)
        stack.push_async_callback(server.wait_closed)
        stack.callback(server.close)
        self.port = server.sockets[0].getsockname()[1]
        return self.port
