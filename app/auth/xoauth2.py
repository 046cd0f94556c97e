"""The XOAUTH2 SASL mechanism, shared by IMAP and SMTP.

``xoauth2_string`` is the initial client response of ``AUTHENTICATE XOAUTH2`` (IMAP) and
``AUTH XOAUTH2`` (SMTP). ``imap_authenticate_xoauth2`` works around aioimaplib never answering
the server's error challenge: a rejected token gets ``+ <base64 JSON>``, and the client must send
an empty line to receive the tagged ``NO``; unanswered, the command hangs until its timeout and
looks like a network failure.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any


def xoauth2_bytes(user: str, token: str) -> bytes:
    """The raw SASL XOAUTH2 message (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def xoauth2_string(user: str, token: str) -> str:
    """The base64 SASL initial response, as sent after ``AUTHENTICATE XOAUTH2``."""
    return base64.b64encode(xoauth2_bytes(user, token)).decode("ascii")


async def imap_authenticate_xoauth2(client: Any, user: str, token: str, timeout: float = 30.0) -> Any:
    """Run ``client.xoauth2(user, token)`` on an ``aioimaplib.IMAP4`` client, answering the
    error challenge so a rejected token ends in a prompt ``NO`` response.

    Returns aioimaplib's ``Response``; ``response.result == "OK"`` on success.
    """
    protocol = client.protocol
    original = protocol._continuation

    def answer_challenge(line: bytes) -> None:
        pending = protocol.pending_sync_command
        if pending is not None and pending.name == "AUTHENTICATE":
            # RFC 7628 / XOAUTH2: the challenge carries the error; an empty response ends the exchange
            protocol.transport.write(b"\r\n")
            return
        original(line)

    protocol._continuation = answer_challenge
    try:
        return await asyncio.wait_for(protocol.xoauth2(user, str(token)), timeout)
    finally:
        protocol._continuation = original
