"""The key footer of the screen that lives as long as the app (the inbox)."""

from __future__ import annotations

from textual.widgets import Footer


class LastingFooter(Footer):
    """Textual's footer without its leak. Each key it composes binds ``compact`` to the footer
    (``data_bind``), and that watcher stays on the footer after the key is removed, until
    ``compact`` changes, which it never does here (Textual issue #6666, open in 8.2.8). The footer
    composes its keys again whenever the screen's bindings change, so the inbox's kept 16 dead
    keys with their styles per thread opened and closed: the heap grew, and the collector's full
    passes paused the screen longer and longer. After each recompose the removed keys' watchers
    are dropped."""

    async def recompose(self) -> None:
        await super().recompose()
        # Textual keeps an object's watchers in its "__watchers" attribute (reactive.py, _watch);
        # should that change, this finds nothing and leaves everything as it was
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]
