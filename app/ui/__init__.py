"""The terminal UI (Textual). ``ReplydeskApp(store_path, config, engine=None)`` is the entry."""

from app.ui.app import ReplydeskApp

__all__ = ["ReplydeskApp"]
