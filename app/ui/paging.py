"""Rows of the inbox list, fetched a page at a time from SQLite.

The list may hold 100,000 conversations; only the pages the screen has looked at are in memory.
A page that follows a page already loaded is fetched by keyset (constant time however deep);
jumps (the bottom, a scrollbar drag) fall back to OFFSET once and continue by keyset from there.
Its length is read from the counts the store keeps, not counted. A search, which no count
keeps, reads the ids of its first ``SEARCH_CAP`` conversations in one pass instead: its pages
are looked up by id, and a search with more hits lists those and says "10,000+".
"""

from __future__ import annotations

from collections import OrderedDict

from app.store import InboxFilter, Store
from app.store.inbox import SEARCH_CAP
from app.store.rows import ConversationRow

PAGE_SIZE = 100
MAX_PAGES = 40


class InboxPager:
    """The filtered conversation list as an indexable sequence, for one snapshot of the store."""

    def __init__(self, store: Store, inbox_filter: InboxFilter) -> None:
        self.store = store
        self.filter = inbox_filter
        self.ids: list[int] | None = None
        """A search's conversations, in order (None: not a search)."""
        self.more = False
        """A search found more than it lists."""
        if inbox_filter.search:
            self.ids = store.search_ids(inbox_filter, SEARCH_CAP)
            self.more = len(self.ids) > SEARCH_CAP
            del self.ids[SEARCH_CAP:]
            self.count = len(self.ids)
        else:
            self.count = store.count_conversations(inbox_filter)
        self._pages: OrderedDict[int, list[ConversationRow]] = OrderedDict()
        self.stale = False

    def __len__(self) -> int:
        return self.count

    def row(self, index: int) -> ConversationRow | None:
        if not 0 <= index < self.count:
            return None
        number, at = divmod(index, PAGE_SIZE)
        page = self._page(number)
        if at < len(page):
            return page[at]
        # the store changed between the count and this page (a conversation left the view):
        # this snapshot is out of date, and its holder reads a new one rather than draw gaps
        self.stale = True
        return None

    def _page(self, number: int) -> list[ConversationRow]:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        if self.ids is not None:
            page = self.store.conversations_by_id(self.ids[number * PAGE_SIZE:(number + 1) * PAGE_SIZE])
            return self._keep(number, page)
        before = self._pages.get(number - 1)
        last = before[-1] if before is not None and len(before) == PAGE_SIZE else None
        # every listed conversation has a reply (the filter's first clause): its time is set
        if last is not None and last["last_inbound_at"] is not None:
            page = self.store.conversations_after(self.filter, last, PAGE_SIZE)
        elif (start := number * PAGE_SIZE) > self.count // 2:
            # past the middle, skipping from the bottom skips fewer rows (a jump to the end)
            end = min(start + PAGE_SIZE, self.count)
            page = self.store.conversations_at(self.filter, self.count - end, end - start, from_end=True)
        else:
            page = self.store.conversations_at(self.filter, start, PAGE_SIZE)
        return self._keep(number, page)

    def _keep(self, number: int, page: list[ConversationRow]) -> list[ConversationRow]:
        self._pages[number] = page
        if len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        return page

    def newest_index(self) -> int | None:
        """Where the conversation with the latest reply sits in this list's order."""
        if self.ids is not None:
            newest = self.store.search_ids(self.filter.with_(sort="newest"), cap=0)
        else:
            newest = [r["id"] for r in self.store.conversations_at(self.filter.with_(sort="newest"), 0, 1)]
        return self.index_of(newest[0]) if newest else None

    def listed(self, ids: set[int]) -> set[int]:
        """Those of ``ids`` this list holds (the selection kept through a refresh)."""
        if not ids:
            return set()
        if self.ids is not None:
            return ids & set(self.ids)
        return self.store.listed_among(self.filter, ids)

    def index_of(self, conversation_id: int) -> int | None:
        """Where a conversation sits in this list, or None when the filter leaves it out."""
        for number, page in self._pages.items():
            for at, row in enumerate(page):
                if row["id"] == conversation_id:
                    return number * PAGE_SIZE + at
        if self.ids is not None:
            return self.ids.index(conversation_id) if conversation_id in self.ids else None
        return self.store.position_of(self.filter, conversation_id, self._anchor())

    def _anchor(self) -> tuple[int, ConversationRow] | None:
        """The first row of the page read last (the cursor's, on a refresh), to count from it
        rather than from the top: marked rows are most often near the cursor."""
        for number, page in reversed(self._pages.items()):
            if page:
                return number * PAGE_SIZE, page[0]
        return None
