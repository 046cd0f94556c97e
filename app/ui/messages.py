"""App-wide messages. Widget-specific ones live inside their widget classes."""

from __future__ import annotations

from textual.message import Message


class StoreChanged(Message):
    """Another connection committed to the database (the engine stored mail, a CLI labelled),
    or this UI wrote to it. Screens re-read what they show."""

    def can_replace(self, message: Message) -> bool:
        # a burst of commits needs one refresh, not one per commit
        return isinstance(message, StoreChanged)
