"""The periodic flag look on servers without CONDSTORE: the newest ``RECENT_FLAGS`` messages'
flags, next to a fetch of every flag of the folder (what a reconnect or a flag push costs), in
the same run.

    python bench/bench_flag_refresh.py [--messages 5000] [--rounds 20]

Starts its own Dovecot configured without CONDSTORE (and with an INBOX. prefix, as Courier-style
servers are), delivers the messages over LMTP, then times both fetches over replydesk's
ImapConnection and prints the median of each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import parse_config  # noqa: E402
from app.imap.connection import ImapConnection  # noqa: E402
from app.imap.sync import FLAG_BATCH, RECENT_FLAGS  # noqa: E402
from bench.bench_imap_sync import deliver_all  # noqa: E402
from tests.conftest import INBOX_PREFIX  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402

EMAIL, PASSWORD, ENV = "bench-flags@example.com", "bench-pw-flags", "REPLYDESK_BENCH_PW_FLAGS"


async def measure(dovecot: Dovecot, rounds: int) -> tuple[list[float], list[float], int]:
    account = parse_config({"accounts": [{
        "email": EMAIL, "password_env": ENV,
        "imap": {"host": dovecot.host, "port": dovecot.imaps_port, "security": "tls",
                 "ca_file": str(dovecot.ca_file)},
        "smtp": {"host": dovecot.host, "port": 1}}]}).accounts[0]
    conn = ImapConnection(account)
    await conn.open()
    try:
        assert not conn.condstore
        info = await conn.select("INBOX")
        upto = (info.uidnext or 1) - 1
        full, recent = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            for start in range(1, upto + 1, FLAG_BATCH):
                await conn.uid_fetch(f"{start}:{min(upto, start + FLAG_BATCH - 1)}", "(UID FLAGS)")
            full.append(time.perf_counter() - t)
            t = time.perf_counter()
            await conn.uid_fetch(f"{max(1, upto - RECENT_FLAGS + 1)}:{upto}", "(UID FLAGS)")
            recent.append(time.perf_counter() - t)
        return full, recent, upto
    finally:
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    dovecot = Dovecot(**INBOX_PREFIX)  # type: ignore[arg-type]
    dovecot.start()
    try:
        os.environ[ENV] = PASSWORD
        dovecot.add_user(EMAIL, PASSWORD)
        dovecot.wait_until_users_visible()
        deliver_all(dovecot, EMAIL, args.messages)
        full, recent, upto = asyncio.run(measure(dovecot, args.rounds))
        f, r = statistics.median(full) * 1000, statistics.median(recent) * 1000
        print(f"folder of {upto} messages, server without CONDSTORE, median of {args.rounds} rounds:")
        print(f"  every flag (reconnect / flag push): {f:8.1f} ms")
        print(f"  newest {RECENT_FLAGS} (the periodic look):    {r:8.1f} ms  ({f / r:.0f}x less)")
    finally:
        dovecot.cleanup()


if __name__ == "__main__":
    main()
