"""How long a black-holed link costs: time to notice it, and time to catch up once it is back.

    python bench/bench_blackhole.py [--rounds 3] [--outage SECONDS] [--no-baseline]

Runs as root (a network namespace, tests/servers/netns.py). The engine watches one mailbox of a
Dovecot of its own in IDLE through a relay at the far end of a veth pair; each round cuts the link
(packets vanish, no reset), delivers a message over LMTP on this side, waits until the account's
state says the connection was lost, restores the link, and waits until the message is stored:
  noticed     link cut -> the account in backoff (the dead connection dropped),
  caught up   link restored -> the message delivered during the outage stored,
  total       link cut -> that message stored (the restore comes the moment the loss is noticed, or
              ``--outage`` seconds after the cut: reconnects tried meanwhile fail and back off).
Rounds use a poll interval and IDLE refresh far beyond the figures, so only the sockets' keepalive
and user timeout (app/tls.py) can notice. The baseline, in the same run, is one round without them
and with the default 60 s poll and 10 min refresh: how the engine noticed before (DONE at the poll,
then 60 s without an answer).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import build_message, new_users, write_config  # noqa: E402
from tests.engine_support import rows, running_engine, state, until  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402
from tests.servers.netns import CuttableLink, LinkUnavailable  # noqa: E402

FAR_PORT = 993


@dataclass(frozen=True)
class Through:
    host: str
    imaps_port: int
    ca_file: Path


async def one_round(link: CuttableLink, server: Dovecot, directory: Path, outage: float = 0,
                    **general) -> tuple[float, float, str]:
    [user] = new_users(server, 1)
    config_path = write_config(directory / "config.toml", Through(link.far, FAR_PORT, server.ca_file), None,
                               [user], database=directory / "replydesk.db", **general)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: state(store, user.email) == "idle", 60, "idle")
        await until(lambda: server.sessions_in_idle(user.email) == 1, 60, "engine in IDLE")
        await asyncio.to_thread(link.cut)
        cut = time.monotonic()
        msg = build_message(user.email, subject="Re: during the outage", body="Call me Tuesday.")
        await asyncio.to_thread(server.deliver, user.email, msg.as_bytes())
        await until(lambda: state(store, user.email) == "backoff", 600, "dead link noticed", interval=0.01)
        noticed = time.monotonic()
        reason = store.account_row(user.email)["last_error"]
        await asyncio.sleep(max(0.0, cut + outage - time.monotonic()))
        await asyncio.to_thread(link.restore)
        restored = time.monotonic()
        await until(lambda: len(rows(store)) == 1, 600, "caught up", interval=0.01)
        caught_up = time.monotonic()
    return noticed - cut, caught_up - restored, reason


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--outage", type=float, default=0, help="keep the link cut this long (default: until noticed)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the round without keepalive (60-130 s)")
    args = ap.parse_args()
    try:
        link = CuttableLink()
    except LinkUnavailable as exc:
        sys.exit(f"bench_blackhole: {exc}")
    server = Dovecot(listen_also=(link.near,), cert_names=(link.far,))
    try:
        server.start()
        link.relay(FAR_PORT, link.near, server.imaps_port)
        print(f"link {link.near} <-> {link.far}; keepalive idle 10 s, every 5 s, 3 probes; user timeout 25 s")
        figures = []
        for i in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                noticed, caught_up, reason = await one_round(link, server, Path(tmp), args.outage,
                                                             poll_interval_seconds=3600, idle_refresh_minutes=28)
            total = max(noticed, args.outage) + caught_up
            figures.append((noticed, caught_up, total))
            print(f"round {i + 1}: noticed {noticed:5.1f} s   caught up {caught_up:4.1f} s after the restore   "
                  f"total {total:5.1f} s   ({reason})")
        print(f"median: noticed {statistics.median(f[0] for f in figures):.1f} s, caught up "
              f"{statistics.median(f[1] for f in figures):.1f} s, total "
              f"{statistics.median(f[2] for f in figures):.1f} s")
        if not args.no_baseline:
            with tempfile.TemporaryDirectory() as tmp, mock.patch("app.imap.connection.set_keepalive"):
                noticed, caught_up, reason = await one_round(link, server, Path(tmp), args.outage)
            print(f"baseline without keepalive, default poll and refresh: noticed {noticed:.1f} s   caught up "
                  f"{caught_up:.1f} s   ({reason})")
    finally:
        server.cleanup()
        link.close()


if __name__ == "__main__":
    asyncio.run(main())
