"""Push latency and idle cost of the engine with 100 and 500 mailboxes in IDLE.

    python bench/bench_imap_push.py [--accounts 100 500] [--samples 100] [--idle-seconds 20]
    python bench/bench_imap_push.py --accounts 5000 --samples 50     # the 5,000-mailbox goal
    python bench/bench_imap_push.py --accounts 1000 --poll-interval 12 --without NOTIFY   # polled looks

Starts its own Dovecot (tests/servers) with one user per mailbox and runs ``replydesk sync`` as
a user would (its own process, implicit TLS, default refresh and poll intervals). For each size:
  cold start  seconds until every account is ``idle`` in the store, and the engine's CPU time
              per mailbox meanwhile (connect, TLS, login, first look at its folders),
  idle cost   the engine's RSS and CPU% over ``--idle-seconds`` of idling,
  latency     LMTP delivery accepted by Dovecot -> the row committed in the store, p50/p99, over
              ``--samples`` messages to random mailboxes (one every 0.1 s).
Dovecot watches each mailbox with inotify, at most ``fs.inotify.max_user_instances`` (often 128)
per uid, and all test users share one: past that, its imap processes look for new mail only every
``mailbox_idle_check_interval`` (30 s; ``--dovecot-idle-check`` sets it). The script says when
that happened. Dovecot also holds a push back for about half a second (it batches mailbox notifications);
that is inside the figure, as a user would see it, and measured alone first: a bare aioimaplib
client in IDLE, delivery accepted -> ``EXISTS`` received.

Before the engine starts, every test user logs in once (``prepare_mailboxes``): Dovecot creates
a user's mail folders at the first login, disk work a real provider did long ago, which would
otherwise be counted in the engine's cold start (``--fresh-mailboxes`` keeps it in).

For thousands of mailboxes Dovecot's limits are raised here: one imap process serves up to
``--clients-per-process`` sessions (its default, one each, would be 5,000 processes), the
process and per-user limits go up, and the script raises ``fs.inotify.max_user_instances`` and
its own open-file limit (Dovecot inherits it) where it may.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import signal
import smtplib
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aioimaplib  # noqa: E402

from tests.conftest import User, build_message, write_config  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def count(db: sqlite3.Connection, sql: str, *args) -> int:
    try:
        return db.execute(sql, args).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def measure(dovecot: Dovecot, users: list[User], samples: int, idle_seconds: float, **general: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="replydesk-bench-push-"))
    config = write_config(tmp / "config.toml", dovecot, None, users, **general)
    db_path = tmp / "replydesk.db"
    log = open(tmp / "sync.out", "wb")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "app", "--config", str(config), "sync", "--quiet"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not db_path.exists():
            time.sleep(0.1)
        db = sqlite3.connect(db_path, timeout=30)
        while count(db, "SELECT count(*) FROM accounts WHERE state = 'idle'") < len(users):
            if proc.poll() is not None or time.monotonic() - started > 240:
                raise SystemExit(f"engine did not reach idle: {(tmp / 'sync.out').read_text()[-2000:]}")
            time.sleep(0.2)
        cold = time.monotonic() - started
        cold_cpu = cpu_seconds(proc.pid)
        time.sleep(2)
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(idle_seconds)
        cpu_pct = 100 * (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
        rss = rss_mb(proc.pid)

        outstanding: dict[str, float] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        done = threading.Event()

        def feed() -> None:
            rnd = random.Random(1)
            with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=60) as lmtp:
                for i in range(samples):
                    to = rnd.choice(users).email
                    msg = build_message(to, subject=f"Re: latency {i}", body="Interested, call me.")
                    lmtp.sendmail("prospect@example.net", [to], msg.as_bytes())
                    with lock:
                        outstanding[msg["Message-ID"]] = time.monotonic()
                    time.sleep(0.1)
            done.set()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        deadline = time.monotonic() + samples * 0.1 + 60
        while (not done.is_set() or outstanding) and time.monotonic() < deadline:
            with lock:
                ids = list(outstanding)
            if ids:
                marks = ",".join("?" for _ in ids)
                for (mid,) in db.execute(f"SELECT message_id FROM messages WHERE message_id IN ({marks})", ids):
                    with lock:
                        latencies.append(time.monotonic() - outstanding.pop(mid))
            time.sleep(0.002)
        db.close()
        latencies.sort()
        return {
            "accounts": len(users), "cold_start_s": round(cold, 1),
            "cpu_ms_per_mailbox": round(1000 * cold_cpu / len(users), 1), "rss_mb": round(rss, 1),
            "idle_cpu_pct": round(cpu_pct, 2), "samples": len(latencies), "lost": len(outstanding),
            "p50_ms": round(1000 * statistics.median(latencies)),
            "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]),
            "max_ms": round(1000 * latencies[-1]),
        }
    finally:
        stop = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        print(f"  ({len(users)} accounts: engine stopped in {time.monotonic() - stop:.1f} s)")
        log.close()


def dovecot_limits(mailboxes: int, per_process: int) -> str:
    """Dovecot settings for ``mailboxes`` sessions at once (appended: later sections merge)."""
    processes = mailboxes // per_process + 50
    return (f"default_process_limit = {max(3000, processes)}\n"
            f"default_client_limit = {max(10000, 2 * mailboxes + 100)}\n"
            f"service imap {{\n  service_count = 0\n  client_limit = {per_process}\n"
            f"  process_limit = {processes}\n}}\n"
            f"service imap-login {{\n  process_min_avail = 2\n"
            f"  client_limit = {max(10000, 2 * mailboxes + 100)}\n}}\n")


def raise_limits(mailboxes: int) -> None:
    """Open files for this process (Dovecot and the engine inherit them) and inotify instances
    (Dovecot's imap processes all run as one uid), where we are allowed to."""
    want = 4 * mailboxes + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard > 0 else want, hard))
        except (ValueError, OSError):
            pass
    inotify = Path("/proc/sys/fs/inotify/max_user_instances")
    try:
        if int(inotify.read_text()) < mailboxes + 128:
            inotify.write_text(str(mailboxes + 128))
    except OSError:
        pass
    print(f"open files {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}, "
          f"fs.inotify.max_user_instances {inotify.read_text().strip()}", flush=True)


async def prepare_mailboxes(dovecot: Dovecot, users: list[User], concurrency: int = 40) -> float:
    """Log every user in once (LIST creates its folders), as many at a time as ``concurrency``."""
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_file))
    slots = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def one(user: User) -> None:
        async with slots:
            client = aioimaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=ctx, timeout=60)
            await client.wait_hello_from_server()
            await client.login(user.email, user.password)
            await client.list('""', "*")
            await client.logout()

    await asyncio.gather(*(one(u) for u in users))
    return time.monotonic() - started


async def bare_idle_latency(dovecot: Dovecot, user: User, samples: int = 10) -> list[float]:
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_file))
    client = aioimaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=ctx)
    await client.wait_hello_from_server()
    await client.login(user.email, user.password)
    await client.select("INBOX")
    out = []
    for i in range(samples):
        idle = await client.idle_start(timeout=60)
        msg = build_message(user.email, subject=f"Re: bare {i}", body="hi")
        await asyncio.to_thread(dovecot.deliver, user.email, msg.as_bytes())
        accepted = time.monotonic()
        while True:
            lines = await client.wait_server_push(timeout=10)
            if any(isinstance(x, bytes) and x.endswith(b"EXISTS") for x in lines):
                break
        out.append(time.monotonic() - accepted)
        client.idle_done()
        await asyncio.wait_for(idle, 10)
    await client.logout()
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, nargs="+", default=[100, 500])
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--dovecot-idle-check", type=float, default=None, metavar="S",
                    help="Dovecot's mailbox_idle_check_interval: how often an imap process that got no "
                         "inotify watch looks for new mail (Dovecot's default: 30 s)")
    ap.add_argument("--pace", type=float, default=None, metavar="N",
                    help="[general] connects_per_second (default: the engine's, 100 per IMAP host)")
    ap.add_argument("--connect-concurrency", type=int, default=None, metavar="N",
                    help="[general] connect_concurrency (default: the engine's, 20)")
    ap.add_argument("--poll-interval", type=float, default=None, metavar="S",
                    help="[general] poll_interval_seconds: how often each mailbox's Junk and Sent are "
                         "looked at (default: the engine's, 60)")
    ap.add_argument("--without", nargs="+", default=(), metavar="CAP",
                    help="capabilities Dovecot does not announce, e.g. NOTIFY (Junk and Sent are then "
                         "polled, in one LIST-STATUS) or NOTIFY LIST-STATUS (one STATUS each)")
    ap.add_argument("--fresh-mailboxes", action="store_true",
                    help="leave the creation of each user's folders to the engine's first login")
    ap.add_argument("--clients-per-process", type=int, default=25, metavar="N",
                    help="sessions one Dovecot imap process serves (default 25)")
    args = ap.parse_args()
    most = max(args.accounts)
    raise_limits(most)
    dovecot = Dovecot(without=tuple(args.without))
    with dovecot.conf.open("a") as conf:
        if args.dovecot_idle_check:
            conf.write(f"mailbox_idle_check_interval = {args.dovecot_idle_check:g} secs\n")
        conf.write(dovecot_limits(most, args.clients_per_process))
    dovecot.start()
    try:
        users = [User(f"bench{i}@example.com", f"bench-pw-{i}", f"REPLYDESK_BENCH_PW_{i}")
                 for i in range(max(args.accounts))]
        for u in users:
            os.environ[u.env] = u.password
        dovecot.add_users([(u.email, u.password) for u in users])
        dovecot.wait_until_users_visible()
        if not args.fresh_mailboxes:
            took = asyncio.run(prepare_mailboxes(dovecot, users))
            print(f"{len(users)} mailboxes logged in once beforehand in {took:.0f} s", flush=True)
        bare = asyncio.run(bare_idle_latency(dovecot, users[-1]))
        print(f"bare aioimaplib IDLE, delivery -> EXISTS: p50 {1000 * statistics.median(bare):.0f} ms, "
              f"max {1000 * bare[-1]:.0f} ms", flush=True)
        for n in args.accounts:
            general = {k: v for k, v in (("connects_per_second", args.pace),
                                         ("connect_concurrency", args.connect_concurrency),
                                         ("poll_interval_seconds", args.poll_interval)) if v is not None}
            print(measure(dovecot, users[:n], args.samples, args.idle_seconds, **general), flush=True)
            inotify = sum("inotify" in line for line in dovecot.log_text().splitlines())
            if inotify:
                print(f"  Dovecot could not watch {inotify} mailboxes with inotify (fs.inotify."
                      f"max_user_instances = {Path('/proc/sys/fs/inotify/max_user_instances').read_text().strip()}"
                      " for its one uid): those imap processes push only at their "
                      f"mailbox_idle_check_interval ({args.dovecot_idle_check or 30:g} s)", flush=True)
    finally:
        dovecot.cleanup()


if __name__ == "__main__":
    main()
