"""Platform locations for the config, the database and the logs."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "replydesk"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_config_path() -> Path:
    env = os.environ.get("REPLYDESK_CONFIG")
    return Path(env).expanduser() if env else config_dir() / "config.toml"


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(database: Path | str | None) -> bool:
    """A store in PostgreSQL (its URL), not a SQLite file."""
    return isinstance(database, str) and database.startswith(POSTGRES_SCHEMES)


def default_database_path() -> Path:
    return data_dir() / "replydesk.db"


def log_path_for(database: Path) -> Path:
    """The engine's log file lives beside its database."""
    return database.with_name(database.stem + ".log")


def lock_path_for(database: Path) -> Path:
    return database.with_name(database.name + ".lock")
