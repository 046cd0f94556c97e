"""Engines sharing mailboxes on a PostgreSQL store, beside one engine on SQLite in the same run.

    python bench/bench_pg_engines.py [--accounts 1000] [--engines 2] [--idle-seconds 20] [--samples 30]

Starts its own Dovecot (tests/servers) with ``accounts × engines`` users and its own PostgreSQL
(Debian's package, fsync on). First the baseline: one ``replydesk sync`` on a SQLite file with
``accounts`` mailboxes. Then ``engines`` processes of ``replydesk sync`` on one PostgreSQL store
with all the mailboxes: each holds ``accounts`` of them by lease. For each engine: the time until
the mailboxes it holds are all ``idle`` (from the first engine's start), its RSS and its CPU% over
``--idle-seconds`` of idling; then push latency (LMTP delivery accepted -> row committed) over
``--samples`` messages to random mailboxes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_imap_push import cpu_seconds, dovecot_limits, prepare_mailboxes, raise_limits, rss_mb  # noqa: E402
from tests.conftest import User, build_message, write_config  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402
from tests.servers.postgres import Postgres  # noqa: E402


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app", "--config", str(config), "sync", "--quiet"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def idle_accounts(target: Path | str) -> set[str]:
    from app.store import Store
    try:
        store = Store(target)
    except Exception:
        return set()
    try:
        return {a["id"] for a in store.accounts() if a["state"] == "idle"}
    finally:
        store.close()


def run(config: Path, target: Path | str, engines: int, total: int, idle_seconds: float, samples: int,
        dovecot: Dovecot, users: list, tmp: Path) -> list[dict]:
    from app.store import Store
    started = time.monotonic()
    procs = [start(config, tmp / f"engine{i}.log") for i in range(engines)]
    try:
        while len(idle_accounts(target)) < total:
            if any(p.poll() is not None for p in procs) or time.monotonic() - started > 600:
                raise SystemExit("an engine did not reach idle: " + (tmp / "engine0.log").read_text()[-2000:])
            time.sleep(0.5)
        cold = time.monotonic() - started
        held: Counter[str] = Counter()
        if isinstance(target, str):
            store = Store(target)
            held = Counter(int(o.split(":")[1]) for o in store.lease_holders().values())  # type: ignore[misc]
            store.close()
        time.sleep(2)
        before = {p.pid: cpu_seconds(p.pid) for p in procs}
        t0 = time.monotonic()
        time.sleep(idle_seconds)
        spent = time.monotonic() - t0
        figures = [{"engine": i, "mailboxes": held.get(p.pid, total) if held else total,
                    "all_idle_s": round(cold, 1), "rss_mb": round(rss_mb(p.pid), 1),
                    "idle_cpu_pct": round(100 * (cpu_seconds(p.pid) - before[p.pid]) / spent, 2)}
                   for i, p in enumerate(procs)]
        latencies = push_latencies(dovecot, users, target, samples)
        for f in figures:
            f["push_p50_ms"] = round(1000 * statistics.median(latencies))
            f["push_max_ms"] = round(1000 * max(latencies))
        return figures
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def push_latencies(dovecot: Dovecot, users: list, target: Path | str, samples: int) -> list[float]:
    from app.store import Store
    store = Store(target)
    rnd = random.Random(3)
    out = []
    try:
        with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=60) as lmtp:
            for i in range(samples):
                to = rnd.choice(users).email
                msg = build_message(to, subject=f"Re: shared {i}", body="Interested.")
                lmtp.sendmail("prospect@example.net", [to], msg.as_bytes())
                accepted = time.monotonic()
                while not store.db.conn.execute("SELECT 1 FROM messages WHERE message_id = ?",
                                                (msg["Message-ID"],)).fetchone():
                    if time.monotonic() - accepted > 30:
                        raise SystemExit(f"message {i} not stored within 30 s")
                    time.sleep(0.002)
                out.append(time.monotonic() - accepted)
    finally:
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=1000, help="mailboxes per engine")
    ap.add_argument("--engines", type=int, default=2)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--samples", type=int, default=30)
    args = ap.parse_args()
    total = args.accounts * args.engines
    raise_limits(total)
    dovecot = Dovecot()
    with dovecot.conf.open("a") as conf:
        conf.write(dovecot_limits(total, 25))
    dovecot.start()
    postgres = Postgres(durable=True)
    postgres.start()
    os.environ["PGPASSWORD"] = postgres.password
    try:
        users = [User(f"bench{i}@example.com", f"bench-pw-{i}", f"REPLYDESK_BENCH_PW_{i}") for i in range(total)]
        for u in users:
            os.environ[u.env] = u.password
        dovecot.add_users([(u.email, u.password) for u in users])
        dovecot.wait_until_users_visible()
        asyncio.run(prepare_mailboxes(dovecot, users))
        tmp = Path(tempfile.mkdtemp(prefix="replydesk-bench-pg-"))
        base = write_config(tmp / "sqlite.toml", dovecot, None, users[:args.accounts])
        print(f"one engine, SQLite, {args.accounts} mailboxes:", flush=True)
        for f in run(base, tmp / "replydesk.db", 1, args.accounts, args.idle_seconds, args.samples, dovecot,
                     users[:args.accounts], tmp):
            print(f"  {f}", flush=True)
        url = postgres.url(postgres.create_database())
        shared = write_config(tmp / "pg.toml", dovecot, None, users, database=url,  # type: ignore[arg-type]
                              max_accounts_per_engine=args.accounts)
        print(f"{args.engines} engines, one PostgreSQL store, {total} mailboxes:", flush=True)
        for f in run(shared, url, args.engines, total, args.idle_seconds, args.samples, dovecot, users, tmp):
            print(f"  {f}", flush=True)
    finally:
        postgres.cleanup()
        dovecot.cleanup()


if __name__ == "__main__":
    main()
