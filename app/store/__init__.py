"""The SQLite store: the single source of truth between the engine, the UI and the CLI."""

from __future__ import annotations

from pathlib import Path

from app.store.activity import ActivityMixin
from app.store.bounces import BouncePolicy, BouncesMixin, Suppression
from app.store.conversations import ConversationsMixin
from app.store.db import Database
from app.store.events import EventsMixin
from app.store.followups import FollowupMixin
from app.store.inbox import InboxFilter, InboxMixin
from app.store.messages import IncomingMessage, MessagesMixin
from app.store.noise import NoiseMixin, Reapplied
from app.store.outbox import OutboxMixin
from app.store.saves import OpOutcome, SavesMixin
from app.store.state import FolderState, StateMixin
from app.store.stats import StatsMixin
from app.store.triage import TriageMixin

__all__ = ["Store", "BouncePolicy", "Suppression", "InboxFilter", "IncomingMessage", "FolderState", "Reapplied",
           "OpOutcome"]


class Store(OutboxMixin, MessagesMixin, FollowupMixin, TriageMixin, NoiseMixin, ConversationsMixin, BouncesMixin,
            ActivityMixin, InboxMixin, StateMixin, StatsMixin, EventsMixin, SavesMixin):
    """One connection to the database with every query replydesk makes: the parts, each
    listed after the parts it builds on (``app.store.base``).

    Not shared between threads: each thread (and each process) opens its own.
    """

    def __init__(self, path: Path | str, user: str | None = None) -> None:
        self.db = Database(path, user)
        self.path = self.db.path

    def data_version(self) -> int:
        return self.db.data_version()

    def close(self) -> None:
        self.db.close()

