"""Saving an attachment: only a message's text is stored, so the watcher fetches the message
from the server (BODY.PEEK: nothing changes there) and writes the attachment's bytes, the very
bytes that were sent, even of a part the sync's fetch limit cut; an existing file stays unless
replacing it was asked for."""

from __future__ import annotations

import os

from app.imap.sync import MAX_FETCH_BYTES
from tests.conftest import build_message
from tests.engine_support import other_client, rows, running_engine, until


async def test_a_saved_attachment_has_the_bytes_that_were_sent(dovecot, users, make_config, tmp_path) -> None:
    [user] = users(1)
    msg = build_message(user.email, subject="Re: the deck", body="Here is the deck and the price list.")
    prices = b"%PDF-1.4\n" + os.urandom(40_000)
    msg.add_attachment(prices, maintype="application", subtype="pdf", filename="prices.pdf")
    deck = os.urandom(MAX_FETCH_BYTES + 500_000)  # bigger than the sync fetches: only its start is stored
    msg.add_attachment(deck, maintype="application", subtype="zip", filename="deck.zip")
    dovecot.deliver(user.email, msg.as_bytes())
    folder = tmp_path / "downloads"
    folder.mkdir()
    config_path = make_config(tmp_path, [user])
    async with running_engine(config_path) as (_engine, _config, store):
        await until(lambda: rows(store, user.email), 60, "message stored")
        [row] = rows(store, user.email)

        def finished(op: int) -> bool:
            outcome = store.op_outcome(op)
            return outcome is not None and outcome.state != "pending"

        saves = [store.queue_attachment_save(row["id"], 0, folder / "prices.pdf"),
                 store.queue_attachment_save(row["id"], 1, folder / "deck.zip")]
        await until(lambda: all(finished(op) for op in saves), 60, "attachments saved")
        assert [store.op_outcome(op).state for op in saves] == ["done", "done"]
        assert (folder / "prices.pdf").read_bytes() == prices
        assert (folder / "deck.zip").read_bytes() == deck

        again = store.queue_attachment_save(row["id"], 0, folder / "deck.zip")
        await until(lambda: finished(again), 60, "second save tried")
        outcome = store.op_outcome(again)
        assert outcome.state == "failed" and "exists (not replaced)" in outcome.error
        assert (folder / "deck.zip").read_bytes() == deck  # untouched
        assert any("saving deck.zip failed" in p for p in store.op_problems_in(row["conversation_id"]))

        replace = store.queue_attachment_save(row["id"], 0, folder / "deck.zip", replace=True)
        await until(lambda: finished(replace), 60, "replacing save done")
        assert store.op_outcome(replace).state == "done"
        assert (folder / "deck.zip").read_bytes() == prices
    with other_client(dovecot, user) as imap:
        imap.select("INBOX")
        _, data = imap.fetch("1", "(FLAGS)")
        assert b"\\Seen" not in data[0]  # fetched with PEEK: still unread on the server
