"""How the inbox TUI feels with 100,000 messages in the store.

    python bench/bench_ui.py [--size 100000] [--db PATH]
    python bench/bench_ui.py --sizes 100000 1000000 --dir DIR   # side by side, stores shared with bench_store
    python bench/bench_ui.py --size 100000 --postgres            # the same store on SQLite and on PostgreSQL

Fills a fresh store with direct inserts (80% of the messages inbound replies, bounces and
auto-replies across 50 mailboxes, 20% our sent mail in the same threads; FTS index included),
then drives the app headless with Pilot and prints: time to first paint (and to the counts
above the list), cursor move p50/p95, a jump to the bottom, applying a filter, switching view, a
full-text search (each to its list on screen, the event loop's CPU for it, and to the whole
process idle, the counts' thread included), an arrival from another connection to the screen,
and the cost of one refresh after another connection commits (at the top, and deep in the list
with rows marked).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.store import Store  # noqa: E402
from app.ui import ReplydeskApp  # noqa: E402
from app.ui.inbox_list import InboxList  # noqa: E402

WORDS = ("pricing demo timeline budget quarter team calendar invite thanks interested later "
         "remove unsubscribe wrong person contact vacation return monday integration security "
         "review proposal contract pilot onboarding").split()
CATEGORIES = ["interested", "meeting", "not_interested", "wrong_person", "uncategorized", "unsubscribe"]


def fill(path: Path, messages: int, accounts: int = 50) -> None:
    rnd = random.Random(7)
    store = Store(path)
    conn = store.db.conn
    now = time.time()
    inbound = messages * 4 // 5
    with store.db.tx():
        for a in range(accounts):
            conn.execute("INSERT INTO accounts (id, email, state, sync_done, sync_total) VALUES (?, ?, ?, ?, ?)",
                         (f"box{a:02d}", f"box{a:02d}@sender.example", "idle", 2000, 2000))
        conv_rows, msg_rows = [], []
        for i in range(inbound):
            account = f"box{i % accounts:02d}"
            at = now - i * 30 - rnd.random() * 30
            roll = rnd.random()
            kind, category = (("bounce", "bounce") if roll < 0.12 else ("autoreply", "out_of_office") if roll < 0.2
                              else ("reply", rnd.choice(CATEGORIES)))
            sender = f"prospect{i}@company{i % 997}.example"
            subject = f"Re: {rnd.choice(WORDS)} {rnd.choice(WORDS)} for company {i % 997}"
            text = " ".join(rnd.choice(WORDS) for _ in range(30))
            unread = int(rnd.random() < 0.3)
            conv_rows.append((i + 1, account, f"<t{i}@x>", subject, sender, f"Prospect {i}", text[:80], kind,
                              category, at, at, 2 if i < messages // 5 else 1, 1, unread))
            msg_rows.append((account, "INBOX", 1, i + 1, f"<m{i}@x>", i + 1, "in", sender, f"Prospect {i}",
                             f"Prospect {i} {sender}", subject, at, at, 1 - unread, kind, category, text,
                             text, text[:200], text[:80]))
        for i in range(messages - inbound):
            account = f"box{i % accounts:02d}"
            at = now - i * 30 - 86400
            msg_rows.append((account, "Sent", 1, i + 1, f"<s{i}@x>", i + 1, "out", f"{account}@sender.example",
                             "", account, "quick question", at, at, 1, "outbound", "sent", "hi", "hi", "hi", "hi"))
        conn.executemany(
            "INSERT INTO conversations (id, account, thread_key, subject, counterpart, counterpart_name, snippet, "
            "kind, category, last_message_at, last_inbound_at, message_count, inbound_count, unread_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", conv_rows)
        conn.executemany(
            "INSERT INTO messages (account, folder, uidvalidity, uid, message_id, conversation_id, direction, "
            "from_addr, from_name, sender, subject, sent_at, received_at, seen, kind, category, body_text, "
            "new_text, search_text, snippet) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            msg_rows)
    conn.execute("ANALYZE")
    store.close()


def arrive(path: Path | str) -> int:
    """A new reply committed by another connection, as the engine does."""
    store = Store(path)
    try:
        with store.db.tx() as conn:
            now = time.time()
            conv = conn.execute(
                "INSERT INTO conversations (account, thread_key, subject, counterpart, kind, category, "
                "last_inbound_at, message_count, inbound_count, unread_count) VALUES "
                "('box00', ?, 'Re: just arrived', 'new@arrival.example', 'reply', 'interested', ?, 1, 1, 1)",
                (f"<arrival{now}@x>", now)).lastrowid
            conn.execute(
                "INSERT INTO messages (account, folder, uidvalidity, uid, message_id, conversation_id, "
                "from_addr, subject, received_at, kind, category) VALUES "
                "('box00', 'INBOX', 2, ?, ?, ?, 'new@arrival.example', 'Re: just arrived', ?, 'reply', "
                "'interested')", (int(now * 1000) % 2_000_000_000, f"<arrival{now}@x>", conv, now))
        return conv
    finally:
        store.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def drive(path: Path | str) -> dict[str, str]:
    figures: dict[str, str] = {}
    started = time.perf_counter()
    app = ReplydeskApp(path)
    async with app.run_test(size=(100, 30)) as pilot:
        inbox = app.screen.query_one(InboxList)
        while inbox.pager is None:
            await pilot.pause(0.001)
        await pilot.pause()
        figures["first paint (app start to a drawn list)"] = ms(time.perf_counter() - started)
        total = len(inbox.pager)
        figures["rows in the default view"] = f"{total:,}"
        while f"Replies {total:,}" not in str(app.screen.query_one("#views").render()):
            await pilot.pause(0.001)
        figures["  the counts above it (app start to on screen)"] = ms(time.perf_counter() - started)

        async def timed(*keys: str) -> float:
            t = time.perf_counter()
            await pilot.press(*keys)
            await pilot.pause()
            return time.perf_counter() - t

        async def listed(name: str, *keys: str) -> None:
            """The key to its list read and handed to the widget (drawn at the next frame), with
            the event loop's CPU for it; then to the whole process idle, the counts (read in
            their thread on a big store) in. Pilot's press itself waits for the process to idle,
            counting every thread's CPU, so the list's moment is taken from the screen's reload."""
            screen = app.screen
            reload = screen.reload
            done: list[float] = []

            def reload_timed(**kw: Any) -> None:
                reload(**kw)
                done.append(time.perf_counter())
            screen.reload = reload_timed  # type: ignore[method-assign]
            t = time.perf_counter()
            cpu = time.thread_time()  # the event loop's thread only
            try:
                await pilot.press(*keys)
            finally:
                screen.reload = reload  # type: ignore[method-assign]
            figures[f"{name}: list on screen"] = ms(done[0] - t)
            figures[f"  {name}: event loop CPU"] = ms(time.thread_time() - cpu)
            await pilot.pause()
            figures[f"  {name}: counts in too (Pilot idle)"] = ms(time.perf_counter() - t)

        # wall time includes Pilot's own idle waits; CPU time is what the app spent on the move
        moves, cpu = [], []
        for _ in range(300):
            t, c = time.perf_counter(), time.process_time()
            await pilot.press("j")
            await pilot.pause()
            moves.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        moves.sort()
        cpu.sort()
        figures["cursor move p50 (Pilot round trip)"] = ms(statistics.median(moves))
        figures["cursor move p95 (Pilot round trip)"] = ms(moves[int(len(moves) * 0.95)])
        figures["cursor move p50 (CPU)"] = ms(statistics.median(cpu))
        figures["cursor move p95 (CPU)"] = ms(cpu[int(len(cpu) * 0.95)])

        figures["a key bound to nothing (Pilot's own floor)"] = ms(await timed("f12"))
        figures["jump to bottom (G)"] = ms(await timed("G"))
        figures["jump to top (g)"] = ms(await timed("g"))
        await listed("filter: unread only (u)", "u")
        await listed("filter off (u)", "u")
        await listed("view: bounces (2)", "2")
        await listed("view: replies (1)", "1")
        await pilot.press("slash", *"calendar budget")
        await listed("search 'calendar budget' (enter)", "enter")
        figures["  hits"] = f"{len(inbox.pager):,}{'+' if inbox.pager.more else ''}"
        await pilot.press("slash", *["backspace"] * 20, *"prospect4242")
        await listed("search 'prospect4242' (enter)", "enter")
        figures["  hits "] = f"{len(inbox.pager):,}{'+' if inbox.pager.more else ''}"
        await pilot.press("escape")
        await pilot.pause(1.0)
        arrivals = []
        for _ in range(5):
            t = time.perf_counter()
            new_id = await asyncio.to_thread(arrive, path)
            while inbox.pager.row(0)["id"] != new_id:
                await pilot.pause(0.005)
            arrivals.append(time.perf_counter() - t)
            await pilot.pause(0.5)
        figures["arrival from another connection to on screen, median of 5"] = ms(statistics.median(arrivals))
        figures["refresh after a commit elsewhere (counts + list)"] = ms(app.reload_cost)
        # deep in the list with rows marked, the cursor and the marks must be found again
        await pilot.press("G", *["pageup"] * 300, "x", "j", "x", "j", "x")
        await pilot.pause()
        before = len(inbox.pager)
        await asyncio.to_thread(arrive, path)
        while len(inbox.pager) == before:
            await pilot.pause(0.005)
        await pilot.pause(0.3)
        figures["  the same, cursor deep in the list and 3 rows marked"] = ms(app.reload_cost)
        figures["    (the cursor's row)"] = f"{inbox.cursor:,}"
    return figures


def copied_to_postgres(path: Path) -> tuple[Any, str]:
    """A PostgreSQL started for the run (fsync on), holding a copy of the store at ``path``."""
    import subprocess

    from tests.servers.postgres import Postgres
    server = Postgres(durable=True)
    server.start()
    os.environ["PGPASSWORD"] = server.password
    url = server.url(server.create_database())
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app", "db", "copy", str(path), url], check=True,
                   cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL)
    print(f"copied to PostgreSQL in {time.perf_counter() - t:.1f} s", flush=True)
    with server.connect(url.rsplit("/", 1)[1]) as conn:
        conn.execute("ANALYZE")
    return server, url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", "--size", type=int, default=100_000,
                        help="messages in the generated store (e.g. --size 1000000)")
    parser.add_argument("--db", type=Path, help="reuse or create the store here")
    parser.add_argument("--sizes", type=int, nargs="+",
                        help="several sizes side by side (the first is the baseline), stores in --dir")
    parser.add_argument("--dir", type=Path, help="with --sizes: keep (and reuse) the stores here")
    parser.add_argument("--postgres", action="store_true",
                        help="beside the SQLite store, the same store copied (replydesk db copy) into a PostgreSQL "
                             "started for the run (Debian's postgresql package, fsync on)")
    args = parser.parse_args()
    if args.sizes:
        where = args.dir or Path(tempfile.mkdtemp(prefix="replydesk-bench-"))
        where.mkdir(parents=True, exist_ok=True)
        runs = [(size, where / f"store-{size}.db") for size in args.sizes]
    else:
        runs = [(args.messages, args.db or Path(tempfile.mkdtemp(prefix="replydesk-bench-")) / "bench.db")]
    results = []
    server = None
    targets: list[tuple[str, Path | str]] = []
    for size, path in runs:
        if not path.exists():
            t = time.perf_counter()
            fill(path, size)
            print(f"filled {size:,} messages in {time.perf_counter() - t:.1f} s ({path})", flush=True)
        targets.append((f"{size:,}", path))
    if args.postgres:
        server, url = copied_to_postgres(runs[0][1])
        targets.append((f"{runs[0][0]:,} PG", url))
    try:
        for _, target in targets:
            results.append(asyncio.run(drive(target)))
    finally:
        if server is not None:
            server.cleanup()
    width = max(map(len, results[0]))
    if len(results) > 1:
        print(f"{'':<{width}}  " + "  ".join(f"{name:>12}" for name, _ in targets))
    for name in results[0]:
        print(f"{name:<{width}}  " + "  ".join(f"{r.get(name, ''):>12}" for r in results))
    if os.environ.get("BENCH_JSON"):
        print(json.dumps(results if len(results) > 1 else results[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
