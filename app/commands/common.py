"""What most subcommands start with: the config and the store it names."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.config import Config, load_config
from app.store import Store, is_postgres


def load(args: argparse.Namespace) -> Config:
    config = load_config(getattr(args, "config", None))
    if is_postgres(config.database):
        provide_database_password(config)
    return config


def provide_database_password(config: Config) -> None:
    """A PostgreSQL store's password where libpq looks (``PGPASSWORD`` of this process, which the
    processes it starts inherit; never an argument): from ``database_password_command``, else the
    keyring (``replydesk db password URL``). Nothing to do when libpq has one already
    (``PGPASSWORD``, ``~/.pgpass``) or the server asks none; a missing one is said when the store
    is opened, with the ways to give it."""
    if os.environ.get("PGPASSWORD"):
        return
    command = config.general.database_password_command
    if command:
        from app.commands.db import password_from_command
        os.environ["PGPASSWORD"] = password_from_command(command, "database_password_command")
        return
    passfile = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    if passfile.exists():
        return
    from app.commands.db import password_from_keyring
    from app.store import pg
    password = password_from_keyring(pg.keyring_name(str(config.database)))
    if password is not None:
        os.environ["PGPASSWORD"] = password


def open_config_and_store(args: argparse.Namespace) -> tuple[Config, Store]:
    config = load(args)
    return config, Store(config.database, config.general.who())
