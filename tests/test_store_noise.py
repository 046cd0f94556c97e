"""Noise in the store: the Replies view, its counts, arrivals, leads and reply rates hold replies
only; the Noise view and ``list --kind``; warmup mail never gets a server operation; warmup marks;
re-applying tags in one pass that keeps labels; the migration from 'human' to 'reply'; the config
keys and the CSV columns that carry tags."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from app.config import parse_config
from app.errors import ConfigError
from app.mail.noise import NoiseContext
from app.noise import noise_context, noise_contexts
from app.store import InboxFilter, Store
from app.store.db import now
from tests.conftest import ROOT
from tests.storefill import incoming


@pytest.fixture
def store(store_target):
    s = Store(store_target())
    yield s
    s.close()


def conv_of(store: Store, uid: int) -> int:
    return store.db.conn.execute("SELECT conversation_id FROM messages WHERE uid = ?", (uid,)).fetchone()[0]


def fill(store: Store) -> None:
    t = now()
    store.ensure_account("a", "ana@acme.io")
    store.add_messages("a", [
        incoming(1, "<r1@p>", "Re: pricing", "bob@p.example", category="interested", received_at=t - 50),
        incoming(2, "<w1@p>", "catch up A6133FE", "w1@warm.example", kind="warmup", category="warmup",
                 received_at=t - 40),
        incoming(3, "<i1@p>", "lunch?", "ben@acme-mail.com", kind="internal", category="internal",
                 received_at=t - 30),
        incoming(4, "<n1@p>", "Weekly digest", "news@saas.example", kind="bulk", category="bulk",
                 received_at=t - 20),
        incoming(5, "<w2@p>", "Re: hello", "w2@warm.example", kind="warmup", category="warmup",
                 received_at=t - 10),
    ])


def test_the_replies_view_holds_replies_only_and_noise_has_its_own(store):
    fill(store)
    counts = store.view_counts()
    assert (counts["replies"], counts["noise"], counts["all"]) == (1, 4, 5)
    assert [r["counterpart"] for r in store.conversations_at(InboxFilter(), 0, 10)] == ["bob@p.example"]
    noise = store.conversations_at(InboxFilter(view="noise"), 0, 10)
    assert [(r["kind"], r["reason"]) for r in noise][:2] == [("warmup", "test: warmup"), ("bulk", "test: bulk")]
    assert store.category_counts(InboxFilter(view="noise")) == {"warmup": 2, "internal": 1, "bulk": 1}
    assert [r["uid"] for r in store.list_messages(kind="reply")] == [1]
    assert [r["uid"] for r in store.list_messages(kind="warmup")] == [5, 2]
    # arrivals (the notice and the bell) and leads: replies only
    count, newest = store.arrivals_since(0, store.newest_message_id(), 0)
    assert count == 1 and newest[0]["from_addr"] == "bob@p.example"
    store.set_category([conv_of(store, 2)], "interested")  # a label on warmup mail does not make it a lead
    assert [r["email"] for r in store.leads(("interested",))] == ["bob@p.example"]
    assert store.account_stats(0, 0)["a"]["replies_today"] == 1


def test_nothing_done_to_warmup_mail_is_queued_for_the_server(store):
    fill(store)
    warm, reply, bulk = conv_of(store, 2), conv_of(store, 1), conv_of(store, 4)
    store.set_seen([warm], True)
    store.set_category([warm], "meeting")
    store.archive([warm])
    store.mark_message_answered(store.db.conn.execute("SELECT id FROM messages WHERE uid = 2").fetchone()[0])
    store.undo_last()
    assert store.pending_ops("a") == []
    # locally it all happened
    row = store.db.conn.execute("SELECT seen, category, answered FROM messages WHERE uid = 2").fetchone()
    assert row == (1, "meeting", 1)
    # replies and bulk mail behave as before
    store.set_seen([reply, bulk], True)
    store.archive([bulk])
    ops = sorted((o["uid"], o["op"]) for o in store.pending_ops("a"))
    assert ops == [(1, "add_flags"), (4, "add_flags"), (4, "move")]


def test_a_warmup_mark_moves_the_thread_to_noise_survives_a_rescan_and_can_be_taken_back(store):
    fill(store)
    reply = conv_of(store, 1)
    store.set_seen([reply], True)  # an op still waiting: marking drops it
    assert store.mark_warmup([reply]) == 1
    assert store.pending_ops("a") == []
    assert store.view_counts()["replies"] == 0 and store.is_marked_warmup(reply)
    # a UIDVALIDITY change: the rows go, the mark comes back with the message
    store.forget_folder("a", "INBOX", 2)
    store.add_messages("a", [incoming(1, "<r1@p>", "Re: pricing", "bob@p.example", category="interested",
                                      uidvalidity=2)])
    conv = conv_of(store, 1)
    assert store.conversation(conv)["kind"] == "warmup"
    store.set_seen([conv], True)
    assert store.pending_ops("a") == []
    assert store.mark_warmup([conv], warmup=False) == 1
    assert store.conversation(conv)["kind"] == "reply" and store.conversation(conv)["category"] == "interested"


def test_reapplying_tags_is_one_pass_with_progress_that_keeps_labels(store):
    store.ensure_account("a", "ana@acme.io")
    store.add_messages("a", [
        incoming(1, "<t1@p>", "hello group-broth", "x@w.example"),
        incoming(2, "<t2@p>", "Re: hi", "y@w.example", text="Fine thanks.\n\n> earlier\n> Group-Broth"),
        incoming(3, "<t3@p>", "Re: hi", "z@w.example", text="We met the group-brothers."),
        incoming(4, "<t4@p>", "Re: yes", "pat@p.example", category="interested", text="yes group-broth"),
    ])
    store.set_category([conv_of(store, 4)], "meeting")  # the user's label
    store.set_seen([conv_of(store, 1)], True)
    seen: list[tuple[int, int]] = []
    ctx = NoiseContext.of(["group-broth"])
    result = store.reapply_warmup(lambda account: ctx, lambda done, total: seen.append((done, total)))
    assert (result.to_warmup, result.from_warmup) == (3, 0)
    assert seen[-1] == (4, 4)
    kinds = dict(store.db.conn.execute("SELECT uid, kind FROM messages"))
    assert kinds == {1: "warmup", 2: "warmup", 3: "reply", 4: "warmup"}
    assert store.db.conn.execute("SELECT category, category_source FROM messages WHERE uid = 4").fetchone() == \
        ("meeting", "user")
    reasons = json.loads(store.db.conn.execute("SELECT reasons FROM messages WHERE uid = 2").fetchone()[0])
    assert reasons == ["warmup tag 'group-broth' in the text"]
    assert store.pending_ops("a") == []  # the \Seen waiting for message 1 is dropped
    assert store.view_counts()["noise"] == 3
    # the tag taken out of the config: the messages are classified again from what is stored
    result = store.reapply_warmup(lambda account: NoiseContext())
    assert result.from_warmup == 3
    assert dict(store.db.conn.execute("SELECT uid, kind FROM messages"))[1] == "reply"
    assert store.db.conn.execute("SELECT category FROM messages WHERE uid = 4").fetchone()[0] == "meeting"


def test_a_version_2_database_calls_its_human_replies_replies(tmp_path):
    """SQLite only: a PostgreSQL store starts at a later version."""
    from app.store.db import _statements
    from app.store.schema import MIGRATIONS

    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO conversations (id, account, thread_key, kind, last_inbound_at) "
                 "VALUES (1, 'a', 't', 'human', 1)")
    conn.execute("INSERT INTO messages (account, folder, uidvalidity, uid, received_at, conversation_id, kind, "
                 "category) VALUES ('a', 'INBOX', 1, 1, 1, 1, 'human', 'interested'), "
                 "('a', 'INBOX', 1, 2, 1, 1, 'bounce', 'bounce')")
    conn.commit()
    conn.close()
    s = Store(path)
    try:
        assert s.db.conn.execute("SELECT kind, auto_kind FROM messages ORDER BY uid").fetchall() == \
            [("reply", "reply"), ("bounce", "bounce")]
        assert s.view_counts()["replies"] == 1
    finally:
        s.close()


def test_list_kind_filters_and_an_unknown_kind_is_one_line(store_target, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[general]\ndatabase = "{store_target()}"\n')
    s = Store(store_target())
    fill(s)
    s.close()

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app", "--config", str(cfg), *args], cwd=ROOT,
                              capture_output=True, text=True)

    proc = cli("list", "--json", "--kind", "reply")
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["kind"] for x in proc.stdout.splitlines()] == ["reply"]
    rows = [json.loads(x) for x in cli("list", "--json").stdout.splitlines()]
    assert {r["kind"] for r in rows} == {"reply", "warmup", "internal", "bulk"}
    assert rows[0]["reason"] == "test: warmup"
    bad = cli("list", "--kind", "humans")
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "unknown kind 'humans'" in bad.stderr


def test_noise_contexts_of_many_mailboxes_share_one_address_set():
    """Thousands of mailboxes: every context holds every address, so a set per mailbox would grow
    with the square of their number; one set is shared, and the mailboxes without tags of their
    own share one context (the parse worker is not sent a new one at each change of mailbox)."""
    accounts = [{"email": f"m{i}@acme.io", "provider": "google"} for i in range(3000)]
    accounts[7]["warmup_tag"] = "lemon-tiger"
    config = parse_config({"general": {"warmup_tags": ["A6133FE"], "own_domains": ["acme.dev"]},
                           "accounts": accounts})
    of = noise_contexts(config)
    contexts = [of(a.id) for a in config.accounts]
    assert len({id(c.own_addresses) for c in contexts}) == 1
    assert len({id(c) for c in contexts}) == 2
    assert contexts[7].warmup_tags == ("A6133FE", "lemon-tiger") and contexts[8].warmup_tags == ("A6133FE",)
    assert "m2999@acme.io" in contexts[0].own_addresses and contexts[0].own_domains == {"acme.dev"}
    assert of("not-configured") == contexts[0]


def test_noise_settings_in_the_config():
    config = parse_config({"general": {"warmup_tags": ["A6133FE"], "own_domains": ["acme.dev"]},
                           "accounts": [
                               {"email": "ana@acme.io", "provider": "google", "warmup_tag": "group-broth"},
                               {"email": "ben@acme.io", "provider": "google", "warmup_tag": ["x1-y2", "z3"]}]})
    ana = noise_context(config, "ana@acme.io")
    assert ana.warmup_tags == ("A6133FE", "group-broth")
    assert ana.own_addresses == {"ana@acme.io", "ben@acme.io"} and ana.own_domains == {"acme.dev"}
    assert noise_context(config, "ben@acme.io").warmup_tags == ("A6133FE", "x1-y2", "z3")
    for bad, key in (({"general": {"warmup_tags": ["--"]}}, "general.warmup_tags[0]"),
                     ({"general": {"own_domains": ["localhost"]}}, "general.own_domains[0]"),
                     ({"accounts": [{"email": "a@b.io", "provider": "google", "warmup_tag": 5}]},
                      "accounts[0].warmup_tag")):
        with pytest.raises(ConfigError) as err:
            parse_config(bad)
        assert key in str(err.value)


def test_the_csv_import_reads_the_vendors_warmup_tag_columns(tmp_path):
    from app.commands.accounts_csv import read_accounts

    path = tmp_path / "m.csv"
    path.write_text("email,imap_host,imap_password,smtp_host,warmup_key_id,warmup_custom_ftag\n"
                    "a@x.io,imap.x.io,pw,smtp.x.io,group-broth,\n"
                    "b@x.io,imap.x.io,pw,smtp.x.io,,A6133FE\n"
                    "c@x.io,imap.x.io,pw,smtp.x.io,,\n")
    result = read_accounts(path, set())
    assert result.problems == [] and result.ignored_columns == []
    assert [a.table.get("warmup_tag") for a in result.accounts] == ["group-broth", "A6133FE", None]

