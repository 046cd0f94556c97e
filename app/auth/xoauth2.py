"""The XOAUTH2 SASL mechanism, shared by IMAP and SMTP.

``xoauth2_string`` is the initial client response of ``AUTHENTICATE XOAUTH2`` (IMAP) and
``AUTH XOAUTH2`` (SMTP). The server's error challenge to a rejected token is answered by
``app.imap.protocol.SaslCommand``.
"""

from __future__ import annotations

import base64


def xoauth2_bytes(user: str, token: str) -> bytes:
    """The raw SASL XOAUTH2 message (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def xoauth2_string(user: str, token: str) -> str:
    """The base64 SASL initial response, as sent after ``AUTHENTICATE XOAUTH2``."""
    return base64.b64encode(xoauth2_bytes(user, token)).decode("ascii")
