"""Socket options for IMAP connections (the TLS context comes from ``app.tls``)."""

from __future__ import annotations

import socket


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
