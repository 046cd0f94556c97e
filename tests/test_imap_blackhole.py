"""A black-holed link: the engine watches a mailbox in IDLE through a relay at the far end of a veth
pair (tests/servers/netns.py), and the link is cut so that packets vanish without an error or a
reset. The kernel's keepalive probes and user timeout on the IMAP socket (app/tls.py) notice it,
with no IMAP traffic and long before the folder poll or the IDLE refresh would (both set far
beyond the test's waits); the watcher reconnects once the link is back and stores the mail that
arrived meanwhile, once. bench/bench_blackhole.py measures how long each step takes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.cli import main
from tests.conftest import build_message, new_users, write_config
from tests.engine_support import logins, rows, running_engine, state, until
from tests.servers.dovecot import Dovecot, ensure_packages
from tests.servers.netns import CuttableLink, LinkUnavailable

FAR_PORT = 993


@pytest.fixture(scope="module")
def link():
    try:
        made = CuttableLink()
    except LinkUnavailable as exc:
        pytest.skip(f"no black-hole test here: {exc}")
    yield made
    made.close()


@pytest.fixture(scope="module")
def far_dovecot(link):
    """Dovecot listening on this side of the link too, with a certificate for the far address:
    the engine verifies it there as it would any server's."""
    ensure_packages()
    server = Dovecot(listen_also=(link.near,), cert_names=(link.far,))
    server.start()
    link.relay(FAR_PORT, link.near, server.imaps_port)
    yield server
    server.cleanup()


@dataclass(frozen=True)
class Through:
    """Where a config's accounts find their IMAP server: the far end of the link."""
    host: str
    imaps_port: int
    ca_file: Path


def blackholed_config(tmp_path, link, server, users) -> Path:
    # no poll and no IDLE refresh within the test's waits: only the socket can notice the outage
    return write_config(tmp_path / "config.toml", Through(link.far, FAR_PORT, server.ca_file), None, users,
                        poll_interval_seconds=3600, idle_refresh_minutes=28)


@pytest.mark.slow
async def test_a_black_holed_link_is_noticed_by_keepalive_and_the_mail_caught_up(
        link, far_dovecot, tmp_path, caplog, capsys) -> None:
    caplog.set_level(logging.INFO, logger="app")
    [user] = new_users(far_dovecot, 1)
    config_path = blackholed_config(tmp_path, link, far_dovecot, [user])
    before = build_message(user.email, subject="Re: before the outage", body="Send the deck.")
    far_dovecot.deliver(user.email, before.as_bytes())
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 1, 30, "first sync through the link")
        await until(lambda: far_dovecot.sessions_in_idle(user.email) == 1, 30, "engine in IDLE")

        await asyncio.to_thread(link.cut)
        during = build_message(user.email, subject="Re: during the outage", body="Call me Tuesday.")
        await asyncio.to_thread(far_dovecot.deliver, user.email, during.as_bytes())  # LMTP here: not cut

        await until(lambda: state(store, user.email) == "backoff", 120, "dead link noticed")
        # the kernel gave up on the socket (ETIMEDOUT): not the engine's own 60 s command timeout
        row = store.account_row(user.email)
        assert "link went silent" in row["last_error"], row["last_error"]
        assert "retrying in" in row["hint"]
        assert [r["subject"] for r in rows(store)] == ["Re: before the outage"]
        assert main(["accounts", "list", "--config", str(config_path)]) == 0
        listed = capsys.readouterr().out
        assert "backoff" in listed and "link went silent" in listed

        await asyncio.to_thread(link.restore)
        await until(lambda: len(rows(store)) == 2, 120, "mail of the outage stored after the reconnect")
        await until(lambda: state(store, user.email) == "idle", 30, "idle again")
        stored = [r["message_id"] for r in rows(store)]
        assert sorted(stored) == sorted([before["Message-ID"], during["Message-ID"]])
        assert state(store, user.email) == "idle" and store.account_row(user.email)["last_error"] is None
    # caught up on the first reconnect: one outage, one new login, no retry storm
    backoffs = [r.getMessage() for r in caplog.records if " backoff after " in r.getMessage()]
    assert len(backoffs) == 1, backoffs
    assert logins(far_dovecot, user.email) == 2
