"""`replydesk db copy` of a 100,000-message store: SQLite to PostgreSQL, a re-run, and back.

    python bench/bench_db_copy.py [--messages 100000] [--db PATH]

Fills a store with bench_ui's generator (reused from --db when present), starts a PostgreSQL
from tests/servers (fsync on, as a real server runs) and times `replydesk db copy` as a process
end to end: into an empty database, again into the same one (a re-run replaces it), and back
into a new SQLite file; rows per second and the copy's peak memory (max RSS) for each. The
baseline of the same run: SQLite's own online backup of the same file (a page copy, the least
any copy can cost).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ui import fill  # noqa: E402

from tests.servers.postgres import Postgres  # noqa: E402


def rows_in(path: Path) -> int:
    conn = sqlite3.connect(path)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'")]
    total = sum(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names)
    conn.close()
    return total


CHILD = ("import resource, sys\nfrom app.cli import main\ncode = main(sys.argv[1:])\n"
         "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)")


def timed_copy(source: str, target: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one `replydesk db copy` process."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, "db", "copy", source, target], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"copy failed: {proc.stderr.strip()}")
    peak = int(proc.stderr.rpartition("MAXRSS ")[2].split()[0])
    return seconds, peak / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="reuse or create the SQLite store here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="replydesk-bench-copy-"))
    db = args.db or work / "bench.db"
    if not db.exists():
        print(f"filling {args.messages:,} messages into {db} …", file=sys.stderr)
        fill(db, args.messages)
    rows = rows_in(db)
    server = Postgres(durable=True)
    server.start()
    try:
        env = {**os.environ, "PGPASSWORD": server.password}
        url = server.url(server.create_database("bench"))
        started = time.perf_counter()
        with sqlite3.connect(db) as src, sqlite3.connect(work / "backup.db") as dst:
            src.backup(dst)
        baseline = time.perf_counter() - started
        results = [("SQLite online backup (baseline)", baseline, None)]
        results.append(("db copy SQLite → PostgreSQL (empty)", *timed_copy(str(db), url, env)))
        results.append(("db copy SQLite → PostgreSQL (re-run)", *timed_copy(str(db), url, env)))
        results.append(("db copy PostgreSQL → new SQLite", *timed_copy(url, str(work / "back.db"), env)))
    finally:
        server.cleanup()
    print(f"{args.messages:,} messages, {rows:,} rows in all tables; PostgreSQL {server.bindir.parent.name}, fsync on")
    for name, seconds, peak in results:
        memory = f"  max RSS {peak:.0f} MB" if peak is not None else ""
        print(f"{name:<40} {seconds:7.1f} s  {rows / seconds:>10,.0f} rows/s{memory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
