"""A search and a jump on a big list: the ways the store takes to stay fast at a million
messages list exactly what the plain way lists, in the same order. A broad search (many hits)
walks the list; a narrow one looks its hits up; a search lists its first conversations by id
and says when there are more; a page near the bottom is read from the bottom."""

from __future__ import annotations

import pytest

import app.store.inbox as inbox_queries
from app.store import InboxFilter, Store
from app.store.db import now
from tests.storefill import incoming

WORDS = ("budget", "calendar", "pricing", "later", "remove")


@pytest.fixture
def store(store_target):
    s = Store(store_target())
    s.ensure_account("a", "me@sender.example")
    t = now()
    s.add_messages("a", [
        incoming(i, f"<m{i}@p>", f"Re: {WORDS[i % 5]} {WORDS[i % 3]}", f"p{i % 40}@p.example",
                 text=f"about the {WORDS[i % 4]} and {WORDS[i % 5]}", in_reply_to=f"<m{i - 40}@p>" if i > 40 else None,
                 category=("interested", "meeting", "uncategorized")[i % 3], received_at=t - i * 60)
        for i in range(1, 161)])
    conv = s.conversations_at(InboxFilter(), 7, 1)[0]["id"]
    s.set_note(conv, "call Lena about the zebra budget")
    s.archive([r["id"] for r in s.conversations_at(InboxFilter(), 20, 10)])
    yield s
    s.close()


def plain(store: Store, f: InboxFilter) -> list[int]:
    return [r["id"] for r in store.conversations_at(f, 0, 10_000)]


@pytest.mark.parametrize("search", ["budget", "calendar pricing", "zebra", "lena budget", "p7@p.example", "nothing"])
@pytest.mark.parametrize("view", ["replies", "all", "archived"])
def test_a_broad_and_a_narrow_search_list_the_same_conversations_in_the_same_order(store, monkeypatch, search,
                                                                                       view):
    f = InboxFilter(view=view, search=search)
    monkeypatch.setattr(inbox_queries, "BROAD_HITS", 10**9)
    narrow = store.search_ids(f)
    assert narrow == plain(store, f)
    monkeypatch.setattr(inbox_queries, "BROAD_HITS", 1)
    assert store.search_ids(f) == narrow == plain(store, f)
    assert store.count_conversations(f) == len(narrow)
    if search == "zebra":  # found in the note only
        assert len(narrow) == (view != "archived")
    if search == "budget":
        assert narrow


def test_a_search_lists_one_more_than_its_cap_to_say_there_are_more(store):
    f = InboxFilter(search="budget")
    everything = store.search_ids(f)
    assert len(everything) > 5
    assert store.search_ids(f, cap=5) == everything[:6]
    assert [r["id"] for r in store.conversations_by_id(everything[3:1:-1])] == everything[3:1:-1]


@pytest.mark.parametrize("f", [InboxFilter(), InboxFilter(search="budget"), InboxFilter(category="meeting")])
def test_a_page_read_from_the_bottom_is_the_tail_of_the_list(store, f):
    whole = plain(store, f)
    assert len(whole) > 10
    for offset, limit in ((0, 3), (2, 5), (0, len(whole)), (len(whole) - 2, 5)):
        tail = [r["id"] for r in store.conversations_at(f, offset, limit, from_end=True)]
        stop = len(whole) - offset
        assert tail == whole[max(0, stop - limit):stop]


@pytest.mark.parametrize("f", [InboxFilter(), InboxFilter(category="meeting"), InboxFilter(view="all", unread=True),
                               InboxFilter(sort="mailbox"), InboxFilter(sort="oldest")])
def test_a_position_counted_from_a_row_nearby_is_the_position_counted_from_the_top(store, f):
    rows = store.conversations_at(f, 0, 10_000)
    assert len(rows) > 10
    for target in (0, 3, len(rows) // 2, len(rows) - 1):
        conv = rows[target]["id"]
        assert store.position_of(f, conv) == target
        for anchor in (0, target, len(rows) - 1, max(0, target - 2)):
            a = rows[anchor]
            assert store.position_of(f, conv, (anchor, a)) == target
