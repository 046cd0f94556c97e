"""The engine against Dovecot: many accounts idling at once, push latency, reconnects that lose
and double nothing, UIDVALIDITY rescans that keep labels, a wrong password that stays stopped."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

from app.collector import YOUNG_COLLECTION, fewer_collections
from app.config import load_config
from tests.conftest import build_message
from tests.engine_support import failed_logins, logins, other_client, rows, running_engine, state, until


async def test_twenty_accounts_get_pushed_mail_within_two_seconds(dovecot, users, deliver, make_config,
                                                                 tmp_path) -> None:
    accounts = users(20)
    for u in accounts:
        deliver(u.email, subject="Re: intro", body="Earlier reply")
    config_path = make_config(tmp_path, accounts, idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: all(state(store, u.email) == "idle" for u in accounts), 60, "all idle")
        assert len(rows(store)) == 20
        latencies = []
        for i, u in enumerate(accounts[::4]):
            subject = f"Re: pricing {i}"
            started = time.monotonic()
            await asyncio.to_thread(deliver, u.email, subject=subject, body="What does it cost?")
            await until(lambda subject=subject, u=u: any(r["subject"] == subject for r in rows(store, u.email)),
                        10, "pushed message stored", interval=0.005)
            latencies.append(time.monotonic() - started)
        print(f"push latency (LMTP delivery to row): {[f'{x:.3f}' for x in latencies]} s")
        account_rows = store.accounts()
        assert all(a["last_push"] for a in account_rows if a["id"] in {u.email for u in accounts[::4]})
        assert all(a["last_sync"] for a in account_rows)


async def test_the_engine_walks_young_containers_less_often(dovecot, users, deliver, make_config, tmp_path) -> None:
    """A started engine raises the collector's youngest threshold (its bursts of readings and rows
    are freed before a walk), never lowers one set higher, and leaves a collector switched off."""
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        [user] = users(1)
        deliver(user.email, subject="Re: intro", body="Happy to talk next week")
        async with running_engine(make_config(tmp_path, [user])) as (_, _, store):
            await until(lambda: len(rows(store)) == 1, 30, "the reply stored")
            assert gc.get_threshold() == (YOUNG_COLLECTION, 10, 10)
        gc.set_threshold(YOUNG_COLLECTION * 4, 5, 5)
        fewer_collections()
        assert gc.get_threshold() == (YOUNG_COLLECTION * 4, 5, 5)
        gc.set_threshold(0, 10, 10)
        fewer_collections()
        assert gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)


def server_message_ids(dovecot, email: str) -> list[str]:
    out = dovecot.doveadm("fetch", "-u", email, "hdr.message-id", "mailbox", "INBOX", "ALL")
    return [line.split(":", 1)[1].strip() for line in out.splitlines() if line.lower().startswith("hdr.message-id:")]


class Deliverer(threading.Thread):
    """Delivers a message every ``pause`` seconds round-robin, as prospects would, until stopped;
    remembers the Message-IDs the server accepted (while Dovecot is down, LMTP fails: not sent)."""

    def __init__(self, dovecot, accounts, pause: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.dovecot, self.accounts, self.pause = dovecot, accounts, pause
        self.accepted: dict[str, str] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.halt.is_set():
            to = self.accounts[n % len(self.accounts)].email
            msg = build_message(to, subject=f"Re: steady {n}", body=f"reply {n}")
            try:
                self.dovecot.deliver(to, msg.as_bytes())
            except OSError:
                time.sleep(0.2)
            else:
                self.accepted[msg["Message-ID"]] = to
            n += 1
            time.sleep(self.pause)


async def test_kicks_and_a_server_restart_lose_and_double_nothing(dovecot, users, make_config, tmp_path) -> None:
    accounts = users(3)
    config_path = make_config(tmp_path, accounts, idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: all(state(store, u.email) == "idle" for u in accounts), 30, "all idle")
        feeder = Deliverer(dovecot, accounts)
        feeder.start()
        try:
            for _ in range(3):
                await asyncio.sleep(1.0)
                for u in accounts:
                    await asyncio.to_thread(dovecot.kick, u.email)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(dovecot.stop)
            await asyncio.sleep(1.5)
            await asyncio.to_thread(dovecot.start)
            await asyncio.sleep(2.0)
        finally:
            feeder.halt.set()
            await asyncio.to_thread(feeder.join)
        accepted = dict(feeder.accepted)
        assert len(accepted) > 30

        def stored() -> dict[str, int]:
            counts: dict[str, int] = {}
            for r in rows(store):
                counts[r["message_id"]] = counts.get(r["message_id"], 0) + 1
            return counts
        # a delivery cut by the shutdown may still have been saved: the server's mailboxes are the truth
        on_server = {mid: u.email for u in accounts for mid in server_message_ids(dovecot, u.email)}
        assert set(accepted) <= set(on_server)
        await until(lambda: set(on_server) <= set(stored()), 60, "every message on the server stored")
        counts = stored()
        assert set(counts) == set(on_server)
        assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n != 1}
        for r in rows(store):
            assert r["account"] == on_server[r["message_id"]]
        await until(lambda: all(state(store, u.email) == "idle" for u in accounts), 30, "idle again")


async def test_uidvalidity_change_rescans_without_duplicates_and_keeps_labels(dovecot, users, deliver,
                                                                              make_config, tmp_path) -> None:
    [account] = users(1)
    ids = [deliver(account.email, subject=f"Re: thread {i}", body="Let's talk next week.") for i in range(3)]
    config_path = make_config(tmp_path, [account], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 3, 30, "first sync")
        labelled = next(r for r in rows(store) if r["message_id"] == ids[1])
        store.set_category([labelled["conversation_id"]], "interested")
        await until(lambda: "replydesk-interested" in dovecot.fetch_field(account.email, "flags"), 10,
                    "label mirrored as a keyword")
        old = store.folder_state(account.email, "INBOX").uidvalidity
        await asyncio.to_thread(dovecot.doveadm, "mailbox", "update", "-u", account.email,
                                "--uid-validity", str(old + 1000), "INBOX")
        await asyncio.to_thread(dovecot.kick, account.email)
        await until(lambda: store.folder_state(account.email, "INBOX").uidvalidity == old + 1000, 30,
                    "rescan under the new UIDVALIDITY")
        deliver(account.email, subject="Re: after the rebuild", body="Still interested")
        await until(lambda: len(rows(store)) == 4, 15, "new mail after the rescan")
        now = rows(store)
        assert sorted(r["message_id"] for r in now if r["message_id"] in ids) == sorted(ids)
        assert {r["uidvalidity"] for r in now} == {old + 1000}
        relabelled = next(r for r in now if r["message_id"] == ids[1])
        assert (relabelled["category"], relabelled["category_source"]) == ("interested", "user")


async def test_wrong_password_stops_that_account_only(dovecot, users, deliver, make_config, tmp_path,
                                                      monkeypatch) -> None:
    good, bad = users(2)
    monkeypatch.setenv(bad.env, "not-the-password")
    config_path = make_config(tmp_path, [good, bad], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: state(store, bad.email) == "auth_failed", 30, "auth_failed")
        row = store.account_row(bad.email)
        assert "login failed" in row["last_error"]
        assert "password" in row["hint"]
        await until(lambda: state(store, good.email) == "idle", 30, "the other account idles")
        deliver(good.email, subject="Re: still here", body="ok")
        await until(lambda: len(rows(store, good.email)) == 1, 10, "the other account keeps syncing")
        await asyncio.sleep(8)
        assert state(store, bad.email) == "auth_failed"
        assert 1 <= failed_logins(dovecot, bad.email) <= 3
        assert logins(dovecot, good.email) == 1


async def test_reload_adds_and_removes_accounts_without_dropping_others(dovecot, users, deliver, make_config,
                                                                        tmp_path) -> None:
    first, second = users(2)
    config_path = make_config(tmp_path, [first], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: state(store, first.email) == "idle", 30, "first idles")
        make_config(tmp_path, [first, second], idle_refresh_minutes=5)
        await engine.reload(load_config(config_path))
        await until(lambda: state(store, second.email) == "idle", 30, "added account idles")
        make_config(tmp_path, [second], idle_refresh_minutes=5)
        await engine.reload(load_config(config_path))
        await until(lambda: state(store, first.email) == "stopped", 10, "removed account stopped")
        deliver(second.email, subject="Re: hello", body="hi")
        await until(lambda: len(rows(store, second.email)) == 1, 10, "kept account syncs")
        assert logins(dovecot, second.email) == 1


async def test_a_reply_filed_in_junk_is_found_by_the_poll(dovecot, users, make_config, tmp_path) -> None:
    [user] = users(1)
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5, poll_interval_seconds=1)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: state(store, user.email) == "idle", 20, "idle")
        raw = build_message(user.email, subject="Re: landed in spam", body="Yes, interested!").as_bytes()

        def spam_filter_files_it() -> None:
            with other_client(dovecot, user) as imap:
                imap.append("Junk", None, None, raw)
        await asyncio.to_thread(spam_filter_files_it)
        await until(lambda: [r["folder"] for r in rows(store)] == ["Junk"], 10, "Junk polled")
        assert store.list_messages()[0]["subject"] == "Re: landed in spam"


async def test_a_recreated_folder_gets_the_label_keywords_back(dovecot, users, deliver, make_config,
                                                               tmp_path) -> None:
    """The folder is rebuilt while no engine runs: new UIDVALIDITY, and the messages come back
    without their keywords. The labels kept here go back on the server as keywords, so another
    machine sees them again."""
    [account] = users(1)
    ids = [deliver(account.email, subject=f"Re: thread {i}", body="Let's talk next week.") for i in range(2)]
    config_path = make_config(tmp_path, [account], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 2, 30, "first sync")
        labelled = next(r for r in rows(store) if r["message_id"] == ids[0])
        store.set_category([labelled["conversation_id"]], "meeting")
        await until(lambda: "replydesk-meeting" in dovecot.fetch_field(account.email, "flags"), 10,
                    "label mirrored as a keyword")
        old = store.folder_state(account.email, "INBOX").uidvalidity
    # rebuilt without the engine: the keyword is gone and the UIDs are new
    await asyncio.to_thread(dovecot.doveadm, "flags", "remove", "-u", account.email, "replydesk-meeting",
                            "mailbox", "INBOX", "ALL")
    await asyncio.to_thread(dovecot.doveadm, "mailbox", "update", "-u", account.email,
                            "--uid-validity", str(old + 1000), "INBOX")
    assert "replydesk-meeting" not in dovecot.fetch_field(account.email, "flags")
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: store.folder_state(account.email, "INBOX").uidvalidity == old + 1000, 30,
                    "rescan under the new UIDVALIDITY")
        await until(lambda: "replydesk-meeting" in dovecot.fetch_field(account.email, "flags"), 20,
                    "the keyword is back on the server")
        again = next(r for r in rows(store) if r["message_id"] == ids[0])
        assert (again["category"], again["category_source"]) == ("meeting", "user")
