"""The store: the single source of truth between the engine, the UI and the CLI. A SQLite file
(the default), or a PostgreSQL database for a team (``app.store.pgdb``)."""

from __future__ import annotations

from pathlib import Path

from app import paths
from app.store.activity import ActivityMixin
from app.store.bounces import BouncePolicy, BouncesMixin, Suppression
from app.store.conversations import ConversationsMixin
from app.store.db import Database
from app.store.events import EventsMixin
from app.store.followups import FollowupMixin
from app.store.inbox import InboxFilter, InboxMixin
from app.store.leases import Holding, LeasesMixin
from app.store.messages import IncomingMessage, MessagesMixin
from app.store.noise import NoiseMixin, Reapplied
from app.store.outbox import OutboxMixin
from app.store.saves import OpOutcome, SavesMixin
from app.store.state import FolderState, StateMixin
from app.store.stats import StatsMixin
from app.store.triage import TriageMixin

__all__ = ["Store", "BouncePolicy", "Suppression", "InboxFilter", "IncomingMessage", "FolderState", "Reapplied",
           "OpOutcome", "Holding"]


class Store(OutboxMixin, MessagesMixin, FollowupMixin, TriageMixin, NoiseMixin, ConversationsMixin, BouncesMixin,
            ActivityMixin, InboxMixin, StateMixin, StatsMixin, EventsMixin, SavesMixin, LeasesMixin):
    """One connection to the database with every query replydesk makes: the parts, each
    listed after the parts it builds on (``app.store.base``).

    Not shared between threads: each thread (and each process) opens its own.
    """

    def __init__(self, path: Path | str, user: str | None = None) -> None:
        self.db = open_database(path, user)
        self.path: Path | str | None = self.db.target
        """What another connection opens to reach this store: the file, or the PostgreSQL URL."""

    def data_version(self) -> int:
        return self.db.data_version()

    def close(self) -> None:
        self.db.close()



is_postgres = paths.is_postgres_url


def open_database(target: Path | str, user: str | None = None) -> Database:
    """The connection to the store at ``target``: a SQLite file (or ``:memory:``) or a
    ``postgresql://`` URL. psycopg is loaded only for the latter."""
    if is_postgres(target):
        from app.store.pgdb import PgDatabase
        return PgDatabase(str(target), user)
    return Database(target, user)
