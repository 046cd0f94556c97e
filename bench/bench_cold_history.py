"""A cold start of many mailboxes that each hold weeks of mail: the engine's peak memory while
their history is fetched, read and stored, and the time until all of it is in the store.

    python bench/bench_cold_history.py [--mailboxes 60] [--messages 300] [--ahead 8 1000000]

Starts its own Dovecot (tests/servers) with ``--mailboxes`` users, each holding ``--messages``
short replies quoting the outreach, 1–3 KB (written into the users' maildirs directly, which is much faster than LMTP),
then runs replydesk's Engine in this process with one parse worker once per ``--ahead`` value
(``[general] fetch_ahead_batches``: fetched batches held engine-wide before they are stored; a
huge value is the engine without the limit) and prints the peak RSS of the engine process
(parse worker not counted), sampled every 0.1 s, and the time until every message is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replies import quoting  # noqa: E402

from app.config import load_config  # noqa: E402
from app.engine import Engine  # noqa: E402
from app.store import Store  # noqa: E402
from tests.conftest import User, build_message, write_config  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402

REPLIES = [
    "Thanks for reaching out. Could you send pricing for a team of 12?",
    "Not interested, please remove me from your list.",
    "I'm out of the office until Monday with limited access to email.",
    "Sounds good, let's talk Thursday at 3pm. Here is my calendar link.",
    "Who is the right person? Probably my colleague jane@prospect.example.",
    "We already work with a vendor for this, maybe next quarter.",
]
OUTREACH = ("Hi there,\n\nI noticed your team is hiring for operations roles and wanted to share how "
            "companies like yours cut onboarding time in half with our platform. {}\n\nWould you be "
            "open to a 15 minute call next week?\n\nBest,\nAna\nAcme Inc. | 100 Market St, Springfield\n")


def reply_body(rnd: random.Random) -> str:
    """A prospect's short answer, a signature, and the outreach quoted below it (a few KB)."""
    pitch = " ".join(rnd.choice(("Our customers report faster hiring.", "Setup takes a day.",
                                 "It integrates with your HR tools.", "Security reviewed yearly."))
                     for _ in range(rnd.randint(20, 80)))
    return quoting(f"{rnd.choice(REPLIES)}\n\n--\nSam Prospect\nHead of Operations, Prospect Co.\n+1 555 0100",
                   OUTREACH.format(pitch), "On Mon, 3 Nov 2026 at 09:12, Ana <ana@acme.io> wrote:")


def fill_maildirs(dovecot: Dovecot, users: list[User], n: int) -> None:
    rnd = random.Random(11)
    for u in users:
        dovecot.put_in_maildir(u.email, [
            build_message(u.email, subject=f"Re: outreach {i}", body=reply_body(rnd),
                          from_addr=f"Prospect {i} <p{i}@prospect{i % 97}.example>").as_bytes() for i in range(n)])


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run_engine(config_path: Path, total: int) -> tuple[float, float]:
    engine = Engine(load_config(config_path))
    watch = Store(load_config(config_path).database)
    peak = rss_mb()
    started = time.perf_counter()
    await engine.start()
    try:
        while True:
            for _ in range(10):
                await asyncio.sleep(0.1)
                peak = max(peak, rss_mb())
            # the bench polls another connection's rows
            if watch.db.conn.execute("SELECT count(*) FROM messages").fetchone()[0] >= total:
                return time.perf_counter() - started, peak
    finally:
        await engine.stop()
        watch.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mailboxes", type=int, default=60)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--ahead", type=int, nargs="+", default=[8, 1_000_000],
                    help="fetch_ahead_batches values to run (default: 8, and 1000000 for no limit)")
    args = ap.parse_args()
    dovecot = Dovecot()
    dovecot.start()
    try:
        users = [User(f"hist{i}@example.com", f"pw-hist-{i}", f"REPLYDESK_BENCH_PW_HIST{i}")
                 for i in range(args.mailboxes)]
        for u in users:
            os.environ[u.env] = u.password
        dovecot.add_users([(u.email, u.password) for u in users])
        t = time.perf_counter()
        fill_maildirs(dovecot, users, args.messages)
        dovecot.wait_until_users_visible()
        total = args.mailboxes * args.messages
        print(f"{args.mailboxes} mailboxes x {args.messages} messages written in {time.perf_counter() - t:.1f} s; "
              f"engine RSS at rest {rss_mb():.0f} MB", flush=True)
        tmp = Path(tempfile.mkdtemp(prefix="replydesk-bench-"))
        for ahead in args.ahead:
            config_path = write_config(tmp / f"config-{ahead}.toml", dovecot, None, users,
                                       database=tmp / f"ahead-{ahead}.db", initial_sync_days=3650,
                                       idle_refresh_minutes=10, parse_workers=1, fetch_ahead_batches=ahead)
            took, peak = asyncio.run(run_engine(config_path, total))
            print(f"fetch_ahead_batches={ahead}: {total} messages stored in {took:.1f} s "
                  f"({total / took:,.0f} msg/s), engine peak RSS {peak:.0f} MB", flush=True)
    finally:
        dovecot.cleanup()


if __name__ == "__main__":
    main()
