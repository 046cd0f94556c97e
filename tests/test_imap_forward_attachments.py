"""A forward carries the original's attachments: only a message's text is stored, so the forward
waits in the outbox while the mailbox's watcher fetches the message from the server, adds the
attachments, and queues it; the drainer sends it like a reply. When the message cannot be
fetched the forward fails with the reason instead of going out without them."""

from __future__ import annotations

import email
import os
from email import policy

from app.config import load_config
from app.mail import Address
from app.mail.compose import build_forward, forward_text, stored_original
from app.mail.parse import attachment_payloads
from tests.conftest import build_message
from tests.engine_support import other_client, rows, running_engine, until
from tests.reply_support import mailbox_headers


def queue_forward(store, account, row, to: str) -> int:
    original = stored_original(row)
    message_id, raw = build_forward(original, from_addr=Address(account.name, account.email),
                                    to=[Address("", to)], body=forward_text(original, "For you."),
                                    domain=account.domain)
    item = store.queue_reply(account=account.id, message_id=message_id, raw=raw, recipients=[to],
                             subject=original.subject, body="For you.", reply_to_message=row["id"],
                             conversation_id=row["conversation_id"], state="draft", kind="forward")
    store.forward_with_attachments(item, row["id"])
    return item


async def test_a_forward_carries_the_attachments_fetched_from_the_server(dovecot, smtp_server, users,
                                                                        make_config, tmp_path) -> None:
    user, prospect, colleague = users(3)
    msg = build_message(user.email, subject="Re: the deck", body="Here is our price list.",
                        from_addr=f"Pat Prospect <{prospect.email}>")
    prices = b"%PDF-1.4\n" + os.urandom(30_000)
    msg.add_attachment(prices, maintype="application", subtype="pdf", filename="prices.pdf")
    dovecot.deliver(user.email, msg.as_bytes())
    config_path = make_config(tmp_path, [user])
    account = load_config(config_path).accounts[0]
    async with running_engine(config_path) as (_engine, _config, store):
        await until(lambda: rows(store, user.email), 60, "message stored")
        [row] = [store.message(r["id"]) for r in rows(store, user.email)]
        item = queue_forward(store, account, row, colleague.email)
        assert store.outbox_item(item)["state"] == "attaching"
        await until(lambda: store.outbox_item(item)["state"] == "sent", 60, "forward sent")
    with other_client(dovecot, colleague) as imap:
        imap.select("INBOX")
        _, data = imap.fetch("1", "(RFC822)")
    received = data[0][1]
    parsed = email.message_from_bytes(received, policy=policy.default)
    assert parsed["Subject"] == "Fwd: the deck" and parsed["From"].addresses[0].addr_spec == user.email
    assert "Here is our price list." in received.decode("utf-8", "replace")
    [(attachment, data)] = attachment_payloads(received)
    assert attachment.filename == "prices.pdf" and data == prices


async def test_a_forward_whose_message_is_gone_fails_with_the_reason(dovecot, smtp_server, users, make_config,
                                                                     tmp_path) -> None:
    user, prospect, colleague = users(3)
    msg = build_message(user.email, subject="Re: the deck", body="Attached.", from_addr=prospect.email)
    msg.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="deck.pdf")
    dovecot.deliver(user.email, msg.as_bytes())
    config_path = make_config(tmp_path, [user])
    account = load_config(config_path).accounts[0]
    async with running_engine(config_path) as (_engine, _config, store):
        await until(lambda: rows(store, user.email), 60, "message stored")
        [row] = [store.message(r["id"]) for r in rows(store, user.email)]
        # the message leaves the server (deleted on a phone) before the forward is sent
        store.db.conn.execute("UPDATE messages SET uid = uid + 1000 WHERE id = ?", (row["id"],))
        store.db.conn.commit()
        item = queue_forward(store, account, row, colleague.email)
        await until(lambda: store.outbox_item(item)["state"] == "failed", 60, "forward failed")
        assert "its attachments could not be fetched" in store.outbox_item(item)["last_error"]
    assert mailbox_headers(dovecot, colleague.email) == []
