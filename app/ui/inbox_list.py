"""The unified inbox list: a Line API ScrollView drawing only the rows on screen.

DataTable and ListView build every row up front (tens of seconds for 100,000 rows); this widget
asks an ``InboxPager`` for the visible rows only and draws its own cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.mail.noise import NOISE_KINDS
from app.store.lifecycle import OUTBOX_HELD, OutboxState
from app.store.rows import ConversationRow
from app.ui.followup import followup_cue
from app.ui.paging import InboxPager
from app.ui.text import category_label, line, sender_label, short_time
from app.ui.typed_app import replydesk

BADGE_WIDTH = 14
TIME_WIDTH = 6
FLAGS_WIDTH = 3
"""Our reply's state and an attachment marker, before the category."""


def mailbox_short(account: str, width: int) -> str:
    """A mailbox's name in ``width`` cells: an address that does not fit is cut to its local
    part ("alex" for alex@acme-mail.io), the name a user tells mailboxes apart by."""
    name = line(account)
    if cell_len(name) > width and "@" in name:
        return name.split("@", 1)[0]
    return name


def _short_date(value: str) -> str:
    """An ISO return date as "Jan 12" (stored by the classifier as YYYY-MM-DD)."""
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").strftime("%b %d")
    except ValueError:
        return line(value)[:10]


class InboxList(ScrollView, can_focus=True):
    """Conversations, newest first. The cursor follows a conversation, not a row number."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="cursor_up"),
        Binding("g,home", "top", "Top", show=False, id="top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="bottom"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="page_up"),
        Binding("enter", "open", "Open", show=False, id="open"),
        Binding("x", "select", "Select", show=False, id="select"),
        Binding("J,shift+down", "extend(1)", "Select down", show=False, id="select_down"),
        Binding("K,shift+up", "extend(-1)", "Select up", show=False, id="select_up"),
        Binding("asterisk", "select_all", "Select all in view", show=False, id="select_all"),
        Binding("t", "jump_new", "Newest (new above)", show=False, id="jump_new"),
    ]

    COMPONENT_CLASSES = {
        "inbox-list--cursor", "inbox-list--unread", "inbox-list--time", "inbox-list--sender",
        "inbox-list--subject", "inbox-list--snippet", "inbox-list--account", "inbox-list--mark",
        "inbox-list--empty", "inbox-list--unread-mark", "inbox-list--flags", "inbox-list--failed",
        *(f"inbox-list--badge-{c}" for c in (
            "interested", "meeting", "not_interested", "unsubscribe", "wrong_person", "out_of_office",
            "bounce", "auto_reply", "uncategorized", "warmup", "internal", "bulk")),
    }

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    @dataclass
    class Opened(Message):
        """The user asked to open the conversation under the cursor."""

        conversation_id: int

    @dataclass
    class NewAbove(Message):
        """How many conversations arrived above the rows on screen while the list was scrolled
        down (0: none, or the user has seen them)."""

        count: int

    class SelectionChanged(Message):
        """Conversations were marked or unmarked: the screen shows how many are."""

    class Stale(Message):
        """The list's snapshot no longer matches the store (rows missing where the count
        promised some): its screen reads the list again."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, InboxList.Stale)

    def __init__(self, *, empty_text: str = "Nothing here.", id: str | None = None) -> None:
        super().__init__(id=id)
        self.pager: InboxPager | None = None
        self.selected: set[int] = set()
        self._strips: dict[tuple[int, int, bool, str], Strip] = {}
        """Drawn rows by (conversation, width, selected), for the current snapshot and theme."""
        self.empty_text = empty_text
        self.new_above = 0
        self.account_width = 24
        """The longest mailbox name shown (set by the screen from the store's mailboxes)."""

    # -- data ----------------------------------------------------------------------------

    def show(self, pager: InboxPager, keep: int | None = None, *, reset: bool = False) -> None:
        """Show a new snapshot of the list. ``reset``: cursor on the first row. Otherwise the
        cursor stays on conversation ``keep`` if it is still listed, else on the same row number."""
        old_index, old_scroll = self.cursor, round(self.scroll_y)
        self.pager = pager
        self._strips.clear()
        if not reset:
            # the page the cursor was on, drawn next in most cases, finds the cursor's conversation
            # and the rows marked near it: only those that moved far cost a lookup in the store
            pager.row(old_index)
        # a marked conversation that left the list (archived elsewhere) must not be acted on unseen
        # (one query for the whole selection: a lookup per row froze the screen for minutes at
        # every refresh once a view of 60,000 was selected)
        self.selected = pager.listed(self.selected)
        self.virtual_size = Size(self.size.width, len(pager))
        index = None if reset or keep is None else pager.index_of(keep)
        if reset:
            index, scroll = 0, 0
            self._set_new_above(0)
        elif index is None:
            index = min(old_index, max(0, len(pager) - 1))
            scroll = old_scroll
        elif old_scroll == 0:
            # at the top, new arrivals stay in sight: the rows below shift, the cursor with its row
            scroll = 0
        else:
            # scrolled into the list, the cursor's row keeps its line on the screen; what arrived
            # above it is counted ("3 new above") instead of scrolling away unseen
            scroll = old_scroll + (index - old_index)
            if index > old_index:
                self._set_new_above(self.new_above + index - old_index)
        max_scroll = max(0, len(pager) - self.scrollable_content_region.height)
        self.scroll_to(y=max(0, min(scroll, max_scroll)), animate=False, immediate=True)
        self.set_reactive(InboxList.cursor, index)
        self._keep_cursor_visible()
        self.refresh()

    @property
    def current(self) -> ConversationRow | None:
        return self.pager.row(self.cursor) if self.pager else None

    @property
    def current_id(self) -> int | None:
        row = self.current
        return row["id"] if row else None

    def targets(self) -> list[int]:
        """What a triage key acts on: the selection, else the row under the cursor."""
        if self.selected:
            return sorted(self.selected)
        return [self.current_id] if self.current_id is not None else []

    # -- cursor --------------------------------------------------------------------------

    def _set_new_above(self, count: int) -> None:
        if count != self.new_above:
            self.new_above = count
            self.post_message(self.NewAbove(count))

    def watch_cursor(self, old: int, new: int) -> None:
        top = round(self.scroll_y)
        self._keep_cursor_visible()
        if round(self.scroll_y) == 0:
            self._set_new_above(0)  # the top of the list is on screen: nothing new is hidden
        if round(self.scroll_y) == top:
            # only the two rows the cursor left and entered change: redraw just those
            self.refresh_line(old)
            self.refresh_line(new)
        else:
            self.refresh()

    def _move(self, index: int) -> None:
        if self.pager is None or not len(self.pager):
            return
        self.cursor = max(0, min(index, len(self.pager) - 1))

    def _keep_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_top(self) -> None:
        self._move(0)

    def action_bottom(self) -> None:
        self._move(len(self.pager) - 1 if self.pager else 0)

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_jump_new(self) -> None:
        """To the newest conversation, where the ones counted as new above are: the top row
        newest first, wherever it sits in another order (its mailbox's group, the bottom)."""
        self._set_new_above(0)
        if self.pager is None or self.pager.filter.sort == "newest":
            self._move(0)
            return
        index = self.pager.newest_index()
        self._move(index if index is not None else 0)

    def action_open(self) -> None:
        if self.current_id is not None:
            self.post_message(self.Opened(self.current_id))

    def action_select(self) -> None:
        conv = self.current_id
        if conv is None:
            return
        self.selected ^= {conv}
        self.post_message(self.SelectionChanged())
        self.refresh()
        self._move(self.cursor + 1)

    def action_extend(self, step: int) -> None:
        """Range select: mark the row under the cursor and the one it moves to."""
        if self.current_id is None:
            return
        self.selected.add(self.current_id)
        self._move(self.cursor + step)
        if self.current_id is not None:
            self.selected.add(self.current_id)
        self.post_message(self.SelectionChanged())
        self.refresh()

    def action_select_all(self) -> None:
        """Every conversation of the view and its filters; again: none."""
        if self.pager is None:
            return
        everything = set(self.pager.store.conversation_ids(self.pager.filter))
        self.selected = set() if everything and everything <= self.selected else everything
        self.post_message(self.SelectionChanged())
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to a row; a click on the row already under it opens it."""
        index = round(self.scroll_y) + event.y
        if self.pager is not None and index == self.cursor and 0 <= index < len(self.pager):
            self.action_open()
            return
        self._move(index)

    # -- drawing -------------------------------------------------------------------------

    def on_mount(self) -> None:
        # times read "14:05" today and "Nov 24" tomorrow: redraw now and then with no data change
        self.set_interval(60, self._redraw)

    def _redraw(self) -> None:
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        self._strips.clear()
        super().notify_style_update()

    def on_resize(self) -> None:
        if self.pager is not None:
            self.virtual_size = Size(self.size.width, len(self.pager))

    def _columns(self, width: int) -> tuple[int, int, int]:
        sender = max(10, min(28, width // 5))
        # the mailbox column is as wide as the longest mailbox name, no wider: the rest goes to
        # the subject and the snippet
        account = min(max(3, self.account_width), max(8, min(24, width // 7)))
        subject = max(8, width - (3 + TIME_WIDTH + 1 + sender + 1 + 1 + FLAGS_WIDTH + BADGE_WIDTH + 1 + account))
        return sender, subject, account

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = round(self.scroll_y) + y
        if self.pager is None or not len(self.pager):
            if y == 1:
                style = base + self.get_component_rich_style("inbox-list--empty", partial=True)
                return Strip([Segment(set_cell_size("  " + self.empty_text, width), style)])
            return Strip.blank(width, base)
        row = self.pager.row(index)
        if row is None:
            if self.pager.stale:
                self.post_message(self.Stale())
            return Strip.blank(width, base)
        key = (row["id"], width, row["id"] in self.selected, replydesk(self).presence_text(row["id"]))
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) > 1000:
                self._strips.clear()
            strip = self._strips[key] = Strip(self._row_segments(row, width), width)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("inbox-list--cursor", partial=True))
        return strip.adjust_cell_length(width, base).apply_style(base)

    def _row_segments(self, row: ConversationRow, width: int) -> list[Segment]:
        sender_w, subject_w, account_w = self._columns(width)
        def style(name: str) -> Style:
            return self.get_component_rich_style(name, partial=True, default=Style())

        unread = Style(bold=True) if row["unread_count"] else Style()
        if row["unread_count"]:
            unread += style("inbox-list--unread")
        category = row["category"] or "uncategorized"
        subject = line(row["subject"]) or "(no subject)"
        if row.get("note"):
            subject = "✎ " + subject
        if row.get("assigned_to"):
            subject = f"@{line(row['assigned_to'])} · {subject}"
        if here := replydesk(self).presence_text(row["id"]):
            subject = f"{line(here)} · {subject}"
        app = replydesk(self)
        cue = followup_cue(row, app.clock(), app.tz, app.follow_up_days)
        if cue:
            snippet = f"[{cue}]"
        elif row["kind"] in NOISE_KINDS and row.get("reason"):
            snippet = line(row["reason"])  # noise says why it is noise where a reply shows what it says
        else:
            snippet = line(row["snippet"])
        if (back := row["ooo_until"]) and category == "out_of_office" and not cue:
            subject = f"back {_short_date(back)} · {subject}"  # first: the snippet may not fit
        if snippet and cell_len(subject) + 4 < subject_w:
            subject_cells = subject
            snippet_cells = set_cell_size(" — " + snippet, subject_w - cell_len(subject))
        else:
            subject_cells, snippet_cells = set_cell_size(subject, subject_w), ""
        # a marker per state, so that it survives a monochrome terminal: selected, unread, then
        # our reply (answered, a draft, a reply that did not go) and attachments
        mark = "✓" if row["id"] in self.selected else " "
        dot = "•" if row["unread_count"] else " "
        state = row.get("outbox_state")
        reply = "!" if state in OUTBOX_HELD else "…" if state == OutboxState.DRAFT else (
            "↩" if row.get("answered") else " ")
        clip = "⊕" if row.get("attachments") else " "
        return [
            Segment(mark, style("inbox-list--mark")),
            Segment(dot + " ", style("inbox-list--unread-mark")),
            Segment(set_cell_size(short_time(row["last_inbound_at"], replydesk(self).clock(), replydesk(self).tz),
                                  TIME_WIDTH) + " ", style("inbox-list--time") + unread),
            Segment(set_cell_size(sender_label(row["counterpart_name"], row["counterpart"]), sender_w) + " ",
                    style("inbox-list--sender") + unread),
            Segment(subject_cells, style("inbox-list--subject") + unread),
            Segment(snippet_cells, style("inbox-list--snippet")),
            Segment(" "),
            Segment(reply, style("inbox-list--failed") if reply == "!" else style("inbox-list--flags")),
            Segment(clip + " ", style("inbox-list--flags")),
            Segment(set_cell_size(category_label(category), BADGE_WIDTH), style(f"inbox-list--badge-{category}")),
            Segment(" "),
            Segment(set_cell_size(mailbox_short(row["account"], account_w), account_w), style("inbox-list--account")),
        ]
