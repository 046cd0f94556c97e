"""A server that writes news where its output stands: Dovecot (2.3) writes a NOTIFY STATUS line
as soon as a folder changes, even inside the literal of a big message it is still sending. The
message must come out whole all the same, never with the server's line inside it."""

from __future__ import annotations

import asyncio
import os
import re

from app.imap.connection import ImapConnection
from app.imap.protocol import ANY_FOLDER
from app.mail.parse import attachment_payloads
from tests.conftest import build_message, new_users
from tests.engine_support import account, other_client, until


def _news_inside_the_message(answers: bytes) -> bool:
    """Whether the server wrote its STATUS line within the bytes its first FETCH answer
    announced for the message."""
    literal = re.search(rb" FETCH \(UID 1 [^\r\n]*\{([0-9]+)\}\r\n", answers)
    assert literal is not None
    return b"* STATUS " in answers[literal.end():literal.end() + int(literal.group(1))]


async def test_a_status_line_written_inside_a_message_is_not_taken_for_its_text(dovecot) -> None:
    """The client reads slowly, so the server's answer backs up in the middle of a 30 MB
    message; a reply is filed into Junk meanwhile, and the server writes its news of Junk where
    its output stands. The message comes out as the server holds it, the recording inside it
    byte for byte, and the news of Junk is not lost with the garbled answer."""
    [user] = new_users(dovecot, 1)
    msg = build_message(user.email, subject="Re: the recording", body="Here is the recording of our call.")
    recording = os.urandom(24_000_000)  # more than the socket buffers hold: the answer backs up
    msg.add_attachment(recording, maintype="video", subtype="mp4", filename="call.mp4")
    dovecot.deliver(user.email, msg.as_bytes())
    dovecot.record_commands(user.email)
    conn = ImapConnection(account(dovecot, user, port=dovecot.imaps_port, security="tls", ca_file=dovecot.ca_file))
    await conn.open()
    try:
        assert await conn.notify(["Junk"])
        await conn.select("INBOX")
        transport = conn.proto.transport
        assert transport is not None
        transport.pause_reading()  # a busy client: the server's output backs up mid-message
        fetch = asyncio.ensure_future(conn.uid_fetch("1", "(UID RFC822.SIZE BODY.PEEK[])"))
        await until(lambda: b" FETCH (UID 1 " in dovecot.answers(user.email), 20, "the answer begun")

        def file_into_junk() -> None:
            with other_client(dovecot, user) as imap:
                imap.append("Junk", None, None, build_message(user.email, subject="Re: spam?").as_bytes())
        await asyncio.to_thread(file_into_junk)
        # the news is written while the message is still on its way: inside it
        await until(lambda: b"* STATUS " in dovecot.answers(user.email), 20, "the server's news")
        transport.resume_reading()
        [fetched] = await asyncio.wait_for(fetch, 60)
        announced = conn.take_announced()
    finally:
        await conn.close()
    # Dovecot 2.3 writes it inside the message (a server that waits for the message to end would not)
    inside = _news_inside_the_message(dovecot.answers(user.email))
    [stored] = (dovecot.root / "mail" / user.email / "cur").iterdir()
    assert fetched.body == stored.read_bytes().replace(b"\n", b"\r\n")  # as the server holds it
    [(attachment, data)] = attachment_payloads(fetched.body)
    assert attachment.filename == "call.mp4" and data == recording
    assert not fetched.garbled
    assert "Junk" in announced or ANY_FOLDER in announced  # Junk is looked at again
    fetches = [c for c in dovecot.commands(user.email) if c.startswith("UID FETCH")]
    # the garbled answer, and the message fetched again
    assert len(fetches) == (2 if inside else 1), (inside, fetches)
