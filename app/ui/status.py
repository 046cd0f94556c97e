"""The status line at the bottom of every screen: how many mailboxes are live, syncing or
failing, and how far a first sync has got."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from app.store.lifecycle import ACCOUNT_FAILING, ACCOUNT_LIVE, ACCOUNT_SYNCING
from app.store.rows import AccountRow
from app.ui.notices import notice_text

# the account lifecycle's groups (app/store/lifecycle.py); any other state is off
LIVE_STATES = ACCOUNT_LIVE
SYNCING_STATES = ACCOUNT_SYNCING
FAILING_STATES = ACCOUNT_FAILING


@dataclass(frozen=True)
class HealthSummary:
    live: int = 0
    syncing: int = 0
    failing: int = 0
    off: int = 0
    fetched: int = 0
    """Messages fetched so far by the mailboxes still in their first sync."""
    to_fetch: int = 0

    @classmethod
    def of(cls, accounts: Iterable[AccountRow]) -> HealthSummary:
        live = syncing = failing = off = fetched = to_fetch = 0
        for acc in accounts:
            state = acc["state"] or "new"
            if state in LIVE_STATES:
                live += 1
            elif state in SYNCING_STATES:
                syncing += 1
            elif state in FAILING_STATES:
                failing += 1
            else:
                off += 1
            done, total = acc["sync_done"] or 0, acc["sync_total"] or 0
            if total > done:
                fetched += done
                to_fetch += total
        return cls(live, syncing, failing, off, fetched, to_fetch)

    @property
    def total(self) -> int:
        return self.live + self.syncing + self.failing + self.off


def summary_text(summary: HealthSummary, engine_note: str = "") -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not summary.total:
        text.append("no mailboxes yet: add one with `replydesk accounts add`", style="italic")
    else:
        text.append(f"● {summary.live} live", style="bold" if summary.live else "")
        text.append("  ")
        text.append(f"◐ {summary.syncing} syncing")
        text.append("  ")
        text.append(f"✖ {summary.failing} failing", style="bold reverse" if summary.failing else "")
        if summary.off:
            text.append(f"  ○ {summary.off} off")
    if summary.to_fetch:
        pct = 100 * summary.fetched / summary.to_fetch
        text.append(f"  │ fetched {summary.fetched:,} of {summary.to_fetch:,} ({pct:.0f}%)")
    if engine_note:
        text.append(f"  │ {engine_note}", style="dim")
    return text


class StatusBar(Static):
    """One line, refreshed by its screen whenever the store changes. The app's notice of new
    replies, when there is one, comes first."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._summary = HealthSummary()
        self._engine_note = ""

    def show(self, summary: HealthSummary, engine_note: str = "") -> None:
        self._summary, self._engine_note = summary, engine_note
        self.redraw()

    def redraw(self) -> None:
        text = summary_text(self._summary, self._engine_note)
        notice = getattr(self.app, "notice", None)
        if notice is not None:
            text = notice_text(notice).append("  │ ").append_text(text)
        self.update(text)
