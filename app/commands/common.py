"""What most subcommands start with: the config and the store it names."""

from __future__ import annotations

import argparse

from app.config import Config, load_config
from app.store import Store


def load(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


def open_config_and_store(args: argparse.Namespace) -> tuple[Config, Store]:
    config = load(args)
    return config, Store(config.database, config.general.who())
