"""Only real replies reach the operator, against Dovecot: 200 warmup messages (the tag in the
subject, in the text, only in the quote, in any case; the tag inside a longer word is no tag),
20 prospects' replies, 10 messages from another configured mailbox and 10 newsletters land in a
mailbox's INBOX. The Replies view and ``list --kind reply`` show exactly the 20; the user opens,
labels, marks unread and archives warmup messages in the inbox, and a plain IMAP FETCH finds
their flags and folders on the server as they were. Replies and bulk mail still reach it."""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import subprocess
import sys
from email.utils import make_msgid

from app import config_file
from app.config import load_config
from app.engine import Engine
from app.store import InboxFilter, Store
from app.ui import ReplydeskApp
from app.ui.conversation import ConversationScreen
from app.ui.inbox_list import InboxList
from tests.conftest import ROOT, build_message
from tests.engine_support import logins, other_client, rows, running_engine, state
from tests.engine_support import until as until_true
from tests.ui_seed import screen_text, until

GENERAL_TAG = "A6133FE"
ACCOUNT_TAG = "group-broth"
QUOTE = "\n\nOn Mon, 2 Mar 2026 at 10:00, {me} wrote:\n> How are things going?\n> {tag}\n"


def warmup(i: int, to: str):
    """Warmup as the networks send it: the tag somewhere, in some case, from rotating senders."""
    sender = f"Friend {i} <friend{i}@net{i % 37}.example>"
    text = f"Lovely week here, the garden is green again (note {i})."
    variant = i % 5
    if variant == 0:
        return build_message(to, from_addr=sender, subject=f"Catching up {GENERAL_TAG} {i}", body=text)
    if variant == 1:
        return build_message(to, from_addr=sender, subject=f"Quick note {i}", body=f"{text}\n\n{GENERAL_TAG.lower()}")
    if variant == 2:  # only in the quoted part, as in a reply inside a warmup thread
        return build_message(to, from_addr=sender, subject=f"Re: weekend {i}",
                             body="Thanks, will do!" + QUOTE.format(me=to, tag=ACCOUNT_TAG.title()))
    if variant == 3:
        return build_message(to, from_addr=sender, subject=f"{ACCOUNT_TAG.upper()} hello {i}", body=text)
    return build_message(to, from_addr=sender, subject=f"Books {i}", body=f"{text} ({ACCOUNT_TAG})")


LONGER_WORDS = [f"x{GENERAL_TAG}", f"{GENERAL_TAG}Z", f"{ACCOUNT_TAG}s", f"re{ACCOUNT_TAG}", f"{GENERAL_TAG}_1"]


def reply(i: int, to: str):
    """A prospect's answer to a cold email; some carry a tag inside a longer word."""
    extra = f" Our ref {LONGER_WORDS[i]}." if i < len(LONGER_WORDS) else ""
    cold = make_msgid(domain="acme.example")
    return build_message(to, from_addr=f"Prospect {i} <p{i}@company{i}.example>", subject=f"Re: Idea for company {i}",
                         body=f"Sounds interesting, can we talk Friday?{extra}", in_reply_to=cold)


def newsletter(i: int, to: str):
    return build_message(to, from_addr="SaaS Weekly <news@letters.example>", subject=f"Weekly digest #{i}",
                         body="This week in SaaS.", extra_headers={
                             "List-Id": "<weekly.letters.example>",
                             "List-Unsubscribe": "<https://letters.example/u>", "Precedence": "bulk"})


def deliver_all(dovecot, to: str, other: str) -> dict[str, list[str]]:
    """One LMTP session; newest last: internal, bulk, replies, then the warmup mail."""
    ids: dict[str, list[str]] = {"internal": [], "bulk": [], "reply": [], "warmup": []}
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=120) as lmtp:
        for kind, make, n in (
                ("internal", lambda i: build_message(to, from_addr=f"Ben <{other}>", subject=f"lunch {i}?",
                                                     body="Are we still on for lunch?"), 10),
                ("bulk", lambda i: newsletter(i, to), 10),
                ("reply", lambda i: reply(i, to), 20),
                ("warmup", lambda i: warmup(i, to), 200)):
            for i in range(n):
                msg = make(i)
                lmtp.sendmail("sender@example.net", [to], msg.as_bytes())
                ids[kind].append(msg["Message-ID"])
    return ids


def server_state(dovecot, user) -> dict[str, tuple[str, str]]:
    """Message-ID -> (folder, flags), read with a plain IMAP FETCH (EXAMINE: changes nothing)."""
    state: dict[str, tuple[str, str]] = {}
    with other_client(dovecot, user) as imap:
        for folder in ("INBOX", "Archive"):
            typ, _ = imap.select(folder, readonly=True)
            assert typ == "OK", folder
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            assert typ == "OK"
            for item in data:
                if not isinstance(item, tuple):
                    continue
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                mid = re.search(rb"<[^>]+>", item[1])
                assert flags and mid, item
                # \Recent says which session saw a message first, not what anyone did with it
                kept = sorted(f for f in flags.group(1).decode().split() if f != "\\Recent")
                state[mid.group(0).decode()] = (folder, " ".join(kept))
    return state


def with_account_tag(config_path, email: str) -> None:
    text = config_path.read_text()
    config_path.write_text(text.replace(f'email = "{email}"\n', f'email = "{email}"\nwarmup_tag = "{ACCOUNT_TAG}"\n'))


async def test_only_replies_reach_the_operator_and_warmup_is_untouched_on_the_server(
        dovecot, users, make_config, tmp_path):
    me, colleague = users(2)
    ids = await asyncio.to_thread(deliver_all, dovecot, me.email, colleague.email)
    before = server_state(dovecot, me)
    assert len(before) == 240 and {f for f, _ in before.values()} == {"INBOX"}
    path = make_config(tmp_path, [me, colleague], warmup_tags=[GENERAL_TAG])
    with_account_tag(path, me.email)
    config = load_config(path)
    app = ReplydeskApp(config.database, config, engine=Engine(config, config.database), poll_interval=0.05)
    async with app.run_test(size=(130, 40)) as pilot:
        store = app.store
        assert await until(pilot, lambda: store.count_conversations(InboxFilter(view="all")) == 240, 120), \
            screen_text(app)
        # the Replies view: exactly the 20 prospects
        assert store.view_counts()["replies"] == 20
        assert await until(pilot, lambda: "1 Replies 20" in screen_text(app)), screen_text(app)
        inbox = app.screen.query_one(InboxList)
        assert sorted(inbox.pager.row(i)["counterpart"] for i in range(len(inbox.pager))) == \
            sorted(f"p{i}@company{i}.example" for i in range(20))
        assert store.category_counts(InboxFilter(view="noise")) == {"warmup": 200, "internal": 10, "bulk": 10}
        proc = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "app", "--config", str(path), "list", "--kind", "reply", "--json"],
            cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        listed = [json.loads(x) for x in proc.stdout.splitlines()]
        assert sorted(r["message_id"] for r in listed) == sorted(ids["reply"])
        assert {r["kind"] for r in listed} == {"reply"}

        # the user works on warmup mail in the Noise view: open, label, mark unread, archive
        await pilot.press("6")
        assert await until(pilot, lambda: "6 Noise 220" in screen_text(app)), screen_text(app)
        assert inbox.current["kind"] == "warmup"
        await pilot.press("enter")
        assert await until(pilot, lambda: isinstance(app.screen, ConversationScreen))
        assert await until(pilot, lambda: "Why warmup: warmup tag" in screen_text(app)), screen_text(app)
        await pilot.press("i", "U", "escape")
        await pilot.press("j", "x", "x", "e")
        await pilot.press("n", "j", "enter")
        assert await until(pilot, lambda: isinstance(app.screen, ConversationScreen))
        await pilot.press("e")
        assert await until(pilot, lambda: store.view_counts()["archived"] == 3), screen_text(app)
        touched = store.db.conn.execute(
            "SELECT count(*) FROM messages WHERE kind = 'warmup' AND (seen = 1 OR archived = 1 OR "
            "category_source = 'user')").fetchone()[0]
        assert touched >= 4
        # a reply and a newsletter are still carried to the server, after all of the above
        await pilot.press("1")
        assert await until(pilot, lambda: inbox.current is not None and inbox.current["kind"] == "reply")
        reply_id = store.db.conn.execute("SELECT message_id FROM messages WHERE id = ?",
                                         (inbox.current["id"],)).fetchone()[0]
        await pilot.press("e")
        bulk_conv = store.db.conn.execute("SELECT conversation_id FROM messages WHERE kind = 'bulk' LIMIT 1"
                                          ).fetchone()[0]
        bulk_id = store.db.conn.execute("SELECT message_id FROM messages WHERE conversation_id = ?",
                                        (bulk_conv,)).fetchone()[0]
        store.set_seen([bulk_conv], True)

        def carried() -> bool:
            now = server_state(dovecot, me)
            return now.get(reply_id, ("",))[0] == "Archive" and "\\Seen" in now.get(bulk_id, ("", ""))[1]

        assert await until(pilot, carried, 60), server_state(dovecot, me)
        account_id = store.account_row(me.email)["id"]
        # every operation queued is carried out in the end (on a loaded machine, one the watcher
        # took up while the user worked may still be on its way when the two above are done)
        assert await until(pilot, lambda: store.pending_ops(account_id) == [], 60), store.pending_ops(account_id)
        await pilot.press("q")

    after = server_state(dovecot, me)
    for mid in ids["warmup"]:
        assert after[mid] == before[mid] == ("INBOX", ""), mid
    moved = {mid for mid, (folder, _) in after.items() if folder == "Archive"}
    assert moved == {reply_id}
    s = Store(config.database)
    try:
        assert s.db.conn.execute("SELECT count(*) FROM pending_ops o JOIN messages m ON m.id = o.message "
                                 "WHERE m.kind = 'warmup'").fetchone()[0] == 0
    finally:
        s.close()


async def test_a_new_tag_applies_to_the_next_message_without_reconnecting(dovecot, users, deliver, make_config,
                                                                          tmp_path):
    """A tag added to the config of a running engine (SIGHUP, or a tag accepted in the inbox): the
    stored mail carrying it becomes warmup, the mailbox keeps its connection, and the next message
    carrying the tag is warmup."""
    [me] = users(1)
    path = make_config(tmp_path, [me])
    async with running_engine(path) as (engine, config, store):
        await until_true(lambda: state(store, me.email) == "idle", 30, "idle")
        deliver(me.email, subject="Catching up", body="The garden is green. K9X2ZQ")
        await until_true(lambda: len(rows(store)) == 1, 15, "first message stored")
        assert rows(store)[0]["kind"] == "reply"
        connected = logins(dovecot, me.email)
        config_file.add_warmup_tag(path, "K9X2ZQ")
        await engine.reload(load_config(path))
        # the message stored before is warmup now too: the engine re-applied the tags to the store
        await until_true(lambda: rows(store)[0]["kind"] == "warmup", 15, "stored mail re-classified")
        deliver(me.email, subject="Books", body="Finished the novel. k9x2zq")
        await until_true(lambda: len(rows(store)) == 2, 15, "second message stored")
        assert [r["kind"] for r in rows(store)] == ["warmup", "warmup"]
        assert logins(dovecot, me.email) == connected  # the watcher kept its connection
