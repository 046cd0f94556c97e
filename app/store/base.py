"""What every part of the store stands on: its connection.

``Store`` is composed of parts, one module each (messages, triage, outbox …). A part that uses
another part's methods inherits from it, so the dependencies are the class hierarchy and the
type checker sees every call; the parts that need nothing else inherit from ``StorePart``.
"""

from __future__ import annotations

from app.store.db import Database


class StorePart:
    db: Database
