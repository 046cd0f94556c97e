"""``replydesk`` with no subcommand: the inbox TUI.

If no ``replydesk sync`` holds the database's engine lock, the engine runs inside the TUI's
process and stops with it; otherwise the TUI attaches to that engine through the database.
"""

from __future__ import annotations

import argparse

from app.commands.common import load
from app.engine_lock import engine_lock_holder
from app.store import is_postgres
from app.ui import ReplydeskApp


def run(args: argparse.Namespace) -> int:
    config = load(args)
    database = config.database
    if is_postgres(database):
        # a store engines share: attach when any engine is alive; else this terminal runs one,
        # which takes its share of the mailboxes as any engine does
        from app.store import Store
        probe = Store(database)
        try:
            attached = probe.live_engines(config.general.lease_seconds) > 0
        finally:
            probe.close()
    else:
        attached = engine_lock_holder(database) is not None
    engine = None
    if not attached:
        # attached to a running `replydesk sync`, the inbox never loads the engine (its protocol
        # libraries, the classifier): it starts sooner
        from app.engine import Engine
        engine = Engine(config, database)
    app = ReplydeskApp(database, config, engine=engine, attached=attached, tz=config.general.tz())
    return app.run() or 0
