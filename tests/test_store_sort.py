"""The inbox's three orders (newest first, oldest first, by mailbox) page through the list with
no conversation lost or repeated, however the pages fall: by keyset after a page, by position
from the top or from the bottom, with many conversations sharing one time. The cursor's
position agrees with the pages. On both backends, the plans too."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from app.store import InboxFilter, Store
from app.store.inbox import SORTS
from tests.conftest import new_pg_store
from tests.storefill import incoming

T0 = 1_800_000_000.0
ACCOUNTS = ("c-box", "a-box", "b-box")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    """One filled store for the module, on each backend (what ``store_target`` gives a test)."""
    with pytest.MonkeyPatch.context() as env:
        if request.param == "sqlite":
            target: Path | str = tmp_path_factory.mktemp("sort") / "rd.db"
        else:
            postgres = request.getfixturevalue("postgres")
            env.setenv("PGPASSWORD", postgres.password)
            target = new_pg_store(postgres, request.getfixturevalue("pg_store_template"))
        yield from _filled(target)


def _filled(target):
    s = Store(target)
    for acc in ACCOUNTS:
        s.ensure_account(acc, f"{acc}@sender.example")
    for n, acc in enumerate(ACCOUNTS):
        # times in steps of 5 minutes with four conversations on each: ties within a mailbox and
        # across mailboxes, so only the id orders them
        s.add_messages(acc, [
            incoming(i + 1, f"<{acc}-{i}@p>", f"Re: offer {i}", f"p{n}-{i}@p.example",
                     category=("interested", "uncategorized")[i % 2], received_at=T0 - (i // 4) * 300)
            for i in range(37 + n * 5)])
    convs = s.conversation_ids(InboxFilter(view="all"))
    s.archive(convs[::9])
    yield s
    s.close()


def expected(store: Store, f: InboxFilter) -> list[int]:
    """The order the sort promises, worked out here from every listed row."""
    rows = store.conversations_at(f.with_(sort="newest"), 0, 100_000)
    if f.sort == "newest":
        key = lambda r: (-r["last_inbound_at"], -r["id"])  # noqa: E731
    elif f.sort == "oldest":
        key = lambda r: (r["last_inbound_at"], r["id"])  # noqa: E731
    else:
        key = lambda r: (r["account"], -r["last_inbound_at"], -r["id"])  # noqa: E731
    return [r["id"] for r in sorted(rows, key=key)]


FILTERS = [InboxFilter(), InboxFilter(view="all"), InboxFilter(category="interested"),
           InboxFilter(account="b-box"), InboxFilter(view="archived"), InboxFilter(search="offer")]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f"{f.view}-{f.category}-{f.account}-{f.search}")
def test_each_order_pages_by_keyset_with_no_row_lost_or_repeated(store, sort, f):
    f = f.with_(sort=sort)
    want = expected(store, f)
    assert len(want) == store.count_conversations(f) > 3
    assert [r["id"] for r in store.conversations_at(f, 0, 100_000)] == want
    if f.search:
        assert store.search_ids(f) == want
    for size in (1, 3, 4, 7, 50):
        page = store.conversations_at(f, 0, size)
        walked = [r["id"] for r in page]
        while page:
            page = store.conversations_after(f, page[-1], size)
            walked += [r["id"] for r in page]
        assert walked == want, size
        # a jump to the bottom reads the last page from the end, still in the list's order
        tail = store.conversations_at(f, 0, size, from_end=True)
        assert [r["id"] for r in tail] == want[-size:]
    # the cursor's position after a refresh
    for index in (0, 1, len(want) // 2, len(want) - 1):
        assert store.position_of(f, want[index]) == index


def test_the_orders_differ_and_mailboxes_group(store):
    f = InboxFilter(view="all")
    newest, oldest, mailbox = (expected(store, f.with_(sort=s)) for s in ("newest", "oldest", "mailbox"))
    assert oldest == newest[::-1]
    accounts = [r["account"] for r in store.conversations_at(f.with_(sort="mailbox"), 0, 1000)]
    assert accounts == sorted(accounts) and set(accounts) == set(ACCOUNTS)
    assert mailbox != newest


@contextmanager
def each_statement(store: Store, callback: Callable[[str, Sequence[Any]], object]) -> Iterator[None]:
    """``callback(sql, params)`` before each statement the store's connection runs, on either
    backend (SQLite's trace callback: its parameters are already in the text)."""
    conn = store.db.conn
    if store.db.dialect.name == "sqlite":
        conn.set_trace_callback(lambda sql: callback(sql, ()))
        try:
            yield
        finally:
            conn.set_trace_callback(None)
        return
    from app.store.pgdb import PgConnection
    pg = cast(PgConnection, conn)
    execute = pg.execute

    def traced(sql: str, params: Sequence[Any] = ()) -> Any:
        callback(sql, params)
        return execute(sql, params)
    pg.execute = traced  # type: ignore[method-assign]
    try:
        yield
    finally:
        del pg.execute


def outer_plans(store: Store, run: Callable[[], object], pick: Callable[[str], bool]) -> list[str]:
    """The plan steps of the outer query of each statement ``run`` makes that ``pick`` selects
    (a row's computed columns sort their own few rows). On PostgreSQL with sorting priced out of
    reach (enable_sort off, as a table of a million rows prices it): a plan still sorts only
    where no index gives the order."""
    conn = store.db.conn
    seen: list[tuple[str, Sequence[Any]]] = []
    with each_statement(store, lambda sql, params: seen.append((sql, params))):
        run()
    if store.db.dialect.name == "sqlite":
        return [row[3] for sql, _ in seen if pick(sql)
                for row in conn.execute("EXPLAIN QUERY PLAN " + sql) if row[1] == 0]
    from app.store.pgdb import PgConnection, to_pg
    pg = cast(PgConnection, conn)
    steps: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Parent Relationship") not in ("SubPlan", "InitPlan"):
            steps.append(f"{node['Node Type']} {node.get('Index Name', '')}".strip())
            for child in node.get("Plans", ()):
                walk(child)
    pg.raw.execute("SET enable_sort = off")
    try:
        for sql, params in seen:
            if pick(sql):
                [[plan]] = pg.raw.execute("EXPLAIN (FORMAT JSON) " + to_pg(sql, pg.identity)[0],
                                          list(params)).fetchall()
                walk(plan[0]["Plan"])
    finally:
        pg.raw.execute("RESET enable_sort")
    return steps


def sorts(step: str) -> bool:
    return "TEMP B-TREE" in step or "Sort" in step.split(" ")[0]


@pytest.mark.parametrize("sort", ["oldest", "mailbox"])
def test_each_order_reads_its_pages_from_an_index(store, sort):
    """No order sorts the whole list to read a page: the first and a keyset page walk an index."""
    f = InboxFilter(view="all", sort=sort)
    first = store.conversations_at(f, 0, 5)
    for read in (lambda: store.conversations_at(f, 0, 5), lambda: store.conversations_after(f, first[-1], 5)):
        plans = outer_plans(store, read, lambda sql: "ORDER BY" in sql and sql.startswith("SELECT"))
        assert plans and not any(sorts(p) for p in plans), plans


def _outbox_listing_store(target) -> tuple[Store, list[int]]:
    """Forty replies in every state, their sent times out of the order they were written in,
    some tied; and the order the listing promises: what did not go, then the newest sent."""
    s = Store(target)
    for i in range(40):
        state = ("draft", "queued")[i % 2] if i % 5 == 0 else "queued"
        s.queue_reply(account="a", message_id=f"<l{i}@x>", raw=b"x", recipients=[f"p{i}@p.example"],
                      subject=f"Re: {i}", body=f"text {i}", state=state)
    queued = [item["id"] for item in s.outbox(("queued",))]
    for n, item_id in enumerate(queued):
        s.claim_item(item_id)
        if n % 7 == 0:
            s.set_outbox_state(item_id, "failed", error="550 no")
        elif n % 11 == 0:
            continue  # left sending
        else:
            s.record_sent(item_id, append_to_sent=False)
    s.db.conn.execute("UPDATE outbox SET sent_at = 1000 + (id * 7) % 13 WHERE state = 'sent'")
    rank = {"failed": 0, "uncertain": 0, "draft": 1, "sent": 3}
    every = s.db.conn.execute("SELECT id, state, coalesce(sent_at, updated_at) FROM outbox").fetchall()
    return s, [i for i, _, _ in sorted(every, key=lambda r: (rank.get(r[1], 2), -r[2], -r[0]))]


def test_sent_and_drafts_lists_what_did_not_go_then_the_newest_sent(store_target):
    s, want = _outbox_listing_store(store_target("listing.db"))
    for limit in (3, 10, 40, 500):
        items, total = s.outbox_listing(limit)
        assert [item["id"] for item in items] == want[:limit] and total == 40
    s.close()


def test_the_sent_listing_reads_from_an_index(store_target):
    s, _ = _outbox_listing_store(store_target("listing.db"))
    plan = outer_plans(s, lambda: s.outbox_listing(5), lambda sql: "state = 'sent'" in sql)
    assert any("outbox_sent" in step for step in plan) and not any(sorts(step) for step in plan), plan
    s.close()


def test_a_reply_sent_between_the_listings_two_reads_is_listed_once_as_sent(store_target):
    """The engine records a reply sent (another connection) just as the Sent and drafts screen
    has read what did not go and turns to what was sent: the reply is listed once, as sent
    (the screen keys its rows by id: twice, it stopped on a duplicate key)."""
    target = store_target("listing.db")
    s, engine = Store(target), Store(target)
    item_id = s.queue_reply(account="a", message_id="<m@x>", raw=b"x", recipients=["p@p.example"],
                            subject="Re: the deck", body="Here it is.")
    s.claim_item(item_id)  # sending
    recorded = []

    def between(sql: str, _params: object) -> None:
        if "state = 'sent'" in sql and not recorded:
            engine.record_sent(item_id, append_to_sent=False)
            recorded.append(item_id)
    with each_statement(s, between):
        items, total = s.outbox_listing(10)
    assert recorded == [item_id]
    assert [(item["id"], item["state"]) for item in items] == [(item_id, "sent")] and total == 1
    s.close()
    engine.close()
