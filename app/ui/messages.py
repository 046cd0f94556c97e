"""App-wide messages. Widget-specific ones live inside their widget classes."""

from __future__ import annotations

import time

from textual.message import Message

from app.ui.typed_app import replydesk


class StoreChanged(Message):
    """Another connection committed to the database (the engine stored mail, a CLI labelled),
    or this UI wrote to it. Screens re-read what they show."""

    def can_replace(self, message: Message) -> bool:
        # a burst of commits needs one refresh, not one per commit
        return isinstance(message, StoreChanged)


class RefreshOnStoreChange:
    """Mixed into a Screen that shows store data: re-read it on ``StoreChanged`` and tell the
    app how long that took, so its refreshes are spaced out while a sync commits without pause."""

    def reload(self) -> None:
        raise NotImplementedError

    def on_store_changed(self, _: StoreChanged) -> None:
        started = time.monotonic()
        self.reload()
        replydesk(self).reload_cost = time.monotonic() - started
