"""The inbox screen: every conversation with a reply, across all mailboxes, newest first."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from app.store import InboxFilter, Store
from app.store.inbox import SORTS
from app.ui.footer import LastingFooter
from app.ui.inbox_list import InboxList
from app.ui.messages import RefreshOnStoreChange
from app.ui.outbox import OutboxScreen
from app.ui.paging import InboxPager
from app.ui.pickers import Choice, PickerScreen
from app.ui.status import StatusBar
from app.ui.text import CATEGORY_LABELS, category_label, line, mailbox_label
from app.ui.triage import TRIAGE_BINDINGS, TriageActions
from app.ui.typed_app import replydesk

VIEW_LABELS = {"replies": "Replies", "bounces": "Bounces", "auto": "Auto", "archived": "Archived",
               "all": "All", "noise": "Noise", "snoozed": "Snoozed", "mine": "Mine", "unassigned": "Unassigned"}
VIEW_KEYS = {"replies": "1", "bounces": "2", "auto": "3", "archived": "4", "all": "5", "noise": "6",
             "snoozed": "7", "mine": "8", "unassigned": "9"}
TEAM_VIEWS = ("mine", "unassigned")
"""Shown in the view bar once there is a team (``ReplydeskApp.show_user``); their keys work always."""
EMPTY = {"replies": "No replies here yet.", "bounces": "No bounces.", "auto": "No auto-replies.",
         "archived": "Nothing archived.", "all": "No mail yet.",
         "noise": "No warmup, internal or bulk mail.",
         "snoozed": "Nothing snoozed or waiting for an answer.",
         "mine": "Nothing assigned to you.", "unassigned": "Every reply has someone on it."}


COUNTS_INLINE_SECONDS = 0.05
"""Counts that took longer than this are read in a thread from then on (they scan the store)."""
COUNTS_INLINE_ROWS = 20_000
"""Nor are they read on the event loop when the list, or the store, holds more conversations than this."""


class InboxScreen(RefreshOnStoreChange, TriageActions, Screen):
    BINDINGS = [
        *TRIAGE_BINDINGS,
        Binding("slash", "search", "Search", id="search"),
        Binding("escape", "back", "Clear", show=False, id="back"),
        Binding("u", "toggle_unread", "Unread only", show=False, id="filter_unread"),
        Binding("c", "pick_category", "Category", show=False, id="filter_category"),
        Binding("a", "pick_account", "Account", show=False, id="filter_account"),
        Binding("1", "view('replies')", "Replies", show=False, id="view_replies"),
        Binding("2", "view('bounces')", "Bounces", show=False, id="view_bounces"),
        Binding("3", "view('auto')", "Auto-replies", show=False, id="view_auto"),
        Binding("4", "view('archived')", "Archived", show=False, id="view_archived"),
        Binding("5", "view('all')", "All", show=False, id="view_all"),
        Binding("6", "view('noise')", "Noise", show=False, id="view_noise"),
        Binding("7", "view('snoozed')", "Snoozed", show=False, id="view_snoozed"),
        Binding("8", "view('mine')", "Mine", show=False, id="view_mine"),
        Binding("9", "view('unassigned')", "Unassigned", show=False, id="view_unassigned"),
        Binding("0", "outbox", "Sent and drafts", show=False, id="view_outbox"),
        Binding("S", "sort", "Sort: newest, oldest, by mailbox", show=False, id="sort"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = InboxFilter()
        self._view_counts: dict[str, int] = {}
        """Per view, unfiltered: re-read when the data changes, not when the filter does."""
        self._category_counts: dict[str, int] = {}
        self._counts_cost = 0.0
        self._counter: CountReader | None = None
        """The counts' own connection, for their thread (a big store)."""
        self._counts_asked = 0
        self._view_spans: list[tuple[int, int, str]] = []
        """Where each view's tab sits in the top line, for clicks."""
        """Numbers the count requests, so a thread's late answer never overwrites a newer one."""

    def compose(self) -> ComposeResult:
        yield Static(id="views")
        yield Static(id="categories")
        yield InboxList(id="inbox-list")
        yield Input(placeholder="search sender, subject, text — enter to apply, escape to cancel",
                    id="search")
        yield StatusBar(id="status")
        yield LastingFooter(compact=True)

    @property
    def inbox_list(self) -> InboxList:
        return self.query_one(InboxList)

    def on_mount(self) -> None:
        self.inbox_list.focus()

    def on_unmount(self) -> None:
        if self._counter is not None:
            self._counter.close()

    def on_screen_resume(self) -> None:
        # on first show too: the store may have changed while another screen was on top
        self.reload()

    def _empty_text(self) -> str:
        """What an empty list says: while mailboxes connect and fetch their first mail (a first
        start, the demo's first seconds), that, with the progress; else that the view is empty."""
        if self._filtered():
            return "Nothing matches the filters."
        summary = replydesk(self).health_summary
        if summary.syncing:
            progress = (f": {summary.fetched:,} of {summary.to_fetch:,} messages fetched" if summary.to_fetch
                        else f", {summary.live} connected")
            return f"Connecting {summary.total} mailbox{'es' if summary.total != 1 else ''}{progress}…"
        return EMPTY[self.filter.view]

    def reload(self, *, same_filter: bool = True, keep: int | None = None) -> None:
        """Re-read the list, the counts and the health line. After a data change the cursor
        stays on its conversation; a new filter starts at the top, or on conversation ``keep``
        when it is listed (clearing the filters)."""
        store = replydesk(self).store
        inbox = self.inbox_list
        inbox.empty_text = self._empty_text()
        pager = InboxPager(store, self.filter)
        inbox.account_width = max((len(a["id"]) for a in store.accounts()), default=8)
        if same_filter:
            inbox.show(pager, keep=inbox.current_id)
        elif keep is not None and pager.index_of(keep) is not None:
            inbox.show(pager, keep=keep)
        else:
            inbox.show(pager, reset=True)
        # the store's size decides, not the list's: a search or a filter on a big store lists few
        # rows and may count slowly (a search's counts scan its hits)
        self._count(views=same_filter or not self._view_counts,
                    big=max(len(pager), self._view_counts.get("all", 0)) > COUNTS_INLINE_ROWS)
        self.query_one(StatusBar).show(replydesk(self).health_summary, replydesk(self).engine_note)
        replydesk(self).store_read()

    def _count(self, *, views: bool, big: bool) -> None:
        """The per-view and per-category counts. They scan the store (about a second at a
        million messages), so on a big store they are read in a thread on a connection of its
        own while the list, read first, is already on screen; the bar shows the last counts
        until the new ones arrive. A small store counts at once."""
        self._counts_asked += 1
        asked, wanted = self._counts_asked, self.filter
        if not big and self._counts_cost <= COUNTS_INLINE_SECONDS:
            self._counted(asked, wanted, *count_now(replydesk(self).store, wanted, views))
            return
        if self._counter is None:
            self._counter = CountReader(replydesk(self).store.path)
        counter, user = self._counter, replydesk(self).store.user

        def work() -> None:
            result = counter.count(wanted, views, user)
            self.app.call_from_thread(self._counted, asked, wanted, *result)
        self.run_worker(work, thread=True, group="counts", exit_on_error=False)

    def _counted(self, asked: int, wanted: InboxFilter, views: dict[str, int] | None,
                 categories: dict[str, int], cost: float) -> None:
        if asked != self._counts_asked or wanted != self.filter:
            return  # a newer request is on its way
        self._counts_cost = cost
        if views is not None:
            self._view_counts = views
        self._category_counts = categories
        self._show_counts(self._view_counts, categories)

    def _filtered(self) -> bool:
        f = self.filter
        return bool(f.category or f.account or f.unread or f.search)

    def _show_counts(self, views: dict[str, int], categories: dict[str, int]) -> None:
        top = Text(no_wrap=True, overflow="ellipsis")
        self._view_spans = []
        team = replydesk(self).show_user
        for view, label in VIEW_LABELS.items():
            if view in TEAM_VIEWS and not team and view != self.filter.view:
                continue
            style = "reverse bold" if view == self.filter.view else ""
            start = top.cell_len
            top.append(f" {VIEW_KEYS[view]} {label} {views.get(view, 0):,} ", style=style)
            self._view_spans.append((start, top.cell_len, view))
        self.query_one("#views", Static).update(top)
        f = self.filter
        cats = Text(no_wrap=True, overflow="ellipsis")
        active = [a for a in (
            "unread" if f.unread else "",
            f"mailbox {line(f.account)}" if f.account else "",
            f"“{line(f.search)}” {self._hits()}" if f.search else "",
            f"sorted {SORTS[f.sort].label}" if f.sort != "newest" else "") if a]
        selected = len(self.inbox_list.selected)
        if selected:
            cats.append(f" ✓ {selected:,} selected ", style="bold reverse")
            cats.append(" ")
        new_above = self.inbox_list.new_above
        if new_above:
            cats.append(f" ↑ {new_above:,} new above (t) ", style="bold reverse")
            cats.append(" ")
        if active:
            cats.append(" filter: " + " · ".join(active) + " │", style="bold")
        for category in CATEGORY_LABELS:
            count = categories.get(category, 0)
            if not count and category != f.category:
                continue
            style = "reverse bold" if category == f.category else ""
            cats.append(f" {category_label(category)} {count:,} ", style=style)
        if not categories:
            cats.append(" no conversations", style="dim")
        self.query_one("#categories", Static).update(cats)

    def _hits(self) -> str:
        """How many conversations a search found: "10,000+" past what it lists at once."""
        pager = self.inbox_list.pager
        if pager is None:
            return ""
        return f"{len(pager):,}{'+' if pager.more else ''} found"

    def set_filter(self, **changes: object) -> None:
        self.filter = self.filter.with_(**changes)
        self.inbox_list.selected.clear()
        self.reload(same_filter=False)

    # -- triage --------------------------------------------------------------------------

    def triage_targets(self) -> list[int]:
        return self.inbox_list.targets()

    def after_triage(self, note: str, *, archived: bool = False, labelled: bool = False) -> None:
        inbox = self.inbox_list
        single = not inbox.selected
        labelled_id = inbox.current_id
        inbox.selected.clear()
        self.reload()
        config = replydesk(self).config
        advance = config.general.advance_after_label if config is not None else True
        if labelled and single and advance and inbox.current_id == labelled_id:
            # on to the next conversation (one that left the view already put the cursor there)
            inbox.action_cursor_down()
        replydesk(self).say(note)

    # -- keys ----------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """A click on a view's tab in the top line shows that view."""
        views = self.query_one("#views", Static)
        if event.widget is not views:
            return
        offset = event.get_content_offset(views)
        if offset is None:
            return
        for start, end, view in self._view_spans:
            if start <= offset.x < end:
                self.action_view(view)
                return

    def on_inbox_list_selection_changed(self, _: InboxList.SelectionChanged) -> None:
        self._show_counts(self._view_counts, self._category_counts)

    def on_inbox_list_new_above(self, _: InboxList.NewAbove) -> None:
        self._show_counts(self._view_counts, self._category_counts)

    def on_inbox_list_stale(self, _: InboxList.Stale) -> None:
        if self.inbox_list.pager is not None and self.inbox_list.pager.stale:
            self.reload()

    def on_inbox_list_opened(self, event: InboxList.Opened) -> None:
        replydesk(self).open_conversation(event.conversation_id)

    def action_view(self, view: str) -> None:
        self.set_filter(view=view, category=None)

    def action_sort(self, order: str | None = None) -> None:
        """The next order (newest, oldest, by mailbox), or ``order``; the cursor stays on its
        conversation."""
        names = list(SORTS)
        order = order if order in SORTS else names[(names.index(self.filter.sort) + 1) % len(names)]
        keep = self.inbox_list.current_id
        self.filter = self.filter.with_(sort=order)
        self.reload(same_filter=False, keep=keep)
        replydesk(self).say(f"sorted {SORTS[order].label}")

    def action_outbox(self) -> None:
        self.app.push_screen(OutboxScreen())

    def action_toggle_unread(self) -> None:
        self.set_filter(unread=not self.filter.unread)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = self.filter.search or ""
        search.display = True
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.inbox_list.focus()
        self.set_filter(search=event.value.strip() or None)

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.display:
            search.display = False
            self.inbox_list.focus()
        elif self.inbox_list.selected:
            self.inbox_list.selected.clear()
            self.inbox_list.refresh()
            self._show_counts(self._view_counts, self._category_counts)
        elif self._filtered():
            # back to the whole view, still on the conversation the cursor was on
            keep = self.inbox_list.current_id
            self.filter = self.filter.with_(category=None, account=None, unread=False, search=None)
            self.reload(same_filter=False, keep=keep)

    def action_pick_category(self) -> None:
        counts = self._category_counts
        choices = [Choice(None, "all categories", sum(counts.values()))]
        choices += [Choice(c, category_label(c), counts.get(c, 0)) for c in CATEGORY_LABELS]

        def chosen(choice: Choice | None) -> None:
            if choice is not None:
                self.set_filter(category=choice.value)

        self.app.push_screen(PickerScreen("Filter by category", choices, self.filter.category), chosen)

    def action_pick_account(self) -> None:
        store = replydesk(self).store
        choices = [Choice(None, "all mailboxes")]
        choices += [Choice(acc["id"], mailbox_label(acc["id"], acc["email"], "  ")) for acc in store.accounts()]

        def chosen(choice: Choice | None) -> None:
            if choice is not None:
                self.set_filter(account=choice.value)

        self.app.push_screen(PickerScreen("Filter by mailbox", choices, self.filter.account), chosen)


def count_now(store: Store, wanted: InboxFilter, views: bool) -> tuple[dict[str, int] | None, dict[str, int], float]:
    started = time.monotonic()
    view_counts = store.view_counts() if views else None
    return view_counts, store.category_counts(wanted), time.monotonic() - started


class CountReader:
    """``count_now`` on a connection of its own, for the counts' thread: opened at the first
    count and kept (opening one takes the write lock a moment to check the schema, which waits
    behind the engine's writes), used by one thread at a time."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = path
        self._store: Store | None = None
        self._closed = False
        self._lock = threading.Lock()

    def count(self, wanted: InboxFilter, views: bool,
              user: str) -> tuple[dict[str, int] | None, dict[str, int], float]:
        with self._lock:
            if self._closed:
                return None, {}, 0.0  # the screen is gone: a late count opens nothing
            if self._store is None:
                self._store = Store(self.path if self.path is not None else ":memory:", user)
            self._store.set_user(user)  # the Mine view is the reader's
            return count_now(self._store, wanted, views)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._store is not None:
                self._store.close()
                self._store = None
