"""TLS contexts and socket options for IMAP connections."""

from __future__ import annotations

import socket
import ssl
from functools import lru_cache
from pathlib import Path

from app.errors import AccountConfigError


@lru_cache(maxsize=64)
def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trust store plus the account's ``ca_file``; TLS 1.2 at least.

    Cached per CA file: 500 connections share one context (and one copy of the trust store).
    """
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise AccountConfigError(f"cannot load ca_file {ca_file}: {exc}",
                                     "point imap.ca_file at a PEM certificate") from None
    return ctx


def set_keepalive(sock: socket.socket | None) -> None:
    """Notice a silently dropped link within about two minutes instead of at the next IDLE refresh."""
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4),
                        ("TCP_USER_TIMEOUT", 120_000)):
        option = getattr(socket, name, None)
        if option is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
            except OSError:
                pass
