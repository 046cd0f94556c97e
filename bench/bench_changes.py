"""The store's change signal (app.store.changes): what it costs a writer, and how soon a waiter hears.

    python bench/bench_changes.py [--rows 20000] [--rounds 20] [--postgres]

- the cost of a statement on replydesk's connection (which tells the signal of each commit)
  against a plain sqlite3 connection, for single-row INSERTs in one transaction and for
  autocommit UPDATEs, best of three;
- the time from a commit to a woken waiter: from another connection of this process (told at
  once) and from another process (seen at the next look at data_version, every 0.25 s), medians;
- ``--postgres``: the same from another process on a PostgreSQL store (LISTEN/NOTIFY, no look
  at any timer), a label set through the store in one process to a waiter woken in this one.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.store.changes import TICK, NotifyingConnection, changes_for, watch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def statements(path: Path, factory: type[sqlite3.Connection], rows: int) -> tuple[float, float]:
    """Seconds for ``rows`` INSERTs in one transaction, and for ``rows // 10`` autocommit UPDATEs."""
    conn = sqlite3.connect(path, isolation_level=None, factory=factory)
    if isinstance(conn, NotifyingConnection):
        conn.changes = changes_for(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("DELETE FROM t")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for i in range(rows):
        conn.execute("INSERT INTO t (id, v) VALUES (?, ?)", (i, "x"))
    conn.execute("COMMIT")
    inserts = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(rows // 10):
        conn.execute("UPDATE t SET v = ? WHERE id = ?", ("y", i))
    updates = time.perf_counter() - started
    conn.close()
    return inserts, updates


async def wake_times(path: Path, rounds: int) -> tuple[list[float], list[float]]:
    here, there = [], []
    write = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
             "c.execute('UPDATE t SET v = ? WHERE id = 0', (str(time.time()),)); print(time.time())")
    writer = sqlite3.connect(path, isolation_level=None, factory=NotifyingConnection, check_same_thread=False)
    writer.changes = changes_for(path)
    with watch(path, TICK) as changes:
        for n in range(rounds):
            seen = changes.count
            waiter = asyncio.create_task(changes.wait(seen))
            await asyncio.sleep(0)
            started = time.perf_counter()
            await asyncio.to_thread(writer.execute, "UPDATE t SET v = ? WHERE id = 0", (str(n),))
            await waiter
            here.append(time.perf_counter() - started)
        for _ in range(rounds):
            seen = changes.count
            waiter = asyncio.create_task(changes.wait(seen))
            proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", write, str(path)],
                                           capture_output=True, text=True, check=True, cwd=ROOT)
            await waiter
            there.append(time.time() - float(proc.stdout))
    writer.close()
    return here, there


PG_WRITE = """
import sys, time
from app.store import Store
store = Store(sys.argv[1], "other")
store.db.conn.execute("UPDATE accounts SET name = ? WHERE id = 'a'", (str(time.time()),))
print(time.time())
"""


async def pg_wake_times(url: str, rounds: int) -> list[float]:
    from app.store import Store
    Store(url).ensure_account("a", "a@sender.example")
    there = []
    with watch(url) as changes:
        for _ in range(rounds):
            seen = changes.count
            waiter = asyncio.create_task(changes.wait(seen))
            proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", PG_WRITE, url],
                                           capture_output=True, text=True, check=True, cwd=ROOT)
            await waiter
            there.append(time.time() - float(proc.stdout))
    return there


def postgres_figures(rounds: int) -> None:
    import os

    from tests.servers.postgres import Postgres
    server = Postgres(durable=True)
    server.start()
    try:
        os.environ["PGPASSWORD"] = server.password
        there = asyncio.run(pg_wake_times(server.url(server.create_database()), rounds))
        print(f"commit to woken waiter, another process, PostgreSQL (LISTEN/NOTIFY): median "
              f"{statistics.median(there) * 1000:7.2f} ms, worst {max(there) * 1000:7.2f} ms")
    finally:
        server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="also on a PostgreSQL store (LISTEN/NOTIFY)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        results: dict[str, list[tuple[float, float]]] = {"plain": [], "notifying": []}
        for _ in range(3):
            results["plain"].append(statements(path, sqlite3.Connection, args.rows))
            results["notifying"].append(statements(path, NotifyingConnection, args.rows))
        for name, runs in results.items():
            inserts = min(r[0] for r in runs)
            updates = min(r[1] for r in runs)
            print(f"{name:>9} connection: {inserts / args.rows * 1e6:6.2f} µs per INSERT in a transaction, "
                  f"{updates / (args.rows // 10) * 1e6:6.2f} µs per autocommit UPDATE")
        here, there = asyncio.run(wake_times(path, args.rounds))
        print(f"commit to woken waiter, this process:    median {statistics.median(here) * 1000:7.2f} ms, "
              f"worst {max(here) * 1000:7.2f} ms")
        print(f"commit to woken waiter, another process: median {statistics.median(there) * 1000:7.2f} ms, "
              f"worst {max(there) * 1000:7.2f} ms (tick {TICK} s)")
    if args.postgres:
        postgres_figures(args.rounds)


if __name__ == "__main__":
    main()
