"""Three engines (`replydesk sync` processes) on one PostgreSQL store share 60 Dovecot mailboxes by
lease; one is killed with SIGKILL while 300 messages arrive: every message is stored once, the
dead engine's mailboxes are taken over, and a reply queued for one of them is sent once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from app.config import load_config
from app.store import Store
from tests.engine_support import until
from tests.reply_support import mailbox_headers

ROOT = Path(__file__).resolve().parents[1]
LEASE = 3.0
"""Seconds of a lease in this test (renewed every second): takeover comes within a few seconds."""


def start_engine(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app", "--config", str(config), "sync"], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=log.open("wb"))


def owners(store: Store) -> dict[str, str]:
    return store.lease_holders()


async def test_three_engines_share_sixty_mailboxes_and_a_killed_one_loses_nothing(
        dovecot, smtp_server, users, deliver, make_config, tmp_path, pg_url) -> None:
    accounts = users(60)
    prospect = users(1)[0]
    config_path = make_config(tmp_path, accounts, database=pg_url, lease_seconds=LEASE, idle_refresh_minutes=5,
                              poll_interval_seconds=2)
    config = load_config(config_path)
    ids = [a.id for a in config.accounts]
    store = Store(pg_url)
    engines = [start_engine(config_path, tmp_path / f"engine{i}.log") for i in range(3)]
    try:
        def shared_evenly() -> bool:
            held = owners(store)
            per = Counter(held.values())
            return set(held) == set(ids) and len(per) == 3 and sorted(per.values()) == [20, 20, 20]
        await until(shared_evenly, 90, "60 mailboxes shared by three engines, 20 each")
        await until(lambda: all(a["state"] == "idle" for a in store.accounts() if a["id"] in ids), 90,
                    "every mailbox in IDLE")
        held = owners(store)
        assert sum(Counter(held.values()).values()) == 60  # each held by exactly one engine
        victim_owner = held[ids[0]]
        victim_pid = int(victim_owner.split(":")[1])
        victim = next(p for p in engines if p.pid == victim_pid)
        theirs = sorted(a for a, o in held.items() if o == victim_owner)

        # 300 messages arrive, five a mailbox; the victim is killed in the middle of them
        sent_ids: list[str] = []

        def arrive() -> None:
            for n in range(5):
                for u in accounts:
                    sent_ids.append(deliver(u.email, subject=f"Re: load {n}", body="Tell me more."))
        feeder = threading.Thread(target=arrive)
        feeder.start()
        await until(lambda: len(sent_ids) >= 100, 60, "a third of the messages delivered", interval=0.01)
        victim.send_signal(signal.SIGKILL)
        await asyncio.to_thread(victim.wait, 10)
        # a reply queued for one of the dead engine's mailboxes, while no engine has it
        raw = EmailMessage()
        raw["From"], raw["To"], raw["Subject"] = theirs[0], prospect.email, "Re: load, answered once"
        raw["Message-ID"] = reply_id = make_msgid(domain="example.com")
        raw.set_content("Here is the pricing.")
        item_id = store.queue_reply(account=theirs[0], message_id=reply_id, raw=raw.as_bytes(), recipients=[prospect.email],
                          subject="Re: load, answered once", body="Here is the pricing.")
        await asyncio.to_thread(feeder.join, 120)
        assert len(sent_ids) == 300

        # the survivors take the dead engine's mailboxes over
        def taken_over() -> bool:
            now = owners(store)
            return set(now) == set(ids) and victim_owner not in now.values()
        await until(taken_over, 60, "the killed engine's mailboxes taken over")
        per = Counter(owners(store).values())
        assert len(per) == 2 and sorted(per.values()) == [30, 30]

        def stored() -> Counter[str]:
            return Counter(r[0] for r in store.db.conn.execute(
                "SELECT message_id FROM messages WHERE subject LIKE 'Re: load %' AND direction = 'in'"))
        await until(lambda: set(stored()) >= set(sent_ids), 120, "all 300 messages stored", interval=0.2)
        counts = stored()
        assert sum(counts[m] for m in sent_ids) == 300 and max(counts.values()) == 1  # each exactly once

        await until(lambda: (store.outbox_item(item_id) or {}).get("state") == "sent", 60,
                    "the queued reply sent")
        await until(lambda: len(mailbox_headers(dovecot, prospect.email)) >= 1, 30, "the reply delivered")
    finally:
        for p in engines:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in engines:
            try:
                await asyncio.to_thread(p.wait, 15)
            except subprocess.TimeoutExpired:
                p.kill()
    # after a clean stop of the survivors: the reply went out once
    assert len(mailbox_headers(dovecot, prospect.email)) == 1
    store.close()
