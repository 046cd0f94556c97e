"""The demo's IMAP server: pymap's in-memory backend on loopback, with IDLE and STARTTLS.

pymap offers AUTH only after STARTTLS when it has a certificate, so the demo accounts use
``security = "starttls"`` and verify the demo's self-signed certificate like any other.
pymap has no SPECIAL-USE flags: each mailbox gets the generic preset's folder names (Sent,
Junk, Archive, Trash), which is what replydesk falls back to on such servers.

Messages are delivered by appending straight into a user's folder in this process, which
wakes every IMAP session idling on it, as a real delivery agent would.
"""

from __future__ import annotations

import asyncio
import os
from argparse import Namespace
from contextlib import AsyncExitStack, closing
from datetime import datetime, timezone
from pathlib import Path

from proxyprotocol.reader import ProxyProtocolReader
from proxyprotocol.sock import SocketInfo
from pymap.backend.dict import Config, DictBackend, Identity
from pymap.config import BuiltinHash
from pymap.context import connection_exit
from pymap.imap import IMAPConnection, IMAPServer
from pymap.imap.state import ConnectionState
from pymap.parsing.message import AppendMessage
from pymap.parsing.response import CommandResponse
from pymap.parsing.specials.flag import Flag, Seen
from pymap.user import Passwords, UserMetadata

FOLDERS = ("Sent", "Junk", "Archive", "Trash")


class _TlsFirstState(ConnectionState):
    """pymap lets loopback clients log in before STARTTLS; a provider does not, and neither
    does the demo, so a client that skipped the upgrade would fail here as it would there."""

    async def do_greeting(self) -> CommandResponse:
        response = await super().do_greeting()
        self.auth = self.config.initial_auth
        return response


class _TlsFirstServer(IMAPServer):
    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       sock_info: SocketInfo) -> None:
        conn = IMAPConnection(self.commands, self._config, reader, writer, sock_info)
        state = _TlsFirstState(self._login, self._config)
        async with AsyncExitStack() as stack:
            connection_exit.set(stack)
            stack.enter_context(closing(conn))
            await conn.run(state)


class DemoImapServer:
    def __init__(self, cert: Path, key: Path, host: str = "127.0.0.1") -> None:
        self.cert, self.key, self.host = cert, key, host
        self.port = 0
        self._backend: DictBackend | None = None
        self._config: Config | None = None
        self._users: set[str] = set()

    async def start(self, stack: AsyncExitStack) -> int:
        """Listen on a free loopback port (returned); stops when ``stack`` closes."""
        # pymap's greeting asks the resolver for this host's FQDN: the demo needs no network
        os.environ.setdefault("FQDN", "localhost")
        args = Namespace(host=self.host, port=0, debug=False, cert=str(self.cert), key=str(self.key),
                         tls=True, demo_data=False, demo_user="", demo_password="", passlib_cfg=None,
                         proxy_protocol=None, inherited_sockets=None)
        # The passwords are random and live only as long as the demo: a light hash keeps the
        # start (dozens of mailboxes) and each login fast; no wrong-password delay either.
        backend, config = await DictBackend.init(args, invalid_user_sleep=0.0, reject_dnsbl=False,
                                                 hash_context=BuiltinHash(rounds=1000))
        config.apply_context()
        await backend.start(stack)
        imap_server = _TlsFirstServer(backend.login, config)
        callback = ProxyProtocolReader(config.proxy_protocol).get_callback(imap_server)
        server = await asyncio.start_server(callback, host=self.host, port=0)
        await stack.enter_async_context(server)
        serving = asyncio.create_task(server.serve_forever())
        stack.callback(serving.cancel)
        self._backend, self._config = backend, config
        self.port = server.sockets[0].getsockname()[1]
        return self.port

    def has_user(self, email: str) -> bool:
        return email.lower() in self._users

    async def add_user(self, email: str, password: str) -> None:
        """A mailbox with INBOX and the generic preset's folders, subscribed."""
        assert self._backend is not None and self._config is not None, "start() first"
        email = email.lower()
        if email in self._users:
            return
        hashed = await Passwords(self._config).hash_password(password)
        identity = Identity(email, self._backend.login, None, frozenset())
        await identity.set(UserMetadata(self._config, email, password=hashed))
        async with identity.new_session() as session:
            for name in FOLDERS:
                await session.mailbox_set.add_mailbox(name)
                await session.mailbox_set.set_subscribed(name, True)
        self._users.add(email)

    async def deliver(self, email: str, raw: bytes, *, folder: str = "INBOX",
                      when: datetime | None = None, seen: bool = False) -> None:
        """Put ``raw`` into ``email``'s ``folder``, waking IMAP clients idling there."""
        assert self._backend is not None
        identity = Identity(email.lower(), self._backend.login, None, frozenset())
        flags: frozenset[Flag] = frozenset({Seen}) if seen else frozenset()
        async with identity.new_session() as session:
            mailbox = await session.mailbox_set.get_mailbox(folder)
            await mailbox.append(AppendMessage(raw, when or datetime.now(timezone.utc), flags),
                                 recent=not seen)
