"""``replydesk reply`` while an engine runs on the database: the command queues and waits; the
engine's drainer sends, its watcher files the Sent copy and sets \\Answered, and the Sent
folder's copy takes the place of the one shown in the thread since sending."""

from __future__ import annotations

import asyncio

import pytest

from app.cli import main
from app.config import load_config
from app.engine import Engine
from tests.engine_support import until
from tests.reply_support import mailbox_headers, message_flags, receive


@pytest.fixture(params=["sqlite", "postgresql"])
def received(request, dovecot, smtp_server, users, make_config, tmp_path):
    """A prospect's reply stored, on each backend: on PostgreSQL the engine holds the mailbox by
    lease, and the command leaves the sending to it."""
    account, prospect = users(2)
    database = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    got = receive(dovecot, account, prospect, make_config(tmp_path, [account], poll_interval_seconds=1,
                                                          **({"database": database} if database else {})))
    yield got
    got.store.close()


async def test_reply_with_a_running_engine(received, dovecot, capsys):
    r = received
    engine = Engine(r.config)
    await engine.start()
    try:
        code = await asyncio.to_thread(main, ["--config", str(r.config_path), "reply", r.row["message_id"],
                                              "--body", "Handled by the engine"])
        assert code == 0, capsys.readouterr().err
        assert capsys.readouterr().out.startswith("sent <")
        await until(lambda: len(mailbox_headers(dovecot, r.account.email, "Sent")) == 1, 20, "the Sent copy",
                    interval=0.1)
        await until(lambda: "\\Answered" in message_flags(dovecot, r.account.email, r.row["message_id"]), 20,
                    "\\Answered on the original", interval=0.1)

        def thread_has_the_sent_copy() -> bool:
            thread = r.store.conversation_messages(r.row["conversation_id"])
            outbound = [m for m in thread if m["direction"] == "out"]
            return len(outbound) == 1 and outbound[0]["folder"] == "Sent"
        await until(thread_has_the_sent_copy, 20, "the thread shows the Sent copy", interval=0.1)
    finally:
        await engine.stop()
    assert len(mailbox_headers(dovecot, r.prospect.email)) == 1


async def test_a_reply_from_an_account_added_while_the_engine_runs(dovecot, smtp_server, users, make_config,
                                                                   tmp_path, capsys):
    first, added, prospect = users(3)
    engine = Engine(load_config(make_config(tmp_path, [first])))
    await engine.start()
    try:
        await asyncio.sleep(0.5)  # the outbox drainer is running with the first config
        path = make_config(tmp_path, [first, added])
        await engine.reload(load_config(path))
        r = receive(dovecot, added, prospect, path, account_index=1)
        try:
            code = await asyncio.to_thread(main, ["--config", str(path), "reply", r.row["message_id"],
                                                  "--body", "From the new mailbox", "--timeout", "30"])
            assert code == 0, capsys.readouterr().err
        finally:
            r.store.close()
    finally:
        await engine.stop()
    [headers] = mailbox_headers(dovecot, prospect.email)
    assert f"From: {added.email.split('@')[0].title()} <{added.email}>" in headers
