"""The messages before the newest reply in a thread, folded to one line each.

A long thread opens at once because nothing of an older message is built until it is unfolded:
each folded message is one plain line, and the turns between the cold email and the last few
before the newest reply share a single line ("▶ 20 earlier messages") until it is clicked or ``f``
spreads them out.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.events import Click
from textual.widget import Widget
from textual.widgets import Static

from app.store.rows import MessageRow

SHOWN_BEFORE_NEWEST = 2
"""The turns right before the newest reply that keep a line of their own (besides the cold email)."""


class EarlierMessage(Static):
    """One earlier message as a line (who, when, its first words); unfolded, the whole message
    is shown below the line, built the first time."""

    def __init__(self, row: MessageRow, title: str, build: Callable[[MessageRow], Widget]) -> None:
        super().__init__(classes="earlier")
        self.row = row
        self.title = title
        self.unfolded = False
        self._build = build
        self._block: Widget | None = None

    def render(self) -> Text:
        # the title is made of sanitized one-line values; Text, so it is never read as markup
        return Text(("▼ " if self.unfolded else "▶ ") + self.title, no_wrap=True, overflow="ellipsis")

    def set_unfolded(self, unfolded: bool) -> None:
        if unfolded == self.unfolded:
            return
        self.unfolded = unfolded
        if unfolded and self._block is None:
            self._block = self._build(self.row)
            if isinstance(self.parent, Widget):
                self.parent.mount(self._block, after=self)
        elif self._block is not None:
            self._block.display = unfolded
        self.refresh()

    def on_click(self, event: Click) -> None:
        event.stop()
        self.set_unfolded(not self.unfolded)


class EarlierTurns(Static):
    """Several earlier messages in one line; spread out into a line each when clicked or on ``f``."""

    def __init__(self, rows: list[MessageRow], fold: Callable[[MessageRow], EarlierMessage]) -> None:
        super().__init__(classes="earlier")
        self.rows = rows
        self._fold = fold

    def render(self) -> Text:
        return Text(f"▶ {len(self.rows)} earlier messages", no_wrap=True, overflow="ellipsis")

    def spread(self) -> list[EarlierMessage]:
        """Put a line per message in place of this one; the lines are made only now."""
        folds = [self._fold(m) for m in self.rows]
        if isinstance(self.parent, Widget):
            self.parent.mount_all(folds, after=self)
            self.remove()
        return folds

    def on_click(self, event: Click) -> None:
        event.stop()
        self.spread()


def fold_lines(earlier: list[MessageRow], fold: Callable[[MessageRow], EarlierMessage]) -> list[Widget]:
    """The cold email, the turns in between as one line, and the last turns before the newest
    reply: never more than ``SHOWN_BEFORE_NEWEST + 2`` lines, however long the thread."""
    if len(earlier) <= SHOWN_BEFORE_NEWEST + 2:
        return [fold(m) for m in earlier]
    return [fold(earlier[0]), EarlierTurns(earlier[1:-SHOWN_BEFORE_NEWEST], fold),
            *(fold(m) for m in earlier[-SHOWN_BEFORE_NEWEST:])]
