"""The engine holds a bounded number of fetched batches at once, across its mailboxes
(``[general] fetch_ahead_batches``): a cold start of many mailboxes full of history takes their
mail as fast as it reads and stores it, never as fast as the servers send it, and new mail in a
mailbox already synced goes ahead of history still waiting."""

from __future__ import annotations

import asyncio
import gc

from app.imap.pace import FetchGate
from app.imap.responses import Fetched
from app.imap.sync import BATCH, BATCH_MOST
from app.store.messages import IncomingMessage
from tests.conftest import build_message
from tests.engine_support import running_engine, until


async def _started(gate: FetchGate, urgent: bool, order: list[str], name: str) -> None:
    await gate.acquire(urgent)
    order.append(name)


async def test_the_gate_holds_its_size_and_lets_new_mail_ahead_of_history() -> None:
    gate = FetchGate(2)
    await gate.acquire(False)
    await gate.acquire(False)
    order: list[str] = []
    history = [asyncio.create_task(_started(gate, False, order, f"history {i}")) for i in range(2)]
    await asyncio.sleep(0)  # (the tasks queue in this order)
    new_mail = asyncio.create_task(_started(gate, True, order, "new mail"))
    await asyncio.sleep(0)
    assert order == [] and gate.held == 2
    gate.release()
    await new_mail
    assert order == ["new mail"]
    gate.release()
    gate.release()
    await asyncio.gather(*history)
    assert order == ["new mail", "history 0", "history 1"] and gate.peak == 2


async def test_a_waiter_that_goes_away_does_not_keep_a_place() -> None:
    gate = FetchGate(1)
    await gate.acquire(False)
    gone = asyncio.create_task(gate.acquire(False))
    await asyncio.sleep(0)
    gone.cancel()  # its mailbox disconnected while it waited
    await asyncio.gather(gone, return_exceptions=True)
    gate.release()
    assert gate.held == 0
    await asyncio.wait_for(gate.acquire(True), 5)  # free at once, not held by the one that left

    # handed the place just as it is cancelled: it passes it on to the next one
    handed = asyncio.create_task(gate.acquire(False))
    after = asyncio.create_task(gate.acquire(False))
    await asyncio.sleep(0)
    gate.release()  # -> handed
    handed.cancel()
    await asyncio.gather(handed, return_exceptions=True)
    await asyncio.wait_for(after, 5)
    assert gate.held == 1


def _fill(dovecot, email: str, n: int) -> None:
    dovecot.put_in_maildir(email, [build_message(email, subject=f"Re: history {i}", body=f"Reply number {i}.",
                                                 message_id=f"<h{i}.{email}>").as_bytes() for i in range(n)])


async def test_a_cold_start_full_of_history_holds_one_batch_at_a_time(dovecot, users, make_config,
                                                                     tmp_path) -> None:
    mailboxes = users(3, prefix="history")
    per_mailbox = 350  # two batches each: the first of BATCH, then the rest (short replies)
    for user in mailboxes:
        await asyncio.to_thread(_fill, dovecot, user.email, per_mailbox)
    config_path = make_config(tmp_path, mailboxes, initial_sync_days=3650, fetch_ahead_batches=1,
                              parse_workers=1)
    most = {"fetched": 0, "read": 0}

    def held_in_memory() -> None:
        """The fetched and the read messages alive in the engine's process right now."""
        objects = gc.get_objects()
        most["fetched"] = max(most["fetched"], sum(isinstance(o, Fetched) for o in objects))
        most["read"] = max(most["read"], sum(isinstance(o, IncomingMessage) for o in objects))

    async with running_engine(config_path) as (engine, _, store):
        total = per_mailbox * len(mailboxes)

        def stored_all() -> bool:
            held_in_memory()
            return store.db.conn.execute("SELECT count(*) FROM messages").fetchone()[0] >= total

        await until(stored_all, 120, "every mailbox's history stored", interval=0.05)
        stored = store.db.conn.execute(
            "SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone()
        assert tuple(stored) == (total, total)
        gate = engine.fetch_gate
        assert gate is not None
        # each place is given back once its batch is stored (just after the commit seen above)
        await until(lambda: gate.held == 0, 30, "every place at the gate given back")
        assert gate.peak == 1
        # nor does a mailbox waiting at the gate keep the batch it fetched or stored last: the
        # mail in memory is one batch's (two would be a whole mailbox's), however many mailboxes wait
        largest = min(BATCH_MOST, per_mailbox - BATCH)
        assert most["fetched"] <= largest and most["read"] <= largest, most
