"""``replydesk`` with no subcommand: the inbox TUI.

If no ``replydesk sync`` holds the database, the engine runs inside the TUI's process and
stops with it; otherwise the TUI attaches to the running engine through the database.
"""

from __future__ import annotations

import argparse
import importlib

from app.commands.common import load


def _engine_module():
    try:
        return importlib.import_module("app.engine")
    except ModuleNotFoundError as exc:
        if exc.name != "app.engine":
            raise
        return None


def run(args: argparse.Namespace) -> int:
    config = load(args)
    database = config.database
    engine = None
    attached = False
    module = _engine_module()
    if module is not None and hasattr(module, "Engine"):
        if module.engine_lock_holder(database):
            attached = True
        else:
            engine = module.Engine(config, database)
    from app.ui import ReplydeskApp

    app = ReplydeskApp(database, config, engine=engine, attached=attached)
    return app.run() or 0
