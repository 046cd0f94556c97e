"""A message larger than the fetch limit: only its start is downloaded, and the attachment it cuts
is stored as truncated, not with the size of the piece that arrived as if it were whole."""

from __future__ import annotations

import json
import os

from app.imap.sync import MAX_FETCH_BYTES
from tests.conftest import build_message
from tests.engine_support import rows, running_engine, until


async def test_an_attachment_cut_by_the_fetch_limit_says_so(dovecot, users, make_config, tmp_path) -> None:
    [user] = users(1)
    msg = build_message(user.email, subject="Re: the deck", body="Here is the deck and the price list.")
    msg.add_attachment(b"%PDF-1.4 prices" * 700, maintype="application", subtype="pdf", filename="prices.pdf")
    big = os.urandom(MAX_FETCH_BYTES + 1_000_000)
    msg.add_attachment(big, maintype="application", subtype="zip", filename="deck.zip")
    dovecot.deliver(user.email, msg.as_bytes())
    config_path = make_config(tmp_path, [user])
    async with running_engine(config_path) as (_engine, _config, store):
        await until(lambda: rows(store, user.email), 60, "large message stored")
        [row] = rows(store, user.email)
    prices, deck = json.loads(row["attachments"])
    assert (prices["filename"], prices["size"], prices.get("truncated", False)) == ("prices.pdf", 15 * 700, False)
    assert deck["filename"] == "deck.zip" and deck["truncated"] is True
    assert deck["size"] < len(big)
    assert row["size"] > MAX_FETCH_BYTES  # the whole message's size, from the server
