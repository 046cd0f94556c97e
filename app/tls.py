"""The one way replydesk makes a client TLS context, for IMAP, SMTP and the doctor alike.

The system's trust store plus the account's ``ca_file`` (for self-signed servers), certificate
and host name always verified, TLS 1.2 at least.
"""

from __future__ import annotations

import socket
import ssl
from functools import lru_cache
from pathlib import Path

from app.errors import AccountConfigError


@lru_cache(maxsize=64)
def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """Cached per CA file: 500 connections share one context (and one copy of the trust store).
    Shared, so never to be changed: ``new_client_context`` gives one of your own."""
    return new_client_context(ca_file)


def new_client_context(ca_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise AccountConfigError(f"cannot load ca_file {ca_file}: {exc}",
                                     "point ca_file at a PEM certificate") from None
    return ctx


KEEPALIVE = (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3), ("TCP_USER_TIMEOUT", 25_000))
"""A link that drops packets without a word (a NAT that forgot us, a black-holed route) is
noticed within about 25 s, without any IMAP or SMTP traffic: after 10 s of silence the kernel
probes every 5 s and gives up after 3 unanswered probes, and data we sent that stays
unacknowledged for 25 s ends the connection too. The watcher then reconnects and catches up."""


def set_keepalive(sock: socket.socket | None) -> None:
    """TCP keepalive with short intervals on an IMAP or SMTP socket (see ``KEEPALIVE``)."""
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE:
        option = getattr(socket, name, None)
        if option is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
            except OSError:
                pass
