"""Junk and Sent while the engine idles on INBOX: told by the server (NOTIFY, RFC 5465) where it
offers it, so at 5,000 mailboxes nothing is polled; else polled, in one LIST-STATUS where the
server has it, else STATUS each. What the engine sent is read from Dovecot's own record of the
session (its rawlog)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import build_message, ensure_packages, new_users, write_config
from tests.engine_support import other_client, rows, running_engine, state, until
from tests.servers.dovecot import Dovecot


async def file_into(server: Dovecot, user, folder: str, subject: str) -> None:
    """Another client (a spam filter, a phone's mail app) puts a message in ``folder``."""
    raw = build_message(user.email, subject=subject, body="Yes, interested!").as_bytes()

    def append() -> None:
        with other_client(server, user) as imap:
            imap.append(folder, None, None, raw)
    await asyncio.to_thread(append)


def engine_commands(server: Dovecot, email: str) -> list[str]:
    """What the engine's sessions sent (the other client's APPEND sessions left out)."""
    return [c for c in server.commands(email) if not c.upper().startswith(("APPEND", "LOGIN"))]


async def test_junk_and_sent_are_told_by_notify_and_never_polled(dovecot, tmp_path) -> None:
    """Polls due every second, yet after its first look the engine sends neither STATUS nor
    LIST-STATUS: the server announces the reply filed in Junk and the message put in Sent while
    the engine stays in IDLE."""
    [user] = new_users(dovecot, 1)
    dovecot.record_commands(user.email)
    config_path = write_config(tmp_path / "config.toml", dovecot, None, [user], idle_refresh_minutes=5,
                               poll_interval_seconds=1)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: state(store, user.email) == "idle", 20, "idle")
        await file_into(dovecot, user, "Junk", "Re: landed in spam")
        await until(lambda: [r["folder"] for r in rows(store)] == ["Junk"], 10, "Junk announced")
        await file_into(dovecot, user, "Sent", "Following up")
        await until(lambda: sorted(r["folder"] for r in rows(store)) == ["Junk", "Sent"], 10, "Sent announced")
        await until(lambda: state(store, user.email) == "idle", 20, "idle again")
    sent = engine_commands(dovecot, user.email)
    assert [c for c in sent if c.startswith("NOTIFY")] == [
        'NOTIFY SET (selected (MessageNew MessageExpunge FlagChange)) '
        '(mailboxes ("Junk" "Sent") (MessageNew MessageExpunge FlagChange))']
    assert not [c for c in sent if c.upper().startswith("STATUS")]
    assert sum("RETURN (STATUS" in c for c in sent) == 1  # the session's first look; no poll after it
    # Dovecot names both folders each time; only the one whose numbers moved is selected (both
    # were empty at the start: not selected then)
    assert sent.count('SELECT "Junk"') == 1 and sent.count('SELECT "Sent"') == 1, sent


@pytest.fixture(scope="module", params=[("NOTIFY",), ("NOTIFY", "LIST-STATUS")],
                ids=["list-status", "status-each"])
def polled_server(request):
    ensure_packages()
    server = Dovecot(without=request.param)
    server.start()
    yield server, request.param
    server.cleanup()


def looks_with_done(reads: list[list[str]]) -> list[list[str]]:
    """The reads in which the server got a DONE and then the look (LIST-STATUS, or a STATUS)."""
    return [read for read in reads if len(read) >= 2 and read[0] == "DONE"
            and ("RETURN (STATUS" in read[1].upper() or read[1].upper().startswith("STATUS"))]


async def test_without_notify_junk_and_sent_are_polled_in_one_command_where_offered(polled_server,
                                                                                     tmp_path) -> None:
    """Polled in one LIST-STATUS where the server has it, else a STATUS each; a poll due when
    IDLE's wait is up goes out in one write: DONE, the look and, where the look is one command,
    the next IDLE reach the server in one read (Dovecot's rawlog). Their answers are told apart
    (the IDLE's OK, the look's, IDLE's continuation), so a reply filed in Junk between two polls
    is found by the next, which ends that IDLE first."""
    server, without = polled_server
    [user] = new_users(server, 1)
    server.record_commands(user.email)
    config_path = write_config(tmp_path / "config.toml", server, None, [user], idle_refresh_minutes=5,
                               poll_interval_seconds=1)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(looks_with_done(server.command_reads(user.email))) >= 2, 20, "two polls")
        await file_into(server, user, "Junk", "Re: landed in spam")
        await until(lambda: [r["folder"] for r in rows(store)] == ["Junk"], 10, "Junk polled")
        assert state(store, user.email) != "error"
    sent = engine_commands(server, user.email)
    assert not [c for c in sent if c.startswith("NOTIFY")]
    list_status = [c for c in sent if "RETURN (STATUS" in c.upper()]
    status = [c for c in sent if c.upper().startswith("STATUS")]
    looks = looks_with_done(server.command_reads(user.email))
    assert looks
    if "LIST-STATUS" in without:
        assert status and not list_status
        assert {c.split()[1] for c in status} == {'"Junk"', '"Sent"'}
        # a STATUS each: the next IDLE waits for the second
        assert all(len(read) == 2 and read[1].startswith('STATUS "Junk"') for read in looks), looks
    else:
        assert list_status and not status
        assert list_status[0].startswith('LIST "" ("Junk" "Sent") RETURN (STATUS (UIDNEXT UIDVALIDITY MESSAGES')
        # the whole look in one command: the next IDLE goes with it
        assert all(len(read) == 3 and read[1] == list_status[0] and read[2] == "IDLE" for read in looks), looks


async def test_a_session_looks_at_junk_and_sent_with_one_command_and_selects_only_what_changed(
        dovecot, tmp_path) -> None:
    """At the start of each session one LIST-STATUS tells whether Junk and Sent need a sync: an
    empty folder never synced and a folder whose numbers match the store are not selected (at a
    cold start of 5,000 mailboxes, six commands a mailbox fewer); a folder with mail is synced."""
    empty, filed = new_users(dovecot, 2)
    await file_into(dovecot, filed, "Junk", "Re: filed before the start")
    for user in (empty, filed):
        dovecot.record_commands(user.email)  # the engine's sessions only
    config_path = write_config(tmp_path / "config.toml", dovecot, None, [empty, filed], idle_refresh_minutes=5)
    for _session in range(2):  # a start, then a restart with nothing changed on the server
        async with running_engine(config_path) as (engine, config, store):
            await until(lambda: all(state(store, u.email) == "idle" for u in (empty, filed)), 30, "all idle")
            assert [r["subject"] for r in rows(store)] == ["Re: filed before the start"]
    for user in (empty, filed):
        sent = engine_commands(dovecot, user.email)
        assert sum('RETURN (STATUS' in c for c in sent) == 2, sent  # one a session
        assert sent.count('SELECT "Sent"') == 0, sent
        assert sent.count('SELECT "Junk"') == (1 if user is filed else 0), sent
        assert sent.count('SELECT "INBOX"') == (3 if user is filed else 2), sent  # back after Junk
